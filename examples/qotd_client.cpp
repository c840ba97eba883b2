// The tutorial's qotd_client: an empty datagram to a Quote of the Day service (RFC 865),
// and the quote it sends back.
//
//   qotd_client [HOST [PORT]]    default: 127.0.0.1 8017, where `make run` (sockit serve)
//                                answers QOTD; the tutorial's djxmmx.net:17 leaves the
//                                machine, and port 17 would need root to serve locally
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

int main(int argc, char** argv) try {
  if (argc > 3) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8017;

  sockit::Socket s(sockit::Family::inet, sockit::Type::dgram);
  // Not in the tutorial: a lost datagram would leave recvfrom waiting forever.
  s.settimeout(5s);

  const std::string message;
  const sockit::Address addr{host, port};

  s.sendto(message, addr);

  auto [data, address] = s.recvfrom(1024);
  std::cout << data << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "qotd_client: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: qotd_client [HOST [PORT]]\n";
  return 1;
}
