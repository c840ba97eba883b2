#include "support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <ostream>
#include <system_error>

namespace sockit::test {
namespace {

std::string fresh_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

Endpoint fresh_endpoint(Kind kind, std::string& path) {
  switch (kind) {
    case Kind::ipv4:
      return Endpoint::loopback(Family::inet, 0);
    case Kind::ipv6:
      return Endpoint::loopback(Family::inet6, 0);
    case Kind::unix_path:
      path = fresh_unix_path();
      return Endpoint::from_path(path).value_or_throw("unix path " + path);
    case Kind::unix_abstract:
      break;
  }
  return Endpoint::from_path(fresh_abstract_name()).value_or_throw("abstract name");
}

}  // namespace

std::string to_string(Kind kind) {
  switch (kind) {
    case Kind::ipv4:
      return "ipv4";
    case Kind::ipv6:
      return "ipv6";
    case Kind::unix_path:
      return "unix_path";
    case Kind::unix_abstract:
      break;
  }
  return "unix_abstract";
}

void PrintTo(Kind kind, std::ostream* out) {
  *out << to_string(kind);
}

Family family_of(Kind kind) {
  switch (kind) {
    case Kind::ipv4:
      return Family::inet;
    case Kind::ipv6:
      return Family::inet6;
    case Kind::unix_path:
    case Kind::unix_abstract:
      break;
  }
  return Family::local;
}

std::string fresh_abstract_name() {
  return "@sockit-unit-" + fresh_suffix();
}

std::string fresh_unix_path() {
  return (std::filesystem::temp_directory_path() / ("sockit-unit-" + fresh_suffix() + ".sock"))
      .string();
}

BoundSocket::BoundSocket(Kind kind, Type type) : socket_(family_of(kind), type) {
  socket_.settimeout(kIoTimeout);
  socket_.bind(fresh_endpoint(kind, path_));
}

BoundSocket::~BoundSocket() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

Listener::Listener(Kind kind, int backlog) : BoundSocket(kind, Type::stream) {
  socket().listen(backlog);
}

Connection Listener::connect() {
  Socket client(endpoint().family(), Type::stream);
  client.settimeout(kIoTimeout);
  client.connect(endpoint());
  auto accepted = socket().accept();
  accepted.conn.settimeout(kIoTimeout);
  return Connection{std::move(client), std::move(accepted.conn)};
}

Connection connect_pair(Kind kind) {
  return Listener(kind).connect();
}

Socket refusing_socket(Family family) {
  Socket socket(family, Type::stream);
  socket.bind(Endpoint::loopback(family, 0));
  return socket;
}

std::string recv_exactly(Socket& socket, std::size_t size) {
  std::string data;
  while (data.size() < size) {
    const std::string chunk = socket.recv(size - data.size());
    if (chunk.empty()) break;
    data += chunk;
  }
  return data;
}

bool is_nonblocking(const Socket& socket) {
  const int flags = ::fcntl(socket.fileno(), F_GETFL);
  if (flags < 0) throw std::system_error(errno, std::system_category(), "fcntl");
  return (flags & O_NONBLOCK) != 0;
}

void expect_waited(Duration elapsed, Duration timeout) {
  EXPECT_GE(elapsed.count(), timeout.count()) << "returned before its timeout";
  EXPECT_LT(elapsed.count(), (10 * timeout + 2s).count()) << "waited far past its timeout";
}

}  // namespace sockit::test
