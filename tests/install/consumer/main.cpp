// A program built against an installed sockit: echoes a message over loopback and checks
// that it came back whole. Exits 0 when it did.
#include <sockit/socket.hpp>
#include <sockit/version.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;

constexpr std::string_view message = "hello from a program using the installed sockit";

// Reads until size bytes arrived or the peer closed; every recv is bounded by the timeout.
std::string recv_exactly(sockit::Socket& socket, std::size_t size) {
  std::string data;
  while (data.size() < size) {
    const std::string chunk = socket.recv(size - data.size());
    if (chunk.empty()) break;
    data += chunk;
  }
  return data;
}

}  // namespace

int main() {
  try {
    sockit::Socket server = sockit::create_server({"127.0.0.1", 0});
    server.settimeout(5s);
    const std::uint16_t port = server.getsockname().port();
    sockit::Socket client = sockit::create_connection({"127.0.0.1", port}, 5s);
    auto [conn, peer] = server.accept();
    conn.settimeout(5s);

    client.sendall(message);
    conn.sendall(recv_exactly(conn, message.size()));
    const std::string echoed = recv_exactly(client, message.size());
    if (echoed != message) {
      std::cerr << "consumer: sent \"" << message << "\", got back \"" << echoed << "\"\n";
      return 1;
    }
    std::cout << "consumer: sockit " SOCKIT_VERSION ", " << echoed.size() << " bytes echoed by "
              << peer << " on port " << port << '\n';
    return 0;
  } catch (const sockit::Error& error) {
    std::cerr << "consumer: " << error.what() << '\n';
    return 1;
  }
}
