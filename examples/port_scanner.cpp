// The tutorial's port scanner: one connection attempt per port, one port after the other.
//
//   port_scanner [HOST [FIRST LAST]]    default: 127.0.0.1, ports 1 to 1023
//   e.g. port_scanner 192.0.2.10 1 1023
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

std::string target = "127.0.0.1";

// The tutorial's try/connect/except-return-False: try_create and connect_ex hand back their
// errors instead of throwing them.
bool portscan(std::uint16_t port) {
  auto s = sockit::Socket::try_create(sockit::Family::inet, sockit::Type::stream);
  return s && !s->connect_ex({target, port});
}

int main(int argc, char** argv) try {
  if (argc == 3 || argc > 4) throw std::invalid_argument("wrong number of arguments");
  if (argc > 1) target = argv[1];
  const unsigned first = argc > 3 ? sockit::parse_port(argv[2]).value_or_throw("first port") : 1;
  const unsigned last = argc > 3 ? sockit::parse_port(argv[3]).value_or_throw("last port") : 1023;

  for (unsigned port = first; port <= last; ++port) {
    if (portscan(static_cast<std::uint16_t>(port))) {
      std::cout << "Port " << port << " is open!\n";
    } else {
      std::cout << "Port " << port << " is closed.\n";
    }
  }
} catch (const sockit::Error& e) {
  std::cerr << "port_scanner: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: port_scanner [HOST [FIRST LAST]]\n";
  return 1;
}
