// The only door to the kernel: thin wrappers over the raw calls that return a Result or an
// error_code instead of setting errno. EINTR is retried here (or turned into the state the
// caller must wait on), and sends never raise SIGPIPE.
#pragma once

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"
#include "sockit/socket.hpp"

namespace sockit::sys {

using Clock = std::chrono::steady_clock;
// No deadline: wait without limit.
using Deadline = std::optional<Clock::time_point>;

std::error_code errno_code() noexcept;

namespace detail {

template <class Call>
auto retry_eintr(Call call) noexcept {
  for (;;) {
    auto result = call();
    if (result >= 0 || errno != EINTR) return result;
  }
}

inline Result<std::size_t> byte_count(ssize_t n) noexcept {
  if (n < 0) return errno_code();
  return static_cast<std::size_t>(n);
}

}  // namespace detail

Result<int> socket(int domain, int type, int protocol) noexcept;
Result<std::pair<int, int>> socketpair(int domain, int type, int protocol) noexcept;
void close(int fd) noexcept;
std::error_code bind(int fd, const Endpoint& endpoint) noexcept;
std::error_code listen(int fd, int backlog) noexcept;
// accept4(); peer receives the client's address.
Result<int> accept(int fd, Endpoint& peer, int flags) noexcept;
// connect(); an interrupted connect goes on in the kernel, so EINTR comes back as
// EINPROGRESS for the caller to wait on.
std::error_code connect(int fd, const Endpoint& endpoint) noexcept;
// Inline: an echo's whole round trip is one recv and one send, and a call that only passes
// its Result through costs a copy of it.
inline Result<std::size_t> send(int fd, const void* data, std::size_t size, int flags) noexcept {
  return detail::byte_count(
      detail::retry_eintr([&] { return ::send(fd, data, size, flags | MSG_NOSIGNAL); }));
}
inline Result<std::size_t> recv(int fd, void* data, std::size_t size, int flags) noexcept {
  return detail::byte_count(detail::retry_eintr([&] { return ::recv(fd, data, size, flags); }));
}
Result<std::size_t> sendto(int fd, const void* data, std::size_t size, int flags,
                           const Endpoint& to) noexcept;
Result<std::size_t> recvfrom(int fd, void* data, std::size_t size, int flags,
                             Endpoint& from) noexcept;
// The oldest entry of the socket's error queue (IP_RECVERR): recvmsg(MSG_ERRQUEUE); EAGAIN
// when the queue is empty.
std::error_code recv_error(int fd, QueuedError& out) noexcept;
std::error_code shutdown(int fd, int how) noexcept;
std::error_code getsockname(int fd, Endpoint& out) noexcept;
std::error_code getpeername(int fd, Endpoint& out) noexcept;
std::error_code setsockopt(int fd, int level, int name, const void* value,
                           socklen_t length) noexcept;
std::error_code getsockopt(int fd, int level, int name, void* value, socklen_t& length) noexcept;
std::error_code set_nonblocking(int fd, bool on) noexcept;

Result<std::size_t> read(int fd, void* data, std::size_t size) noexcept;
Result<std::size_t> write(int fd, const void* data, std::size_t size) noexcept;
bool isatty(int fd) noexcept;

// poll() until an event or the deadline; returns the number of ready entries (0: deadline).
Result<int> poll(std::span<pollfd> fds, Deadline deadline) noexcept;
// Waits for events on one descriptor; errc::timed_out when the deadline passes first.
std::error_code wait(int fd, short events, Deadline deadline) noexcept;

void ignore_sigpipe() noexcept;
// Opens /dev/null read-only on each of descriptors 0, 1 and 2 that is closed.
std::error_code open_closed_standard_fds() noexcept;

// Resolver calls; their failures are in gai_category() (EAI_SYSTEM becomes the errno).
Result<addrinfo*> getaddrinfo(const char* host, const char* service,
                              const addrinfo& hints) noexcept;
void freeaddrinfo(addrinfo* list) noexcept;
std::error_code getnameinfo(const Endpoint& endpoint, std::string& host, std::string& service,
                            int flags) noexcept;
Result<std::string> gethostname() noexcept;
// Interface name <-> index, for IPv6 scope ids.
unsigned if_nametoindex(const std::string& name) noexcept;
std::string if_indextoname(unsigned index);

}  // namespace sockit::sys
