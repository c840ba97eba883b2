// The async layer's sockets: Stream (TCP or Unix), Listener and DatagramSocket on an
// EventLoop, awaited from Task coroutines as the tutorials' asyncio example reads:
//
//   Task<> handle(Stream s) {
//     char buf[4096];
//     auto n = co_await with_timeout(5s, s.read_some(buf));
//     if (n && *n > 0) co_await s.write_all({buf, *n});
//   }
//
// Each operation is an awaiter, not a coroutine: co_await allocates nothing. It first tries
// the syscall and parks on the loop only on EAGAIN. Results come back as Result<...>, never
// as exceptions, so a server handles a failed connection without throwing. close() (or the
// destructor) wakes parked operations with errc::operation_canceled; with_timeout fails
// them with errc::timed_out, with_cancel (cancel.hpp) and a TaskGroup's cancel with
// errc::operation_canceled.
//
// One read and one write may wait on a socket at a time: a second read (accept, receive,
// wait_readable) started while one is parked fails at once with
// errc::device_or_resource_busy, and the first goes on waiting; the same for writes.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sockit/cancel.hpp"
#include "sockit/deadline.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/fd.hpp"
#include "sockit/socket.hpp"
#include "sockit/task.hpp"

namespace sockit {

// A socket registered with one loop; the base of Stream, Listener and DatagramSocket.
class AsyncSocket {
 public:
  // Registers socket with loop (and makes it non-blocking). Throws sockit::Error.
  AsyncSocket(EventLoop& loop, Socket socket);
  AsyncSocket(AsyncSocket&& other) noexcept;
  AsyncSocket& operator=(AsyncSocket&& other) noexcept;
  ~AsyncSocket() { close(); }

  // Deregisters and closes; parked operations fail with operation_canceled.
  void close() noexcept;
  bool is_open() const noexcept { return io_ != nullptr; }
  EventLoop& loop() const noexcept { return *loop_; }
  Socket& socket() noexcept { return socket_; }
  const Socket& socket() const noexcept { return socket_; }
  int fileno() const noexcept { return socket_.fileno(); }
  // Whether epoll has reported the peer's FIN, a hang-up or an error (see IoHandle::hangup).
  bool hangup_seen() const noexcept { return io_ != nullptr && io_->hangup; }

 protected:
  detail::IoHandle* io() const noexcept { return io_; }

 private:
  friend class IoOperation;
  EventLoop* loop_;
  Socket socket_;
  detail::IoHandle* io_ = nullptr;
};

// The common part of every awaiter: try, park on EAGAIN, cancel on timeout or close.
class IoOperation : public detail::IoWaiter {
 public:
  IoOperation(const AsyncSocket& socket, bool writer) noexcept
      : loop_(&socket.loop()), io_(socket.io()), fd_(socket.fileno()), writer_(writer) {}
  // GCC moves an awaiter returned by await_transform into the frame: the slot moves along.
  IoOperation(IoOperation&& other) noexcept
      : detail::IoWaiter(),
        loop_(other.loop_),
        io_(other.io_),
        slot_(other.slot_),
        fd_(other.fd_),
        writer_(other.writer_) {}

  bool await_ready() noexcept { return io_ == nullptr || refused() || attempt(); }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    detail::LoopAccess::park(*loop_, io_, writer_, *this, h);
    if (slot_ != nullptr) slot_->park(*this);
  }
  // Fails the parked operation with reason and resumes it on a later turn.
  void cancel(std::error_code reason) noexcept {
    detail::LoopAccess::cancel(*loop_, *this, reason);
  }
  EventLoop& loop() const noexcept { return *loop_; }
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { slot_ = slot; }

