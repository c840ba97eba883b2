// An echo server and client over UDP, in the QOTD client's way: each datagram is answered
// with itself, sent back to the address it came from.
//
//   udp_echo server [HOST [PORT [DATAGRAMS]]]    default: 127.0.0.1 8001, one datagram;
//                                                prints the address bound
//   udp_echo client [HOST [PORT [MESSAGE]]]      default message: hello there
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

void server(const sockit::Address& address, long datagrams) {
  sockit::Socket s(sockit::Family::inet, sockit::Type::dgram);
  s.bind(address);
  std::cout << "listening on " << s.getsockname() << std::endl;

  for (long served = 0; served < datagrams; ++served) {
    auto [data, addr] = s.recvfrom(1024);
    s.sendto(data, addr);
  }
}

void client(const sockit::Address& address, const std::string& message) {
  sockit::Socket s(sockit::Family::inet, sockit::Type::dgram);
  // Not in the tutorial: a lost datagram would leave recvfrom waiting forever.
  s.settimeout(5s);
  s.sendto(message, address);
  auto [data, addr] = s.recvfrom(1024);
  std::cout << data << '\n';
}

int main(int argc, char** argv) try {
  const std::string_view role = argc > 1 ? argv[1] : "";
  const std::string host = argc > 2 ? argv[2] : "127.0.0.1";
  const std::uint16_t port = argc > 3 ? sockit::parse_port(argv[3]).value_or_throw("port") : 8001;
  if (role == "server" && argc <= 5) {
    server({host, port}, argc > 4 ? std::stol(argv[4]) : 1);
  } else if (role == "client" && argc <= 5) {
    client({host, port}, argc > 4 ? argv[4] : "hello there");
  } else {
    throw std::invalid_argument("unknown role or wrong number of arguments");
  }
} catch (const sockit::Error& e) {
  std::cerr << "udp_echo: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: udp_echo server [HOST [PORT [DATAGRAMS]]] | udp_echo client [HOST [PORT "
               "[MESSAGE]]]\n";
  return 1;
}
