// sockit::http::Client as a library user calls it, against a server thread on loopback that
// answers with a redirect and then the page on the same kept-alive connection.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "sockit/http/client.hpp"
#include "support.hpp"

namespace {

using namespace sockit;
using test::kIoTimeout;

// Reads one request head from connection; "" when the client closed it.
std::string read_head(Socket& connection) {
  std::string data;
  while (data.find("\r\n\r\n") == std::string::npos) {
    const std::string more = connection.recv(4096);
    if (more.empty()) return {};
    data += more;
  }
  return data.substr(0, data.find("\r\n"));
}

TEST(HttpClient, GetFollowsARedirectOnTheSameConnection) {
  test::Listener listener(test::Kind::ipv4);
  const auto port = listener.endpoint().port();
  std::vector<std::string> request_lines;
  int connections = 0;
  std::thread server([&] {
    auto [connection, peer] = listener.socket().accept();
    ++connections;
    connection.settimeout(kIoTimeout);
    request_lines.push_back(read_head(connection));
    connection.sendall("HTTP/1.1 302 Found\r\nLocation: /page\r\nContent-Length: 5\r\n\r\nmoved");
    request_lines.push_back(read_head(connection));
    connection.sendall(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n");
    read_head(connection);  // until the client closes
  });
  http::ClientOptions options;
  options.timeout = kIoTimeout;
  const auto reply = http::get("http://127.0.0.1:" + std::to_string(port) + "/start", options);
  server.join();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.header("content-type"), "text/plain");
  EXPECT_EQ(reply.body, "hello world");
  EXPECT_EQ(request_lines, (std::vector<std::string>{"GET /start HTTP/1.1", "GET /page HTTP/1.1"}));
  EXPECT_EQ(connections, 1);
}

TEST(HttpClient, RedirectsDropCredentialsWhenTheOriginChanges) {
  auto request = [](const std::string& url) {
    http::ClientRequest r;
    r.url = *http::Url::parse(url);
    r.changes = {{"Authorization", "Bearer x"}, {"Cookie", "a=1"}, {"X-Other", "y"}};
    return r;
  };
  auto kept_after = [&](const std::string& from, const std::string& location) {
    http::ResponseHead head;
    head.status = 302;
    head.headers = {{"Location", location}};
    std::vector<std::string> names;
    const auto next = http::redirect(request(from), head);
    for (const auto& change : next->changes)
      names.push_back(change.name);
    return names;
  };
  const std::vector<std::string> all = {"Authorization", "Cookie", "X-Other"};
  const std::vector<std::string> other = {"X-Other"};
  EXPECT_EQ(kept_after("http://h:8080/", "/next"), all);
  EXPECT_EQ(kept_after("http://h:8080/", "http://h:8081/"), other);
  EXPECT_EQ(kept_after("http://h/", "https://h/"), other);
  EXPECT_EQ(kept_after("http://h/", "http://g/"), other);
}

TEST(HttpClient, OnlyIdempotentMethodsAreRetried) {
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
    EXPECT_TRUE(http::is_idempotent(method)) << method;
  for (const char* method : {"POST", "PATCH", "CONNECT", "get"})
    EXPECT_FALSE(http::is_idempotent(method)) << method;
}

}  // namespace
