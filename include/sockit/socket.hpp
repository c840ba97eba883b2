// Socket: Python's socket object in C++, name for name.
//
//   sockit::Socket s(sockit::Family::inet, sockit::Type::stream);
//   s.settimeout(2s);
//   s.connect({"localhost", 8001});
//   s.sendall("hello");
//   std::string reply = s.recv(4096);
//
// Timeouts follow Python: none (std::nullopt) blocks, zero is non-blocking, a duration bounds
// connect, accept, send and recv alike. They are implemented with a non-blocking descriptor
// and poll(2), never SO_RCVTIMEO. Throwing calls raise the Error subclass that matches the
// failure; the try_ forms (and Python's connect_ex) are noexcept and return the error instead.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"
#include "sockit/fd.hpp"
#include "sockit/options.hpp"
#include "sockit/resolver.hpp"
#include "sockit/select.hpp"

namespace sockit {

// Seconds as a floating-point count, like Python's timeout values; 2s and 250ms convert.
using Duration = std::chrono::duration<double>;
// std::nullopt is Python's None: block without limit.
using Timeout = std::optional<Duration>;

// The timeout new sockets start with (Python's socket.setdefaulttimeout). A negative
// duration is std::invalid_argument, as Python's ValueError.
void setdefaulttimeout(Timeout timeout);
Timeout getdefaulttimeout() noexcept;

enum class Shut : int { rd = SHUT_RD, wr = SHUT_WR, rdwr = SHUT_RDWR };

class Socket;
struct Accepted;
struct Datagram;

// An entry of a socket's error queue, there once opt::ip_receive_errors (IP_RECVERR) or its
// IPv6 twin is on: what came back instead of an answer, and from whom.
struct QueuedError {
  std::error_code error;  // what it means for the socket: ECONNREFUSED for port unreachable
  bool icmp = false;      // from an ICMP (or ICMPv6) message, not from the local stack
  std::uint8_t type = 0;  // the ICMP type and code as received
  std::uint8_t code = 0;
  Endpoint offender;  // who sent it (unspec when unknown)
};

class Socket {
 public:
  Socket(Family family = Family::inet, Type type = Type::stream, int protocol = 0);
  // Adopts an open socket descriptor; family and type are read from it.
  explicit Socket(Fd fd);
  Socket(Socket&&) noexcept = default;
  Socket& operator=(Socket&&) noexcept = default;
  ~Socket() = default;

  // The noexcept form of the constructor.
  static Result<Socket> try_create(Family family = Family::inet, Type type = Type::stream,
                                   int protocol = 0) noexcept;
  // A non-blocking socket (timeout 0), as Python's SOCK_NONBLOCK type flag makes one: born
  // so (SOCK_NONBLOCK), with no fcntl, which is what an event loop's connects want.
  static Result<Socket> try_create_nonblocking(Family family = Family::inet,
                                               Type type = Type::stream, int protocol = 0) noexcept;
  // Adopts fd whose family, type and blocking mode the caller knows (fresh from accept4,
  // say), without asking the kernel; timeout must match the descriptor's O_NONBLOCK state.
  static Socket from_fd(Fd fd, Family family, Type type, int protocol, Timeout timeout) noexcept;
  // A connected pair (Python's socket.socketpair).
  static std::pair<Socket, Socket> socketpair(Family family = Family::local,
                                              Type type = Type::stream);

  void bind(const Endpoint& endpoint);
  void bind(const Address& address);
  Result<void> try_bind(const Endpoint& endpoint) noexcept;
  void listen(int backlog = SOMAXCONN);

  Accepted accept();
  Result<Accepted> try_accept() noexcept;

  void connect(const Endpoint& endpoint);
  void connect(const Address& address);
  // The noexcept form of connect: the error connect would throw (timed_out on a timeout).
  Result<void> try_connect(const Endpoint& endpoint) noexcept;
  // connect(2) to AF_UNSPEC: dissolves the association, so the socket can connect again. A
  // TCP socket whose connect failed or is still pending is just reset to closed; an
  // established one is aborted with a reset, leaving no TIME_WAIT behind.
  Result<void> try_disconnect() noexcept;
  // Python's connect_ex: the error instead of an exception (a resolution failure included).
  // As in CPython, a connect that times out reports EAGAIN (EWOULDBLOCK). The one call that
  // returns a bare error code, falsy on success, since Python's returns errno; every other
  // noexcept form returns a Result, truthy on success.
  std::error_code connect_ex(const Endpoint& endpoint) noexcept;
  std::error_code connect_ex(const Address& address) noexcept;

  std::size_t send(std::string_view data, int flags = 0);
  Result<std::size_t> try_send(std::string_view data, int flags = 0) noexcept;
  // Sends every byte; under a timeout the whole call must finish within it, as in Python.
  void sendall(std::string_view data, int flags = 0);
  Result<void> try_sendall(std::string_view data, int flags = 0) noexcept;
  // Python's sendmsg with buffers only: one call gathers them all; returns the bytes sent.
  Result<std::size_t> try_sendmsg(std::span<const iovec> buffers) noexcept;

