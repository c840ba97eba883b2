// A program built against an installed sockit: sockit::http::get from a one-shot HTTP server
// on a thread (a blocking socket). Exits 0 when status and body are what the server sent.
#include <sockit/http/client.hpp>
#include <sockit/socket.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace {

using namespace std::chrono_literals;

constexpr std::string_view body = "hello from sockit::http::Client";

// Reads one request head and answers it, then closes.
void answer_one(sockit::Socket& listener) {
  auto [conn, peer] = listener.accept();
  conn.settimeout(5s);
  std::string head;
  while (head.find("\r\n\r\n") == std::string::npos) {
    const std::string chunk = conn.recv(4096);
    if (chunk.empty()) return;
    head += chunk;
  }
  conn.sendall("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\nConnection: close\r\n\r\n" + std::string(body));
}

}  // namespace

int main() {
  try {
    sockit::Socket listener = sockit::create_server({"127.0.0.1", 0});
    listener.settimeout(5s);
    const auto port = listener.getsockname().port();
    std::thread server([&] { answer_one(listener); });
    sockit::http::ClientOptions options;
    options.timeout = 5s;
    const auto reply = sockit::http::get("http://127.0.0.1:" + std::to_string(port) + "/", options);
    server.join();
    if (reply.status != 200 || reply.body != body) {
      std::cerr << "http_get: got " << reply.status << " \"" << reply.body << "\"\n";
      return 1;
    }
    std::cout << "http_get: " << reply.status << ", " << reply.body.size() << " bytes\n";
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "http_get: " << error.what() << '\n';
    return 1;
  }
}
