// The tutorial's server and client in one process, each on a thread of its own: the client
// says hello, the server answers.
//
//   threaded_server_client [HOST [PORT [CLIENTS]]]    default: 127.0.0.1 9999, one client
//                                                     (the one this program starts)
#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <stdexcept>
#include <string>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

// One write per line, so that the lines of the two threads never mix.
void print(const std::string& line) {
  std::cout << line + '\n' << std::flush;
}

void server(sockit::Socket& s, long clients) {
  for (long served = 0; served < clients; ++served) {
    auto [client, addr] = s.accept();
    print("Connected to ('" + addr.host() + "', " + std::to_string(addr.port()) + ")");
    const std::string data = client.recv(1024);
    // print() shows bytes as b'...'; the text here is plain ASCII, so quoting it is enough.
    print("Received: b'" + data + "'");
    client.send("Hello from server");
  }
}

void client(const sockit::Endpoint& address) {
  sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
  s.connect(address);
  s.send("Hello from client");
  const std::string data = s.recv(1024);
  print("Received: b'" + data + "'");
}

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 9999;
  const long clients = argc > 3 ? std::stol(argv[3]) : 1;
  // Not in the tutorial: every socket's waits are bounded, so that the program always ends.
  sockit::setdefaulttimeout(5s);

  // The tutorial binds inside the server thread and races the client to it; listening first
  // lets the client connect without luck.
  sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
  s.bind({host, port});
  s.listen(5);
  print("Server listening...");

  // std::async rather than std::thread: a failure on either thread reaches main's catch.
  auto t1 = std::async(std::launch::async, server, std::ref(s), clients);
  auto t2 = std::async(std::launch::async, client, s.getsockname());
  t2.get();
  t1.get();
} catch (const sockit::Error& e) {
  std::cerr << "threaded_server_client: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: threaded_server_client [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
