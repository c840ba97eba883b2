// A program built against an installed sockit: an echo service over the library's server
// framework serves one client (a thread with a blocking socket) and stops. Exits 0 when the
// bytes came back whole.
#include <sockit/server.hpp>
#include <sockit/socket.hpp>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;

constexpr std::string_view message = "hello from an async service of the installed sockit";

class EchoOnce final : public sockit::Service {
 public:
  EchoOnce(sockit::EventLoop& loop, sockit::ServerLimits& limits, sockit::Server& server)
      : Service(loop, "echo", limits), server_(server) {}

 protected:
  sockit::Task<> serve(sockit::Connection& connection) override {
    server_.stop();  // one client, then drain
    std::size_t echoed = 0;
    while (echoed < message.size()) {
      auto received = connection.read(scratch());
      if (!received) {
        if (!co_await connection.stream().wait_readable()) co_return;
        continue;
      }
      if (*received == 0) co_return;
      auto sent =
          co_await connection.send(connection.stream().write_all({scratch().data(), *received}));
      if (!sent) co_return;
      echoed += *sent;
    }
  }

 private:
  sockit::Server& server_;
};

}  // namespace

int main() {
  try {
    sockit::LoopGroup loops(1);
    sockit::ServerLimits limits;
    sockit::Server server(loops);
    const auto echo = server.add_service([&](sockit::EventLoop& loop, std::size_t) {
      return std::make_unique<EchoOnce>(loop, limits, server);
    });
    const auto endpoint =
        server.listen(echo, sockit::Endpoint::from_ip("127.0.0.1", 0).value_or_throw("address"));
    std::string echoed;
    std::thread client;
    server.run(5s, [&] {
      client = std::thread([&] {
        sockit::Socket socket = sockit::create_connection({"127.0.0.1", endpoint.port()}, 5s);
        socket.sendall(message);
        while (echoed.size() < message.size()) {
          const std::string chunk = socket.recv(4096);
          if (chunk.empty()) break;
          echoed += chunk;
        }
      });
    });
    client.join();
    if (echoed != message) {
      std::cerr << "async_echo: sent \"" << message << "\", got back \"" << echoed << "\"\n";
      return 1;
    }
    std::cout << "async_echo: " << echoed.size() << " bytes echoed by a sockit::Service on "
              << endpoint << '\n';
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "async_echo: " << error.what() << '\n';
    return 1;
  }
}
