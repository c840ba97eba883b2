// The tutorial's echo client: send "hello there", print what comes back.
//
//   echo_client [HOST [PORT]]    default: localhost 8001, as the tutorial's
#include <chrono>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

int main(int argc, char** argv) try {
  if (argc > 3) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8001;

  sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
  // Not in the tutorial: a server that never answers must not keep us waiting forever.
  s.settimeout(5s);

  s.connect({host, port});
  s.sendall("hello there");
  std::cout << s.recv(4096) << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "echo_client: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: echo_client [HOST [PORT]]\n";
  return 1;
}
