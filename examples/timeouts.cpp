// The tutorial's connect timeout, with the reason for a failure named as errno.errorcode
// names it: connect_ex under settimeout, then "Open", or "Closed" and why.
//
//   timeouts HOST PORT [SECONDS]    default: 5 seconds, as the tutorial's (which names no
//                                   host or port of its own)
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

int main(int argc, char** argv) try {
  if (argc < 3 || argc > 4) throw std::invalid_argument("wrong number of arguments");
  const std::string ip = argv[1];
  const std::uint16_t port = sockit::parse_port(argv[2]).value_or_throw("port");
  const double seconds = argc > 3 ? std::stod(argv[3]) : 5;

  sockit::Socket sock;
  sock.settimeout(sockit::Duration(seconds));
  const std::error_code result = sock.connect_ex({ip, port});
  if (!result) {
    std::cout << "Port " << port << ": \t Open\n";
  } else {
    std::cout << "Port " << port << ": \t Closed\n";
    std::cout << "Reason: " << sockit::errno_name(result.value()) << '\n';
  }
  sock.close();
} catch (const sockit::Error& e) {
  std::cerr << "timeouts: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: timeouts HOST PORT [SECONDS]\n";
  return 1;
}
