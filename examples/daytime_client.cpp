// The tutorial's daytime client: connect to a daytime service (RFC 867), send nothing, print
// the time it answers with.
//
//   daytime_client [HOST [PORT]]    default: 127.0.0.1 8013, where `make run` (sockit serve)
//                                   answers daytime; the tutorial's time.nist.gov:13 leaves
//                                   the machine, and port 13 would need root to serve locally
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
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8013;

  sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
  // Not in the tutorial: a server that never answers must not keep us waiting forever.
  s.settimeout(5s);

  s.connect({host, port});
  s.sendall("");
  std::cout << s.recv(4096) << '\n';
} catch (const sockit::Error& e) {
  std::cerr << "daytime_client: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: daytime_client [HOST [PORT]]\n";
  return 1;
}