 protected:
  // Whether the operation fails before its syscall: its task was cancelled, or another
  // operation of its direction is parked on the socket (which then keeps waiting).
  bool refused() noexcept {
    const detail::IoWaiter* parked = writer_ ? io_->writer : io_->reader;
    if (parked == nullptr && (slot_ == nullptr || !slot_->cancelled())) return false;
    cancelled_ = parked != nullptr ? std::make_error_code(std::errc::device_or_resource_busy)
                                   : slot_->refusal();
    return true;
  }
  // The error that ended the wait early (refused, cancelled, timed out, closed), or none.
  std::error_code interrupted() noexcept;
  bool closed() const noexcept { return io_ == nullptr; }
  bool hangup_seen() const noexcept { return io_ != nullptr && io_->hangup; }
  int fd() const noexcept { return fd_; }

 private:
  EventLoop* loop_;
  detail::IoHandle* io_;
  detail::CancelSlot* slot_ = nullptr;
  int fd_;
  bool writer_;
};

class ReadSome final : public IoOperation {
 public:
  ReadSome(const AsyncSocket& socket, std::span<char> buffer) noexcept
      : IoOperation(socket, false), buffer_(buffer) {}
  bool attempt() noexcept override;
  // Bytes read; 0 is end of stream.
  Result<std::size_t> await_resume() noexcept;

 private:
  std::span<char> buffer_;
  Result<std::size_t> result_{std::size_t{0}};
};

// Waits, without reading, for the next readiness edge after a read said it would block: an
// idle connection then holds no buffer, and the wait costs no syscall of its own.
class WaitReadable final : public IoOperation {
 public:
  explicit WaitReadable(const AsyncSocket& socket) noexcept : IoOperation(socket, false) {}
  bool await_ready() noexcept { return closed() || refused(); }
  bool attempt() noexcept override { return true; }
  Result<void> await_resume() noexcept { return interrupted(); }
};

// Waits, without writing, for the next writability edge: the end of a connect started with
// Socket::try_connect on the stream's non-blocking socket (then read opt::error).
class WaitWritable final : public IoOperation {
 public:
  explicit WaitWritable(const AsyncSocket& socket) noexcept : IoOperation(socket, true) {}
  bool await_ready() noexcept { return closed() || refused(); }
  bool attempt() noexcept override { return true; }
  Result<void> await_resume() noexcept { return interrupted(); }
};

// Writes every byte of one buffer, or of several (gathered into sendmsg calls). The parts
// must outlive the await, as the awaiting expression's own array does. The awaiter holds no
// iovec array: it lives in every frame that writes, so it is kept small.
class WriteAll final : public IoOperation {
 public:
  WriteAll(const AsyncSocket& socket, std::string_view data) noexcept
      : IoOperation(socket, true), single_(data) {}
  WriteAll(const AsyncSocket& socket, std::span<const std::string_view> parts) noexcept
      : IoOperation(socket, true), parts_(parts) {}
  bool attempt() noexcept override;
  // Bytes written; on failure, the error (what was written before it is in progress(),
  // as sendall loses it).
  Result<std::size_t> await_resume() noexcept;
  // Bytes written so far: a caller that bounds the stall of a write watches it grow.
  std::size_t progress() const noexcept { return written_; }

 private:
  std::span<const std::string_view> parts() const noexcept {
    return parts_.empty() ? std::span<const std::string_view>(&single_, 1) : parts_;
  }
  void advance(std::size_t sent) noexcept;

  std::string_view single_;
  std::span<const std::string_view> parts_;
  std::size_t part_ = 0;    // the first part not yet written completely
  std::size_t offset_ = 0;  // how much of that part is written
  std::size_t written_ = 0;
  std::error_code error_;
};

// Sends count bytes of a file from offset with sendfile(2): the kernel moves them from the page
// cache to the socket without a copy through user space. sendfile cannot be told not to raise
// SIGPIPE as send can: call ignore_sigpipe() first (the sockit program does).
class SendFile final : public IoOperation {
 public:
  SendFile(const AsyncSocket& socket, const Fd& file, std::uint64_t offset,
           std::uint64_t count) noexcept
      : IoOperation(socket, true), file_(file.get()), offset_(offset), remaining_(count) {}
  bool attempt() noexcept override;
  // Bytes sent: fewer than count only when the file turned out shorter.
  Result<std::uint64_t> await_resume() noexcept;
  // Bytes sent so far, as WriteAll::progress().
  std::uint64_t progress() const noexcept { return sent_; }

