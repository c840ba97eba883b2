// The tutorial's echo server and client over IPv6 (AF_INET6), on the loopback address ::1.
//
//   ipv6_echo server [HOST [PORT [CLIENTS]]]    default: ::1 8001, one client; prints the port
//   ipv6_echo client [HOST [PORT]]              sends "hello there", prints the answer
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

void server(const sockit::Address& address, long clients) {
  sockit::Socket s(sockit::Family::inet6, sockit::Type::stream);
  s.bind(address);
  s.listen();
  // As echo_server: the port chosen, once a client can connect.
  std::cout << "socket binded to " << s.getsockname().port() << std::endl;

  for (long served = 0; served < clients; ++served) {
    auto [con, addr] = s.accept();
    while (true) {
      const std::string data = con.recv(1024);
      if (data.empty()) break;
      con.sendall(data);
    }
  }
}

void client(const sockit::Address& address) {
  sockit::Socket s(sockit::Family::inet6, sockit::Type::stream);
  // Not in the tutorial: a server that never answers must not keep us waiting forever.
  s.settimeout(5s);
  s.connect(address);
  s.sendall("hello there");
  std::cout << s.recv(4096) << '\n';
}

int main(int argc, char** argv) try {
  const std::string_view role = argc > 1 ? argv[1] : "";
  const std::string host = argc > 2 ? argv[2] : "::1";
  const std::uint16_t port = argc > 3 ? sockit::parse_port(argv[3]).value_or_throw("port") : 8001;
  if (role == "server" && argc <= 5) {
    server({host, port}, argc > 4 ? std::stol(argv[4]) : 1);
  } else if (role == "client" && argc <= 4) {
    client({host, port});
  } else {
    throw std::invalid_argument("unknown role or wrong number of arguments");
  }
} catch (const sockit::Error& e) {
  std::cerr << "ipv6_echo: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: ipv6_echo server [HOST [PORT [CLIENTS]]] | ipv6_echo client [HOST [PORT]]\n";
  return 1;
}
