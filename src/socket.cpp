#include "sockit/socket.hpp"

#include <atomic>
#include <cerrno>
#include <stdexcept>

#include "sys/event.hpp"
#include "sys/sys.hpp"

namespace sockit {
namespace {

// Python's default timeout, as seconds; negative is None.
std::atomic<double> default_timeout_seconds{-1.0};

bool valid_timeout(Timeout timeout) noexcept {
  return !timeout || timeout->count() >= 0;
}

void check_timeout(Timeout timeout) {
  if (!valid_timeout(timeout)) throw std::invalid_argument("timeout value out of range");
}

std::string with_subject(std::string_view operation, const std::string& subject) {
  return subject.empty() ? std::string(operation) : std::string(operation) + " " + subject;
}

// "send 127.0.0.1:80", or just "send" once the peer is gone (a reset socket has no peer name,
// and asking must not replace the error being reported).
// "operation ADDRESS" naming the peer (or, for with_local, the bound address) when the
// socket still has one; a failed lookup must not replace the error being reported.
std::string with_peer(std::string_view operation, int fd) {
  Endpoint peer;
  const bool connected = !sys::getpeername(fd, peer);
  return with_subject(operation, connected ? peer.to_string() : "");
}

std::string with_local(std::string_view operation, int fd) {
  Endpoint local;
  const bool bound = !sys::getsockname(fd, local);
  return with_subject(operation, bound ? local.to_string() : "");
}

// The descriptor's blocking mode follows the timeout, as in CPython: blocking for None,
// non-blocking (with poll for waits) for any duration.
std::error_code apply_timeout(int fd, Timeout timeout) noexcept {
  return sys::set_nonblocking(fd, timeout.has_value());
}

// The deadline of one call under the current timeout; none when the call may block forever
// (timeout None) or must not wait at all (timeout 0, handled by the caller).
sys::Deadline deadline_for(Timeout timeout) noexcept {
  if (!timeout || timeout->count() == 0) return std::nullopt;
  return sys::Clock::now() + std::chrono::duration_cast<sys::Clock::duration>(*timeout);
}

// Runs a syscall, and while it would block waits for readiness until the deadline: the one
// place where Python's timeout semantics live.
template <class Call>
auto with_wait(int fd, Timeout timeout, short events, sys::Deadline deadline, Call call)
    -> decltype(call()) {
  for (;;) {
    auto result = call();
    if (result || !would_block(result.error())) return result;
    if (timeout && timeout->count() == 0) return result;
    if (auto code = sys::wait(fd, events, deadline)) return code;
  }
}

}  // namespace

void setdefaulttimeout(Timeout timeout) {
  check_timeout(timeout);
  default_timeout_seconds = timeout ? timeout->count() : -1.0;
}

Timeout getdefaulttimeout() noexcept {
  const double seconds = default_timeout_seconds;
  if (seconds < 0) return std::nullopt;
  return Duration(seconds);
}

Socket::Socket(Fd fd, Family family, Type type, int protocol)
    : fd_(std::move(fd)), family_(family), type_(type), protocol_(protocol) {}

Socket::Socket(Family family, Type type, int protocol)
    : Socket(Fd(sys::socket(static_cast<int>(family), static_cast<int>(type), protocol)
                    .value_or_throw("socket " + std::string(sockit::to_string(family)) + " " +
                                    std::string(sockit::to_string(type)))),
             family, type, protocol) {
  settimeout(getdefaulttimeout());
}

Socket::Socket(Fd fd) : fd_(std::move(fd)) {
  int domain = 0;
  int type = 0;
  int protocol = 0;
  getsockopt(SOL_SOCKET, SO_DOMAIN, &domain, sizeof domain);
  getsockopt(SOL_SOCKET, SO_TYPE, &type, sizeof type);
  getsockopt(SOL_SOCKET, SO_PROTOCOL, &protocol, sizeof protocol);
  family_ = static_cast<Family>(domain);
  type_ = static_cast<Type>(type);
  protocol_ = protocol;
  settimeout(getdefaulttimeout());
}

Result<Socket> Socket::try_create(Family family, Type type, int protocol) noexcept {
  auto fd = sys::socket(static_cast<int>(family), static_cast<int>(type), protocol);
  if (!fd) return fd.error();
  Socket socket(Fd(*fd), family, type, protocol);
  if (auto set = socket.try_settimeout(getdefaulttimeout()); !set) return set.error();
  return socket;
}

Result<Socket> Socket::try_create_nonblocking(Family family, Type type, int protocol) noexcept {
  auto fd = sys::socket(static_cast<int>(family), static_cast<int>(type) | SOCK_NONBLOCK, protocol);
  if (!fd) return fd.error();
  return from_fd(Fd(*fd), family, type, protocol, Duration(0));
}

Socket Socket::from_fd(Fd fd, Family family, Type type, int protocol, Timeout timeout) noexcept {
  Socket socket(std::move(fd), family, type, protocol);
  socket.timeout_ = timeout;
  return socket;
}

std::pair<Socket, Socket> Socket::socketpair(Family family, Type type) {
  auto fds = sys::socketpair(static_cast<int>(family), static_cast<int>(type), 0)
                 .value_or_throw("socketpair");
  std::pair<Socket, Socket> pair{Socket(Fd(fds.first), family, type, 0),
                                 Socket(Fd(fds.second), family, type, 0)};
  pair.first.settimeout(getdefaulttimeout());
  pair.second.settimeout(getdefaulttimeout());
  return pair;
}

Result<void> Socket::try_bind(const Endpoint& endpoint) noexcept {
  return sys::bind(fd_.get(), endpoint);
}

void Socket::bind(const Endpoint& endpoint) {
  try_bind(endpoint).value_or_throw("bind " + endpoint.to_string());
}

void Socket::bind(const Address& address) {
  auto endpoints = resolve(address, family_, type_, AI_PASSIVE);
  bind(endpoints.front());
}

void Socket::listen(int backlog) {
  throw_if(sys::listen(fd_.get(), backlog), with_local("listen", fd_.get()));
}

Result<Accepted> Socket::try_accept() noexcept {
  const Timeout child_timeout = getdefaulttimeout();
  Endpoint peer;
  auto conn = with_wait(fd_.get(), timeout_, POLLIN, deadline_for(timeout_), [&] {
    return sys::accept(fd_.get(), peer, child_timeout ? SOCK_NONBLOCK : 0);
  });
  if (!conn) return conn.error();
  return Accepted{from_fd(Fd(*conn), family_, type_, protocol_, child_timeout), std::move(peer)};
}

Accepted Socket::accept() {
  auto accepted = try_accept();
  if (!accepted) throw_error(accepted.error(), with_local("accept", fd_.get()));
  return std::move(accepted).value();
}

Result<void> Socket::try_connect(const Endpoint& endpoint) noexcept {
  auto code = sys::connect(fd_.get(), endpoint);
  if (code != std::errc::operation_in_progress) return code;
  if (timeout_ && timeout_->count() == 0) return code;
  if (auto waited = sys::wait(fd_.get(), POLLOUT, deadline_for(timeout_))) return waited;
  int pending = 0;
  socklen_t length = sizeof pending;
  if (auto failed = sys::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &pending, length)) {
    return failed;
  }
  return std::error_code(pending, std::system_category());
}

