// The tutorial's asyncio server on sockit's EventLoop: for each client, read once, write it
// back, close; every client is a coroutine of its own, so none waits for another.
//
//   async_echo_server [HOST [PORT [CLIENTS]]]    default: localhost 8001, serving forever
//                                                (as the tutorial's run_forever)
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include <sockit/async.hpp>

sockit::Task<> handle_client(sockit::Stream stream) {
  char data[1024];
  auto n = co_await stream.read_some(data);
  if (n) co_await stream.write_all({data, *n});
}

// asyncio.start_server: a task per client. After the last client to serve it waits for the
// handlers still running (asyncio.run would cancel them instead).
sockit::Task<> serve(sockit::EventLoop& loop, sockit::Listener listener, long clients) {
  std::cout << "Serving on " << listener.socket().getsockname() << std::endl;
  for (long accepted = 0; accepted < clients; ++accepted) {
    auto client = (co_await listener.accept()).value_or_throw("accept");
    sockit::spawn(loop, handle_client(std::move(client.stream)));
  }
  while (loop.live_tasks() > 1)
    co_await sockit::sleep(loop, std::chrono::milliseconds(1));
}

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8001;
  const long clients = argc > 3 ? std::stol(argv[3]) : std::numeric_limits<long>::max();

  sockit::EventLoop loop;
  sockit::run_until_complete(loop, serve(loop, sockit::listen(loop, {host, port}), clients));
} catch (const sockit::Error& e) {
  std::cerr << "async_echo_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: async_echo_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
