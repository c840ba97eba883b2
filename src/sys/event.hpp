// Kernel objects of the event loop: epoll, eventfd, signalfd, and the scatter/gather sends
// the loop's streams use. Like sys.hpp, the only place these calls and errno appear.
#pragma once

#include <signal.h>
#include <sys/epoll.h>
#include <sys/uio.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "sockit/error.hpp"

namespace sockit::sys {

Result<int> epoll_create() noexcept;
std::error_code epoll_add(int epoll_fd, int fd, std::uint32_t events, void* data) noexcept;
std::error_code epoll_remove(int epoll_fd, int fd) noexcept;
// Waits up to timeout_ms (-1: no limit); EINTR comes back as zero events.
Result<int> epoll_wait(int epoll_fd, std::span<epoll_event> events, int timeout_ms) noexcept;

Result<int> eventfd() noexcept;
// Adds one to an eventfd counter; a full counter already means "wake up", so EAGAIN is fine.
void eventfd_signal(int fd) noexcept;
// Resets an eventfd counter to zero.
void eventfd_drain(int fd) noexcept;

// Blocks signals in the calling thread (threads created later inherit the mask) and returns
// a non-blocking signalfd that reports them.
Result<int> signalfd(std::initializer_list<int> signals) noexcept;
// The next pending signal of a signalfd, or 0 when none is pending.
int signalfd_read(int fd) noexcept;

// sendmsg(2) with an iovec array, never raising SIGPIPE.
Result<std::size_t> sendv(int fd, std::span<const iovec> parts) noexcept;

// The soft RLIMIT_NOFILE raised to the hard limit; returns the new soft limit.
std::uint64_t raise_nofile_limit() noexcept;

}  // namespace sockit::sys
