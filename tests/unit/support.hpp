// Helpers the unit tests share: loopback listeners and connected pairs of every family,
// fresh Unix socket names, a refusing port and a stopwatch. Every socket they hand out has
// kIoTimeout, so a test that goes wrong fails instead of hanging.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>

#include "sockit/socket.hpp"

namespace sockit::test {

using namespace std::chrono_literals;

inline constexpr Duration kIoTimeout = 10s;

// Where a test socket lives: a loopback port (chosen by the OS) or a fresh Unix name.
enum class Kind { ipv4, ipv6, unix_path, unix_abstract };

std::string to_string(Kind kind);
// GoogleTest's printer for Kind, so parameterized test names read "ipv4", not raw bytes.
void PrintTo(Kind kind, std::ostream* out);
Family family_of(Kind kind);

// A unique name for this process: "@sockit-unit-<pid>-<n>" and a path in the temp directory.
std::string fresh_abstract_name();
std::string fresh_unix_path();

// A socket bound to a fresh endpoint of kind; a Unix path it bound is removed with it.
class BoundSocket {
 public:
  BoundSocket(Kind kind, Type type);
  ~BoundSocket();
  BoundSocket(const BoundSocket&) = delete;
  BoundSocket& operator=(const BoundSocket&) = delete;

  Socket& socket() noexcept { return socket_; }
  Endpoint endpoint() const { return socket_.getsockname(); }

 private:
  std::string path_;
  Socket socket_;
};

// A connected stream: the client and the server's accepted end, both with kIoTimeout.
struct Connection {
  Socket client;
  Socket server;
};

// A listening stream socket on a fresh endpoint of kind.
class Listener : public BoundSocket {
 public:
  explicit Listener(Kind kind, int backlog = SOMAXCONN);
  // Connects a new client and accepts it.
  Connection connect();
};

// A connected pair over kind, the listener already gone.
Connection connect_pair(Kind kind);

// A socket bound to a loopback port of family without listening: connecting to that port is
// refused for as long as the socket lives.
Socket refusing_socket(Family family = Family::inet);

// Exactly size bytes from socket, or fewer if the peer closes first.
std::string recv_exactly(Socket& socket, std::size_t size);

// Whether the descriptor itself is in O_NONBLOCK mode.
bool is_nonblocking(const Socket& socket);

class Stopwatch {
 public:
  Duration elapsed() const { return std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// A call that timed out must have waited at least its timeout, and not much longer: the
// upper bound is generous (a shared machine, sanitizers) but catches a wait that ignores
// the deadline.
void expect_waited(Duration elapsed, Duration timeout);

}  // namespace sockit::test
