// The tutorial's simple web server: for each client, read the request, send a fixed page,
// close.
//
//   simple_web_server [HOST [PORT [CLIENTS]]]    default: localhost 8000, serving forever
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <sockit/socket.hpp>

// HTTP ends its lines with CRLF; the tutorial's triple-quoted string has bare LFs, which only
// lenient clients accept.
constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/html\r\n"
    "\r\n"
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "    <title>Simple Web Server</title>\n"
    "</head>\n"
    "<body>\n"
    "    <h1>Hello, World!</h1>\n"
    "</body>\n"
    "</html>\n";

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8000;
  const long clients = argc > 3 ? std::stol(argv[3]) : -1;  // -1: forever

  sockit::Socket sock(sockit::Family::inet, sockit::Type::stream);
  sock.bind({host, port});
  sock.listen(1);
  // The address bound rather than the one asked for, so that port 0 shows the port chosen.
  std::cout << "Server is listening on " << sock.getsockname() << std::endl;

  for (long served = 0; clients < 0 || served < clients; ++served) {
    auto [client_sock, client_address] = sock.accept();
    std::cout << "New client connected: " << client_address << std::endl;
    const std::string request_data = client_sock.recv(1024);
    std::cout << "Received request: " << request_data << std::endl;
    client_sock.sendall(kResponse);
  }  // each client_sock is closed as its iteration ends
} catch (const sockit::Error& e) {
  std::cerr << "simple_web_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: simple_web_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
