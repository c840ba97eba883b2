// The tutorial's non-blocking client: connect without waiting, send, and read whatever has
// already arrived; "no data yet" is an answer too, not a failure.
//
//   nonblocking_client [HOST [PORT]]    default: localhost 8000, as the tutorial's
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>

#include <sockit/socket.hpp>

int main(int argc, char** argv) try {
  if (argc > 3) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8000;

  sockit::Socket sock(sockit::Family::inet, sockit::Type::stream);

  sock.setblocking(false);

  sock.connect_ex({host, port});

  const std::string data = "Hello, server!";
  sock.send(data);

  try {
    const std::string received_data = sock.recv(1024);
    std::cout << "Received data: " << received_data << '\n';
  } catch (const sockit::Error& e) {
    if (e.code() == std::errc::operation_would_block) {
      std::cout << "Timeout: No data available\n";
    } else {
      std::cout << "Socket error: " << e.what() << '\n';
    }
  }
} catch (const sockit::Error& e) {
  std::cerr << "nonblocking_client: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: nonblocking_client [HOST [PORT]]\n";
  return 1;
}
