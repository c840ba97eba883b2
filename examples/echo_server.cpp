// The tutorial's echo server: accept a client, send back everything it sends until it
// closes its side.
//
//   echo_server [HOST [PORT [CLIENTS]]]    default: localhost 8001, one client (as the
//                                          tutorial's, which accepts once)
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8001;
  const long clients = argc > 3 ? std::stol(argv[3]) : 1;

  sockit::Socket s;

  s.bind({host, port});
  s.listen();
  // The port bound rather than the one asked for, so that port 0 shows the port chosen; and
  // only once listening (the tutorial prints before listen), so that a client that waits
  // for this line is not refused.
  std::cout << "socket binded to " << s.getsockname().port() << std::endl;

  for (long served = 0; served < clients; ++served) {
    auto [con, addr] = s.accept();

    while (true) {
      const std::string data = con.recv(1024);

      if (data.empty()) break;

      con.sendall(data);
    }
  }  // each con is closed as its iteration ends
} catch (const sockit::Error& e) {
  std::cerr << "echo_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: echo_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