Result<void> Socket::try_disconnect() noexcept {
  return sys::connect(fd_.get(), Endpoint());
}

std::error_code Socket::connect_ex(const Endpoint& endpoint) noexcept {
  auto code = try_connect(endpoint).error();
  if (code == std::errc::timed_out) return std::make_error_code(std::errc::operation_would_block);
  return code;
}

std::error_code Socket::connect_ex(const Address& address) noexcept {
  auto endpoints = try_resolve(address, family_, type_);
  if (!endpoints) return endpoints.error();
  return connect_ex(endpoints->front());
}

void Socket::connect(const Endpoint& endpoint) {
  try_connect(endpoint).value_or_throw("connect " + endpoint.to_string());
}

void Socket::connect(const Address& address) {
  connect(resolve(address, family_, type_).front());
}

Result<std::size_t> Socket::try_send(std::string_view data, int flags) noexcept {
  return with_wait(fd_.get(), timeout_, POLLOUT, deadline_for(timeout_),
                   [&] { return sys::send(fd_.get(), data.data(), data.size(), flags); });
}

Result<std::size_t> Socket::try_sendmsg(std::span<const iovec> buffers) noexcept {
  return with_wait(fd_.get(), timeout_, POLLOUT, deadline_for(timeout_),
                   [&] { return sys::sendv(fd_.get(), buffers); });
}

