#include "sys/event.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "sys/sys.hpp"

namespace sockit::sys {

Result<int> epoll_create() noexcept {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return errno_code();
  return fd;
}

std::error_code epoll_add(int epoll_fd, int fd, std::uint32_t events, void* data) noexcept {
  epoll_event event{};
  event.events = events;
  event.data.ptr = data;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) return errno_code();
  return {};
}

std::error_code epoll_remove(int epoll_fd, int fd) noexcept {
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr) < 0) return errno_code();
  return {};
}

Result<int> epoll_wait(int epoll_fd, std::span<epoll_event> events, int timeout_ms) noexcept {
  const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), timeout_ms);
  if (n >= 0) return n;
  if (errno == EINTR) return 0;
  return errno_code();
}

Result<int> eventfd() noexcept {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return errno_code();
  return fd;
}

void eventfd_signal(int fd) noexcept {
  const std::uint64_t one = 1;
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

void eventfd_drain(int fd) noexcept {
  std::uint64_t count = 0;
  while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
}

Result<int> signalfd(std::initializer_list<int> signals) noexcept {
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal : signals)
    sigaddset(&mask, signal);
  if (const int rc = ::pthread_sigmask(SIG_BLOCK, &mask, nullptr); rc != 0) {
    return std::error_code{rc, std::system_category()};
  }
  const int fd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return errno_code();
  return fd;
}

int signalfd_read(int fd) noexcept {
  signalfd_siginfo info{};
  for (;;) {
    const auto n = ::read(fd, &info, sizeof info);
    if (n == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
    if (n < 0 && errno == EINTR) continue;
    return 0;
  }
}

Result<std::size_t> sendv(int fd, std::span<const iovec> parts) noexcept {
  // send(2) spares the kernel copying in a message header and an iovec array: a few per cent
  // of a keep-alive HTTP client's CPU, which writes one buffer per request.
  if (parts.size() == 1) return send(fd, parts[0].iov_base, parts[0].iov_len, 0);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(parts.data());
  message.msg_iovlen = parts.size();
  for (;;) {
    const auto n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return errno_code();
  }
}

std::uint64_t raise_nofile_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  }
  return limit.rlim_cur;
}

}  // namespace sockit::sys