 private:
  int file_;
  std::uint64_t offset_;
  std::uint64_t remaining_;
  std::uint64_t sent_ = 0;
  std::error_code error_;
};

class Connect final : public IoOperation {
 public:
  Connect(const AsyncSocket& socket, const Endpoint& endpoint) noexcept;
  bool attempt() noexcept override;
  Result<void> await_resume() noexcept;

 private:
  std::error_code result_;
  bool started_ = false;
  const Endpoint* endpoint_;
};

class Stream : public AsyncSocket {
 public:
  using AsyncSocket::AsyncSocket;

  ReadSome read_some(std::span<char> buffer) noexcept { return {*this, buffer}; }
  // Only after a read returned would-block: see WaitReadable.
  WaitReadable wait_readable() noexcept { return WaitReadable(*this); }
  WaitWritable wait_writable() noexcept { return WaitWritable(*this); }
  WriteAll write_all(std::string_view data) noexcept { return {*this, data}; }
  WriteAll write_all(std::span<const std::string_view> parts) noexcept { return {*this, parts}; }
  SendFile sendfile(const Fd& file, std::uint64_t offset, std::uint64_t count) noexcept {
    return {*this, file, offset, count};
  }
  // For a stream whose socket is not yet connected.
  Connect connect(const Endpoint& endpoint) noexcept { return {*this, endpoint}; }
  // Fills buffer completely unless the stream ends first; returns the bytes read.
  Task<Result<std::size_t>> read_exactly(std::span<char> buffer);
  // Reads what has arrived, without waiting: the bytes, 0 at the end of the stream, or an
  // error (would_block: nothing has, so wait_readable() and try again). A read shorter than
  // buffer emptied the socket: until epoll reports input again, the read that could only say
  // EAGAIN is skipped, unless the peer's FIN has been seen (its report may have come before
  // the short read).
  Result<std::size_t> try_read(std::span<char> buffer) noexcept;
  Result<void> shutdown(Shut how) noexcept { return socket().try_shutdown(how); }

 private:
  std::uint32_t emptied_at_ = 0;  // io()->read_events at the last try_read
  bool emptied_ = false;          // that read emptied the socket
};

// Inline: on every request's path.
inline Result<std::size_t> Stream::try_read(std::span<char> buffer) noexcept {
  const detail::IoHandle* handle = io();
  if (handle == nullptr) return std::make_error_code(std::errc::bad_file_descriptor);
  if (emptied_ && emptied_at_ == handle->read_events && !handle->hangup) {
    return std::make_error_code(std::errc::resource_unavailable_try_again);
  }
  auto received = socket().try_recv_into(buffer);
  emptied_at_ = handle->read_events;
  if (!received) {
    emptied_ = would_block(received.error());
    return received;
  }
  emptied_ = *received > 0 && *received < buffer.size();
  return received;
}

struct AsyncAccepted {
  Stream stream;
  Endpoint peer;
};

class Accept final : public IoOperation {
 public:
  explicit Accept(const AsyncSocket& listener) noexcept
      : IoOperation(listener, false),
        family_(listener.socket().family()),
        type_(listener.socket().type()) {}
  bool attempt() noexcept override;
  // The connection, already registered with the listener's loop.
  Result<AsyncAccepted> await_resume() noexcept;

 private:
  Family family_;
  Type type_;
  Result<int> result_{-1};
  Endpoint peer_;
};

class Listener : public AsyncSocket {
 public:
  using AsyncSocket::AsyncSocket;
  Accept accept() noexcept { return Accept(*this); }
};

