#include "sys/sys.hpp"

#include <fcntl.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>

namespace sockit::sys {

using detail::byte_count;
using detail::retry_eintr;

namespace {

std::error_code status(int rc) noexcept {
  return rc < 0 ? errno_code() : std::error_code{};
}

int poll_timeout_ms(Deadline deadline) noexcept {
  if (!deadline) return -1;
  const auto left = *deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  // Round up so a wait never ends just before its deadline and spins.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

std::error_code errno_code() noexcept {
  return {errno, std::system_category()};
}

Result<int> socket(int domain, int type, int protocol) noexcept {
  const int fd = ::socket(domain, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return errno_code();
  return fd;
}

Result<std::pair<int, int>> socketpair(int domain, int type, int protocol) noexcept {
  int fds[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC, protocol, fds) < 0) return errno_code();
  return std::pair{fds[0], fds[1]};
}

// close() is never retried on EINTR: on Linux the descriptor is gone either way.
void close(int fd) noexcept {
  ::close(fd);
}

std::error_code bind(int fd, const Endpoint& endpoint) noexcept {
  return status(::bind(fd, endpoint.data(), endpoint.size()));
}

std::error_code listen(int fd, int backlog) noexcept {
  return status(::listen(fd, backlog));
}

Result<int> accept(int fd, Endpoint& peer, int flags) noexcept {
  socklen_t length = Endpoint::capacity();
  const int conn =
      retry_eintr([&] { return ::accept4(fd, peer.data(), &length, flags | SOCK_CLOEXEC); });
  if (conn < 0) return errno_code();
  peer.resize(length);
  return conn;
}

std::error_code connect(int fd, const Endpoint& endpoint) noexcept {
  if (::connect(fd, endpoint.data(), endpoint.size()) == 0) return {};
  if (errno == EINTR) return std::make_error_code(std::errc::operation_in_progress);
  return errno_code();
}

Result<std::size_t> sendto(int fd, const void* data, std::size_t size, int flags,
                           const Endpoint& to) noexcept {
  return byte_count(retry_eintr(
      [&] { return ::sendto(fd, data, size, flags | MSG_NOSIGNAL, to.data(), to.size()); }));
}

Result<std::size_t> recvfrom(int fd, void* data, std::size_t size, int flags,
                             Endpoint& from) noexcept {
  socklen_t length = Endpoint::capacity();
  const auto n =
      retry_eintr([&] { return ::recvfrom(fd, data, size, flags, from.data(), &length); });
  if (n >= 0) from.resize(length);
  return byte_count(n);
}

std::error_code recv_error(int fd, QueuedError& out) noexcept {
  alignas(cmsghdr) char control[256];
  char data[64];
  iovec part{data, sizeof data};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (retry_eintr([&] { return ::recvmsg(fd, &message, MSG_ERRQUEUE); }) < 0) return errno_code();
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
    const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    sock_extended_err error;
    std::memcpy(&error, CMSG_DATA(c), sizeof error);
    out.error = {static_cast<int>(error.ee_errno), std::system_category()};
    out.icmp = error.ee_origin == SO_EE_ORIGIN_ICMP || error.ee_origin == SO_EE_ORIGIN_ICMP6;
    out.type = error.ee_type;
    out.code = error.ee_code;
    // The offender's address follows the structure inside the same control message.
    const std::size_t header =
        static_cast<std::size_t>(CMSG_DATA(c) - reinterpret_cast<unsigned char*>(c));
    const std::size_t room = c->cmsg_len - header - sizeof error;
    sockaddr_storage offender{};
    std::memcpy(&offender, CMSG_DATA(c) + sizeof error, std::min(room, sizeof offender));
    out.offender = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&offender),
                                           static_cast<socklen_t>(std::min(room, sizeof offender)));
    return {};
  }
  return std::make_error_code(std::errc::no_message);
}

std::error_code shutdown(int fd, int how) noexcept {
  return status(::shutdown(fd, how));
}

