// An echo server on select(), the tutorials' third way to serve many clients: one thread
// watches the listening socket and every client at once, and serves whichever is ready.
//
//   select_server [HOST [PORT [CLIENTS]]]    default: localhost 8000 (the tutorial's select
//                                            example's first server), serving forever
#include <cstdint>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <sockit/socket.hpp>

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8000;
  const long clients = argc > 3 ? std::stol(argv[3]) : std::numeric_limits<long>::max();

  sockit::Socket server(sockit::Family::inet, sockit::Type::stream);
  server.bind({host, port});
  server.listen();
  std::cout << "Server is listening on " << server.getsockname() << std::endl;

  std::map<int, sockit::Socket> sockets;  // the clients, by descriptor
  long accepted = 0;
  while (accepted < clients || !sockets.empty()) {
    std::vector<int> readers;
    if (accepted < clients) readers.push_back(server.fileno());
    for (const auto& [fd, sock] : sockets)
      readers.push_back(fd);

    auto [readable, writable, exceptional] = sockit::select(readers, {}, {});

    for (int fd : readable) {
      if (fd == server.fileno()) {
        auto [conn, addr] = server.accept();
        sockets.emplace(conn.fileno(), std::move(conn));
        ++accepted;
        continue;
      }
      const std::string data = sockets.at(fd).recv(1024);
      if (data.empty()) {
        sockets.erase(fd);  // the client closed its side: close ours
      } else {
        sockets.at(fd).sendall(data);
      }
    }
  }
} catch (const sockit::Error& e) {
  std::cerr << "select_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: select_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