class RecvFrom final : public IoOperation {
 public:
  RecvFrom(const AsyncSocket& socket, std::span<char> buffer, Endpoint& from) noexcept
      : IoOperation(socket, false), buffer_(buffer), from_(&from) {}
  bool attempt() noexcept override;
  Result<std::size_t> await_resume() noexcept;

 private:
  std::span<char> buffer_;
  Endpoint* from_;
  Result<std::size_t> result_{std::size_t{0}};
};

class SendTo final : public IoOperation {
 public:
  SendTo(const AsyncSocket& socket, std::string_view data, const Endpoint& to) noexcept
      : IoOperation(socket, true), data_(data), to_(&to) {}
  bool attempt() noexcept override;
  Result<std::size_t> await_resume() noexcept;

 private:
  std::string_view data_;
  const Endpoint* to_;
  Result<std::size_t> result_{std::size_t{0}};
};

class DatagramSocket : public AsyncSocket {
 public:
  using AsyncSocket::AsyncSocket;
  RecvFrom recvfrom(std::span<char> buffer, Endpoint& from) noexcept {
    return {*this, buffer, from};
  }
  SendTo sendto(std::string_view data, const Endpoint& to) noexcept { return {*this, data, to}; }
};

// Suspends the awaiting coroutine for a duration.
class Sleep final : public TimerNode {
 public:
  Sleep(EventLoop& loop, std::chrono::duration<double> duration) noexcept
      : loop_(&loop), duration_(duration) {}
  Sleep(Sleep&& other) noexcept
      : TimerNode(), loop_(other.loop_), duration_(other.duration_), slot_(other.slot_) {}
  ~Sleep() override { loop_->disarm(*this); }

  bool await_ready() noexcept;
  void await_suspend(std::coroutine_handle<> h);
  Result<void> await_resume() noexcept;
  void cancel(std::error_code reason) noexcept;
  EventLoop& loop() const noexcept { return *loop_; }
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { slot_ = slot; }

 private:
  void fire() noexcept override { loop_->schedule(handle_); }

  EventLoop* loop_;
  std::chrono::duration<double> duration_;
  std::coroutine_handle<> handle_;
  std::error_code cancelled_;
  detail::CancelSlot* slot_ = nullptr;
};

inline Sleep sleep(EventLoop& loop, std::chrono::duration<double> duration) noexcept {
  return {loop, duration};
}

// Lets the loop poll for I/O and run its timers before the awaiting coroutine goes on: for
// loops of operations that may all finish without suspending (EventLoop::defer).
class YieldNow {
 public:
  explicit YieldNow(EventLoop& loop) noexcept : loop_(&loop) {}
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { loop_->defer(h); }
  void await_resume() const noexcept {}

 private:
  EventLoop* loop_;
};

inline YieldNow yield_now(EventLoop& loop) noexcept {
  return YieldNow(loop);
}

namespace detail {

// What an awaiter that wraps another (with_timeout, with_cancel) passes through to it: its
// loop, a cancel, and the awaiting task's cancel slot.
template <class Operation>
class Wrapped {
 public:
  explicit Wrapped(Operation&& operation) : operation_(std::move(operation)) {}
  EventLoop& loop() const noexcept { return operation_.loop(); }
  void cancel(std::error_code reason) noexcept { operation_.cancel(reason); }
  void set_cancel_slot(CancelSlot* slot) noexcept {
    if constexpr (requires { operation_.set_cancel_slot(slot); }) operation_.set_cancel_slot(slot);
  }

 protected:
  Operation operation_;
};

}  // namespace detail

// Bounds an operation: if it has not finished within the duration it fails with
// errc::timed_out. Works with every awaiter above (anything with loop() and cancel()).
template <class Operation>
class Timed final : public TimerNode, public detail::Wrapped<Operation> {
 public:
  Timed(std::chrono::duration<double> limit, Operation&& operation)
      : detail::Wrapped<Operation>(std::move(operation)), limit_(limit) {}
  Timed(Timed&& other) noexcept
      : TimerNode(),
        detail::Wrapped<Operation>(std::move(other.operation_)),
        limit_(other.limit_) {}
  ~Timed() override { this->loop().disarm(*this); }