std::size_t Socket::send(std::string_view data, int flags) {
  auto sent = try_send(data, flags);
  if (!sent) throw_error(sent.error(), with_peer("send", fd_.get()));
  return *sent;
}

Result<void> Socket::try_sendall(std::string_view data, int flags) noexcept {
  const auto deadline = deadline_for(timeout_);
  while (!data.empty()) {
    auto sent = with_wait(fd_.get(), timeout_, POLLOUT, deadline,
                          [&] { return sys::send(fd_.get(), data.data(), data.size(), flags); });
    if (!sent) return sent.error();
    data.remove_prefix(*sent);
  }
  return {};
}

void Socket::sendall(std::string_view data, int flags) {
  if (auto sent = try_sendall(data, flags); !sent) {
    throw_error(sent.error(), with_peer("sendall", fd_.get()));
  }
}

Result<std::size_t> Socket::try_recv_into(std::span<char> buffer, int flags) noexcept {
  return with_wait(fd_.get(), timeout_, POLLIN, deadline_for(timeout_),
                   [&] { return sys::recv(fd_.get(), buffer.data(), buffer.size(), flags); });
}

std::size_t Socket::recv_into(std::span<char> buffer, int flags) {
  auto received = try_recv_into(buffer, flags);
  if (!received) throw_error(received.error(), with_peer("recv", fd_.get()));
  return *received;
}

std::string Socket::recv(std::size_t bufsize, int flags) {
  std::string data(bufsize, '\0');
  data.resize(recv_into(data, flags));
  return data;
}

Result<std::size_t> Socket::try_sendto(std::string_view data, const Endpoint& to,
                                       int flags) noexcept {
  return with_wait(fd_.get(), timeout_, POLLOUT, deadline_for(timeout_),
                   [&] { return sys::sendto(fd_.get(), data.data(), data.size(), flags, to); });
}

std::size_t Socket::sendto(std::string_view data, const Endpoint& to, int flags) {
  return try_sendto(data, to, flags).value_or_throw("sendto " + to.to_string());
}

std::size_t Socket::sendto(std::string_view data, const Address& to, int flags) {
  return sendto(data, resolve(to, family_, type_).front(), flags);
}

Result<std::pair<std::size_t, Endpoint>> Socket::try_recvfrom_into(std::span<char> buffer,
                                                                   int flags) noexcept {
  Endpoint from;
  auto received = with_wait(fd_.get(), timeout_, POLLIN, deadline_for(timeout_), [&] {
    return sys::recvfrom(fd_.get(), buffer.data(), buffer.size(), flags, from);
  });
  if (!received) return received.error();
  return std::pair{*received, std::move(from)};
}

std::pair<std::size_t, Endpoint> Socket::recvfrom_into(std::span<char> buffer, int flags) {
  return try_recvfrom_into(buffer, flags).value_or_throw("recvfrom");
}

Datagram Socket::recvfrom(std::size_t bufsize, int flags) {
  Datagram datagram{std::string(bufsize, '\0'), {}};
  auto [size, from] = recvfrom_into(datagram.data, flags);
  datagram.data.resize(size);
  datagram.address = std::move(from);
  return datagram;
}

Result<void> Socket::try_shutdown(Shut how) noexcept {
  return sys::shutdown(fd_.get(), static_cast<int>(how));
}

Result<QueuedError> Socket::try_recv_error() noexcept {
  QueuedError entry;
  if (auto code = sys::recv_error(fd_.get(), entry)) return code;
  return entry;
}

void Socket::shutdown(Shut how) {
  try_shutdown(how).value_or_throw("shutdown");
}

void Socket::close() noexcept {
  fd_.reset();
}

Fd Socket::detach() noexcept {
  return Fd(fd_.release());
}

Result<Endpoint> Socket::try_getsockname() const noexcept {
  Endpoint endpoint;
  if (auto code = sys::getsockname(fd_.get(), endpoint)) return code;
  return endpoint;
}