std::error_code getsockname(int fd, Endpoint& out) noexcept {
  socklen_t length = Endpoint::capacity();
  if (::getsockname(fd, out.data(), &length) < 0) return errno_code();
  out.resize(length);
  return {};
}

std::error_code getpeername(int fd, Endpoint& out) noexcept {
  socklen_t length = Endpoint::capacity();
  if (::getpeername(fd, out.data(), &length) < 0) return errno_code();
  out.resize(length);
  return {};
}

std::error_code setsockopt(int fd, int level, int name, const void* value,
                           socklen_t length) noexcept {
  return status(::setsockopt(fd, level, name, value, length));
}

std::error_code getsockopt(int fd, int level, int name, void* value, socklen_t& length) noexcept {
  return status(::getsockopt(fd, level, name, value, &length));
}

std::error_code set_nonblocking(int fd, bool on) noexcept {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return errno_code();
  const int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted == flags) return {};
  return status(::fcntl(fd, F_SETFL, wanted));
}

Result<std::size_t> read(int fd, void* data, std::size_t size) noexcept {
  return byte_count(retry_eintr([&] { return ::read(fd, data, size); }));
}

Result<std::size_t> write(int fd, const void* data, std::size_t size) noexcept {
  return byte_count(retry_eintr([&] { return ::write(fd, data, size); }));
}

bool isatty(int fd) noexcept {
  return ::isatty(fd) == 1;
}

Result<int> poll(std::span<pollfd> fds, Deadline deadline) noexcept {
  for (;;) {
    const int n = ::poll(fds.data(), fds.size(), poll_timeout_ms(deadline));
    if (n >= 0) return n;
    if (errno != EINTR) return errno_code();
  }
}

std::error_code wait(int fd, short events, Deadline deadline) noexcept {
  pollfd entry{fd, events, 0};
  for (;;) {
    auto n = poll({&entry, 1}, deadline);
    if (!n) return n.error();
    if (*n > 0) return {};
    // poll's millisecond rounding can wake a hair early; only a passed deadline is a timeout.
    if (deadline && Clock::now() >= *deadline) return std::make_error_code(std::errc::timed_out);
  }
}

void ignore_sigpipe() noexcept {
  ::signal(SIGPIPE, SIG_IGN);
}

std::error_code open_closed_standard_fds() noexcept {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    // open() takes the lowest free descriptor, which is fd, as the lower ones are open. Not
    // close-on-exec: a child the tool starts inherits its standard descriptors.
    if (::open("/dev/null", O_RDONLY) < 0) return errno_code();
  }
  return {};
}

Result<addrinfo*> getaddrinfo(const char* host, const char* service,
                              const addrinfo& hints) noexcept {
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host, service, &hints, &list);
  if (rc == EAI_SYSTEM) return errno_code();
  if (rc != 0) return std::error_code{rc, gai_category()};
  return list;
}

void freeaddrinfo(addrinfo* list) noexcept {
  ::freeaddrinfo(list);
}

std::error_code getnameinfo(const Endpoint& endpoint, std::string& host, std::string& service,
                            int flags) noexcept {
  char host_buffer[NI_MAXHOST];
  char service_buffer[NI_MAXSERV];
  const int rc = ::getnameinfo(endpoint.data(), endpoint.size(), host_buffer, sizeof host_buffer,
                               service_buffer, sizeof service_buffer, flags);
  if (rc == EAI_SYSTEM) return errno_code();
  if (rc != 0) return {rc, gai_category()};
  host = host_buffer;
  service = service_buffer;
  return {};
}

Result<std::string> gethostname() noexcept {
  char buffer[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buffer, sizeof buffer - 1) < 0) return errno_code();
  return std::string(buffer);
}

unsigned if_nametoindex(const std::string& name) noexcept {
  return ::if_nametoindex(name.c_str());
}

std::string if_indextoname(unsigned index) {
  char buffer[IF_NAMESIZE] = {};
  if (::if_indextoname(index, buffer) == nullptr) return std::to_string(index);
  return buffer;
}

}  // namespace sockit::sys