  bool await_ready() noexcept { return this->operation_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) {
    this->operation_.await_suspend(h);
    this->loop().arm(*this, deadline_after(limit_));
  }
  auto await_resume() noexcept {
    this->loop().disarm(*this);
    return this->operation_.await_resume();
  }

 private:
  void fire() noexcept override { this->cancel(std::make_error_code(std::errc::timed_out)); }

  std::chrono::duration<double> limit_;
};

template <class Operation>
Timed<Operation> with_timeout(std::chrono::duration<double> limit, Operation operation) {
  return Timed<Operation>(limit, std::move(operation));
}

// Lets token cancel an operation (any awaiter above, or one wrapped in with_timeout): it
// fails with errc::operation_canceled if the token's source is cancelled while it waits, and
// at once if the source was cancelled before. Composes both ways with with_timeout.
template <class Operation>
class Cancellable final : public detail::CancelLink, public detail::Wrapped<Operation> {
 public:
  Cancellable(CancelToken token, Operation&& operation)
      : detail::Wrapped<Operation>(std::move(operation)), token_(token) {}
  Cancellable(Cancellable&& other) noexcept
      : detail::CancelLink(),
        detail::Wrapped<Operation>(std::move(other.operation_)),
        token_(other.token_) {}

  bool await_ready() noexcept {
    refused_ = token_.cancelled();
    return refused_ || this->operation_.await_ready();
  }
  void await_suspend(std::coroutine_handle<> h) {
    this->operation_.await_suspend(h);
    if (token_.source() != nullptr) link(token_.source());
  }
  auto await_resume() noexcept {
    unlink();
    using Outcome = decltype(this->operation_.await_resume());
    if (refused_) return Outcome(detail::cancelled_error());
    return this->operation_.await_resume();
  }

 private:
  void cancel_parked() noexcept override { this->cancel(detail::cancelled_error()); }

  CancelToken token_;
  bool refused_ = false;
};

template <class Operation>
Cancellable<Operation> with_cancel(CancelToken token, Operation operation) {
  return Cancellable<Operation>(token, std::move(operation));
}

// RFC 8305's Connection Attempt Delay: how long an attempt runs alone before the next starts.
inline constexpr std::chrono::milliseconds kConnectionAttemptDelay{250};

// A stream connected to address, as RFC 8305 ("happy eyeballs") connects: the name resolved
// without blocking the loop (async_resolver.hpp), the addresses of the two families
// interleaved, each attempt started when the one before it has failed or has run for
// kConnectionAttemptDelay; the first to connect wins, and the others are cancelled and closed.
// timeout bounds the whole, resolution included: then errc::timed_out; when every attempt
// failed before, the last one's error. A cancel of the awaiting task cancels it all.
Task<Result<Stream>> connect(EventLoop& loop, Address address,
                             std::chrono::duration<double> timeout);
// The same over endpoints already resolved, tried in their order.
Task<Result<Stream>> connect(EventLoop& loop, std::vector<Endpoint> endpoints,
                             std::chrono::duration<double> timeout);

// A listening socket on loop (SO_REUSEADDR; SO_REUSEPORT when asked, for one listener per
// loop on the same port). Throws sockit::Error (EADDRINUSE names the address).
Listener listen(EventLoop& loop, const Endpoint& endpoint, bool reuse_port = false,
                int backlog = SOMAXCONN);
// The same on the first address address resolves to (asyncio.start_server's host and port).
Listener listen(EventLoop& loop, const Address& address, bool reuse_port = false,
                int backlog = SOMAXCONN);
// A bound UDP socket on loop.
DatagramSocket bind_datagram(EventLoop& loop, const Endpoint& endpoint, bool reuse_port = false);

}  // namespace sockit