  // At most bufsize bytes; an empty string means the peer closed its side.
  std::string recv(std::size_t bufsize, int flags = 0);
  std::size_t recv_into(std::span<char> buffer, int flags = 0);
  Result<std::size_t> try_recv_into(std::span<char> buffer, int flags = 0) noexcept;

  std::size_t sendto(std::string_view data, const Endpoint& to, int flags = 0);
  std::size_t sendto(std::string_view data, const Address& to, int flags = 0);
  Result<std::size_t> try_sendto(std::string_view data, const Endpoint& to, int flags = 0) noexcept;
  Datagram recvfrom(std::size_t bufsize, int flags = 0);
  std::pair<std::size_t, Endpoint> recvfrom_into(std::span<char> buffer, int flags = 0);
  Result<std::pair<std::size_t, Endpoint>> try_recvfrom_into(std::span<char> buffer,
                                                             int flags = 0) noexcept;

  void shutdown(Shut how);
  Result<void> try_shutdown(Shut how) noexcept;
  // The oldest entry of the error queue (recvmsg with MSG_ERRQUEUE); would-block when empty.
  Result<QueuedError> try_recv_error() noexcept;
  // Closes now; later calls fail with EBADF. The destructor closes too.
  void close() noexcept;
  // Gives up the descriptor without closing it.
  Fd detach() noexcept;

  Endpoint getsockname() const;
  Endpoint getpeername() const;
  // A peer that reset at once has no name left: the noexcept forms say so without throwing.
  Result<Endpoint> try_getsockname() const noexcept;
  Result<Endpoint> try_getpeername() const noexcept;
  int fileno() const noexcept { return fd_.get(); }
  Family family() const noexcept { return family_; }
  Type type() const noexcept { return type_; }
  int proto() const noexcept { return protocol_; }

  void settimeout(Timeout timeout);
  Result<void> try_settimeout(Timeout timeout) noexcept;
  Timeout gettimeout() const noexcept { return timeout_; }
  // setblocking(true) is settimeout(None); setblocking(false) is settimeout(0).
  void setblocking(bool blocking);
  bool getblocking() const noexcept { return !timeout_ || timeout_->count() != 0; }

  template <class Option>
  void set(const Option& option) {
    const typename Option::storage raw = option.encode();
    setsockopt(Option::level, Option::name, &raw, sizeof raw);
  }
  template <class Option>
  Result<void> try_set(const Option& option) noexcept {
    const typename Option::storage raw = option.encode();
    return try_setsockopt(Option::level, Option::name, &raw, sizeof raw);
  }
  template <class Option>
  Option get() const {
    typename Option::storage raw{};
    getsockopt(Option::level, Option::name, &raw, sizeof raw);
    return Option::decode(raw);
  }

  // The raw forms, for options without a typed name.
  void setsockopt(int level, int name, int value);
  void setsockopt(int level, int name, const void* value, socklen_t length);
  Result<void> try_setsockopt(int level, int name, const void* value, socklen_t length) noexcept;
  int getsockopt(int level, int name) const;
  // Fills value and returns the length the kernel wrote.
  socklen_t getsockopt(int level, int name, void* value, socklen_t length) const;

 private:
  Socket(Fd fd, Family family, Type type, int protocol);

  Fd fd_;
  Family family_ = Family::unspec;
  Type type_ = Type::any;
  int protocol_ = 0;
  Timeout timeout_;
};

// accept()'s (conn, address) pair; structured bindings work: auto [conn, addr] = s.accept().
struct Accepted {
  Socket conn;
  Endpoint address;
};

// recvfrom()'s (data, address) pair.
struct Datagram {
  std::string data;
  Endpoint address;
};

// Connects to the first address of address's resolution that accepts, trying each in
// order; timeout bounds each attempt and defaults to getdefaulttimeout(). On failure the
// error of the last attempt is thrown. source, when given, is bound first; family, when not
// unspec, keeps only the addresses of that family (what nc's -4/-6 mean).
Socket create_connection(const Address& address, Timeout timeout = getdefaulttimeout(),
                         const std::optional<Address>& source = std::nullopt,
                         Family family = Family::unspec);
Result<Socket> try_create_connection(const Address& address, Timeout timeout = getdefaulttimeout(),
                                     const std::optional<Address>& source = std::nullopt,
                                     Family family = Family::unspec) noexcept;

struct ServerOptions {
  Family family = Family::inet;
  int backlog = SOMAXCONN;
  bool reuse_port = false;
  // An IPv6 socket that also accepts IPv4 (IPV6_V6ONLY off); needs family inet6.
  bool dualstack_ipv6 = false;
};

// A listening TCP socket bound to address, with SO_REUSEADDR set as Python does.
Socket create_server(const Address& address, const ServerOptions& options = {});

}  // namespace sockit
