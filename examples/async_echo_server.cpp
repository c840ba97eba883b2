// The tutorial's asyncio server on sockit's EventLoop: for each client, read once, write it
// back, close; every client is a coroutine of its own, so none waits for another.
//
//   async_echo_server [HOST [PORT [CLIENTS]]]    default: localhost 8001, serving forever
//                                                (as the tutorial's run_forever)
#include <cstdint>
#include <exception>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include <sockit/async.hpp>

// Stops the loop when the last of the clients to serve has been served.
struct Countdown {
  sockit::EventLoop& loop;
  long left;

  void done() {
    if (--left == 0) loop.stop();
  }
};

sockit::Task<> handle_client(sockit::Stream stream, Countdown& countdown) {
  char data[1024];
  auto n = co_await stream.read_some(data);

  if (n) co_await stream.write_all({data, *n});
  stream.close();
  countdown.done();
}

// asyncio.start_server: a task per client; only a failing accept ends it.
sockit::Task<> start_server(sockit::Listener& listener, long clients, Countdown& countdown) {
  for (long accepted = 0; accepted < clients; ++accepted) {
    auto client = (co_await listener.accept()).value_or_throw("accept");
    sockit::spawn(listener.loop(), handle_client(std::move(client.stream), countdown));
  }
}

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8001;
  const long clients = argc > 3 ? std::stol(argv[3]) : std::numeric_limits<long>::max();

  sockit::EventLoop loop;
  // asyncio listens on every address of the name; this takes its first IPv4 one.
  auto listener = sockit::listen(loop, sockit::resolve({host, port}, sockit::Family::inet).front());
  std::cout << "Serving on " << listener.socket().getsockname() << std::endl;

  // asyncio logs a failed task and runs on; here it ends the server, and main reports it.
  std::exception_ptr failure;
  loop.set_error_handler([&](std::exception_ptr error) {
    failure = error;
    loop.stop();
  });
  Countdown countdown{loop, clients};
  loop.post([&] { sockit::spawn(loop, start_server(listener, clients, countdown)); });
  loop.run();
  if (failure) std::rethrow_exception(failure);
} catch (const sockit::Error& e) {
  std::cerr << "async_echo_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: async_echo_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
