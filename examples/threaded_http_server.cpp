// The tutorial's threaded HTTP server: the accept loop hands each connection to a thread of
// its own, which answers one request with a small page: 200 for /, 404 for anything else.
//
//   threaded_http_server [HOST [PORT [CLIENTS]]]    default: localhost 8080, serving forever
#include <chrono>
#include <cstdint>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <syncstream>
#include <thread>
#include <utility>
#include <vector>

#include <sockit/socket.hpp>

using namespace std::chrono_literals;

constexpr std::size_t kMaxHead = 8192;
constexpr std::string_view kPage = "<!DOCTYPE html>\n<html><body><h1>Hello!</h1></body></html>\n";
constexpr std::string_view kNotFound =
    "<!DOCTYPE html>\n<html><body><h1>Not Found</h1></body></html>\n";

// The request line and headers, up to the blank line (or all the client sent before closing).
std::string read_head(sockit::Socket& conn) {
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < kMaxHead) {
    const std::string chunk = conn.recv(4096);
    if (chunk.empty()) break;
    head += chunk;
  }
  return head;
}

std::string response(std::string_view status, std::string_view body) {
  return "HTTP/1.1 " + std::string(status) +
         "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + std::string(body);
}

void client_thread(sockit::Socket clientsocket, sockit::Endpoint clientaddr) {
  try {
    clientsocket.settimeout(10s);  // a client that never sends must not hold its thread forever
    std::string method, target;
    std::istringstream(read_head(clientsocket)) >> method >> target;
    if (method.empty()) return;  // the client left without asking anything
    const bool found = target == "/";
    clientsocket.sendall(found ? response("200 OK", kPage) : response("404 Not Found", kNotFound));
    std::osyncstream(std::cout) << clientaddr << " " << method << " " << target << " "
                                << (found ? 200 : 404) << std::endl;
  } catch (const sockit::Error& e) {  // ends this connection only
    std::osyncstream(std::cerr) << "threaded_http_server: " << e.what() << std::endl;
  }
}

int main(int argc, char** argv) try {
  if (argc > 4) throw std::invalid_argument("too many arguments");
  const std::string host = argc > 1 ? argv[1] : "localhost";
  const std::uint16_t port = argc > 2 ? sockit::parse_port(argv[2]).value_or_throw("port") : 8080;
  const long clients = argc > 3 ? std::stol(argv[3]) : -1;  // -1: forever

  sockit::Socket ss = sockit::create_server({host, port});
  // The address bound rather than the one asked for, so that port 0 shows the port chosen.
  std::cout << "Server is listening on " << ss.getsockname() << std::endl;

  std::vector<std::jthread> threads;
  for (long served = 0; clients < 0 || served < clients; ++served) {
    // accept connections from outside
    auto [clientsocket, clientaddr] = ss.accept();
    // The tutorial's ct.run() would serve the client in this thread; a new thread does, and
    // this one goes back to accepting.
    std::jthread ct(client_thread, std::move(clientsocket), clientaddr);
    // Serving forever, nothing would join a finished thread, which holds its stack till joined.
    if (clients < 0) {
      ct.detach();
    } else {
      threads.push_back(std::move(ct));
    }
  }
  ss.close();
} catch (const sockit::Error& e) {
  std::cerr << "threaded_http_server: " << e.what() << '\n';
  return 1;
} catch (const std::logic_error&) {
  std::cerr << "usage: threaded_http_server [HOST [PORT [CLIENTS]]]\n";
  return 1;
}