Result<Endpoint> Socket::try_getpeername() const noexcept {
  Endpoint endpoint;
  if (auto code = sys::getpeername(fd_.get(), endpoint)) return code;
  return endpoint;
}

Endpoint Socket::getsockname() const {
  return try_getsockname().value_or_throw("getsockname");
}

Endpoint Socket::getpeername() const {
  return try_getpeername().value_or_throw("getpeername");
}

Result<void> Socket::try_settimeout(Timeout timeout) noexcept {
  if (!valid_timeout(timeout)) return std::make_error_code(std::errc::invalid_argument);
  if (auto code = apply_timeout(fd_.get(), timeout)) return code;
  timeout_ = timeout;
  return {};
}

void Socket::settimeout(Timeout timeout) {
  check_timeout(timeout);
  try_settimeout(timeout).value_or_throw("settimeout");
}

void Socket::setblocking(bool blocking) {
  settimeout(blocking ? Timeout{} : Timeout{Duration(0)});
}

Result<void> Socket::try_setsockopt(int level, int name, const void* value,
                                    socklen_t length) noexcept {
  return sys::setsockopt(fd_.get(), level, name, value, length);
}

void Socket::setsockopt(int level, int name, const void* value, socklen_t length) {
  try_setsockopt(level, name, value, length).value_or_throw("setsockopt");
}

void Socket::setsockopt(int level, int name, int value) {
  setsockopt(level, name, &value, sizeof value);
}

socklen_t Socket::getsockopt(int level, int name, void* value, socklen_t length) const {
  throw_if(sys::getsockopt(fd_.get(), level, name, value, length), "getsockopt");
  return length;
}

int Socket::getsockopt(int level, int name) const {
  int value = 0;
  getsockopt(level, name, &value, sizeof value);
  return value;
}

// Tries each endpoint of address in order; last receives the endpoint of the final attempt
// so a failure can name it.
namespace {
Result<Socket> connect_any(const Address& address, Timeout timeout,
                           const std::optional<Address>& source, Family family,
                           Endpoint& last) noexcept {
  auto endpoints = try_resolve(address, family, Type::stream);
  if (!endpoints) return endpoints.error();
  std::error_code failure;
  for (const auto& endpoint : *endpoints) {
    last = endpoint;
    auto socket = Socket::try_create(endpoint.family(), Type::stream);
    if (!socket) {
      failure = socket.error();
      continue;
    }
    if ((failure = socket->try_settimeout(timeout).error())) continue;
    if (source) {
      auto local = try_resolve(*source, endpoint.family(), Type::stream, AI_PASSIVE);
      if (!local) return local.error();
      if ((failure = socket->try_bind(local->front()).error())) continue;
    }
    if (!(failure = socket->try_connect(endpoint).error())) return socket;
  }
  return failure;
}
}  // namespace

Result<Socket> try_create_connection(const Address& address, Timeout timeout,
                                     const std::optional<Address>& source, Family family) noexcept {
  Endpoint last;
  return connect_any(address, timeout, source, family, last);
}

Socket create_connection(const Address& address, Timeout timeout,
                         const std::optional<Address>& source, Family family) {
  check_timeout(timeout);
  Endpoint last;
  auto socket = connect_any(address, timeout, source, family, last);
  if (socket) return std::move(socket).value();
  std::string subject = address.to_string();
  if (last.family() != Family::unspec && last.to_string() != subject) {
    subject += " (" + last.to_string() + ")";
  }
  throw_error(socket.error(), "connect " + subject);
}

Socket create_server(const Address& address, const ServerOptions& options) {
  if (options.dualstack_ipv6 && options.family != Family::inet6) {
    throw std::invalid_argument("dualstack_ipv6 requires Family::inet6");
  }
  const Family family = address.local ? Family::local : options.family;
  Socket socket(family, Type::stream);
  if (family != Family::local) socket.set(opt::reuse_address{true});
  if (options.reuse_port) socket.set(opt::reuse_port{true});
  if (family == Family::inet6) socket.set(opt::v6_only{!options.dualstack_ipv6});
  socket.bind(address);
  socket.listen(options.backlog);
  return socket;
}

}  // namespace sockit
