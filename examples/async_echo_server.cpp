// The tutorial's asyncio server as a service of sockit's server framework: for each client,
// read once, write it back, close; every client is a coroutine of its own, so none waits for
// another.
//
//   async_echo_server [HOST [PORT [CLIENTS]]]    default: localhost 8001, serving forever
//                                                (as the tutorial's run_forever)
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include <sockit/server.hpp>

class EchoOnce final : public sockit::Service {
 public:
  EchoOnce(sockit::EventLoop& loop, sockit::ServerLimits& limits, sockit::Server& server,
           long clients)
      : Service(loop, "echo", limits), server_(server), clients_(clients) {}

 protected:
  sockit::Task<> serve(sockit::Connection& connection) override {
    // The last client to serve: stop accepting; run() returns once every handler has ended
    // (asyncio.run would cancel them instead).
    if (++accepted_ == clients_) server_.stop();
    char data[1024];
    auto n = connection.read(data);
    // The stream's own wait, not wait_for_request(): stopping must not end it.
    while (!n) {
      if (!co_await connection.stream().wait_readable()) co_return;
      n = connection.read(data);
    }
    // The tutorial's handler closes after one reply, sent or not.
    if (*n > 0)
      static_cast<void>(co_await connection.send(connection.stream().write_all({data, *n})));
  }

 private:
  sockit::Server& server_;
  long clients_;
  long accepted_ = 0;
};

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8001;
  const long clients = argc > 3 ? std::stol(argv[3]) : std::numeric_limits<long>::max();

  sockit::LoopGroup loops(1);
  sockit::ServerLimits limits;
  limits.idle_timeout = std::chrono::seconds(0);  // the tutorial waits for a client forever
  sockit::Server server(loops);
  const auto echo = server.add_service([&](sockit::EventLoop& loop, std::size_t) {
    return std::make_unique<EchoOnce>(loop, limits, server, clients);
  });
  const auto address =
      sockit::resolve({host, port}, sockit::Family::unspec, sockit::Type::stream, AI_PASSIVE);
  std::cout << "Serving on " << server.listen(echo, address.front()) << std::endl;
  server.run(std::chrono::hours(24 * 365));  // handlers still running are waited for
} catch (const sockit::Error& e) {
  std::cerr << "async_echo_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: async_echo_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
