// The tutorial's network scanner: every port of a range on every host of a range, each
// connection attempt bounded by half a second.
//
//   network_scanner [NETWORK FIRST LAST [PORT_FIRST PORT_LAST]]
//   default: hosts 127.0.0.1 to 127.0.0.1, ports 1 to 1024;
//   e.g. network_scanner 192.0.2. 1 254 1 1024 for hosts 192.0.2.1 to 192.0.2.254
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

int main(int argc, char** argv) try {
  if (argc == 2 || argc == 3 || argc == 5 || argc > 6) {
    throw std::invalid_argument("wrong number of arguments");
  }
  const std::string network = argc > 1 ? argv[1] : "127.0.0.";
  const unsigned long first_host = argc > 3 ? std::stoul(argv[2]) : 1;
  const unsigned long last_host = argc > 3 ? std::stoul(argv[3]) : 1;
  const unsigned first_port = argc > 5 ? sockit::parse_port(argv[4]).value_or_throw("port") : 1;
  const unsigned last_port = argc > 5 ? sockit::parse_port(argv[5]).value_or_throw("port") : 1024;

  for (unsigned long i = first_host; i <= last_host; ++i) {
    const std::string host = network + std::to_string(i);
    for (unsigned port = first_port; port <= last_port; ++port) {
      // connect_ex returns a refused, unreachable or timed-out attempt as an error code, so
      // nothing is left for the tutorial's bare except to swallow but a failure to create a
      // socket at all, which ends the scan here with an error.
      sockit::Socket sock(sockit::Family::inet, sockit::Type::stream);
      sock.settimeout(0.5s);
      if (!sock.connect_ex({host, static_cast<std::uint16_t>(port)})) {
        std::cout << host << ":" << port << " is open\n";
      }
    }
  }
} catch (const sockit::Error& e) {
  std::cerr << "network_scanner: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: network_scanner [NETWORK FIRST LAST [PORT_FIRST PORT_LAST]]\n";
  return 1;
}
