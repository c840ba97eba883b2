// The tutorial's HEAD request, written by hand over a socket: print the first 1024 bytes of
// the answer, the status line and headers.
//
//   head_request [HOST [PORT]]    default: 127.0.0.1 8000, where `python3 -m http.server`
//                                 listens; the tutorial's webcode.me:80 leaves the machine
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
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8000;

  sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
  // Not in the tutorial: a server that never answers must not keep us waiting forever.
  s.settimeout(5s);

  s.connect({host, port});
  s.sendall("HEAD / HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/html\r\n\r\n");
  std::cout << s.recv(1024) << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "head_request: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: head_request [HOST [PORT]]\n";
  return 1;
}
