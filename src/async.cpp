#include "sockit/async.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "sockit/async_resolver.hpp"
#include "sockit/task_group.hpp"
#include "sys/event.hpp"
#include "sys/file.hpp"
#include "sys/sys.hpp"

namespace sockit {
namespace {

// An attempt is finished unless the syscall said it would block.
template <class T>
bool finished(const Result<T>& result) noexcept {
  return result.ok() || !would_block(result.error());
}

}  // namespace

AsyncSocket::AsyncSocket(EventLoop& loop, Socket socket)
    : loop_(&loop), socket_(std::move(socket)) {
  if (socket_.getblocking()) socket_.setblocking(false);
  io_ = detail::LoopAccess::add(loop, socket_.fileno());
}

AsyncSocket::AsyncSocket(AsyncSocket&& other) noexcept
    : loop_(other.loop_),
      socket_(std::move(other.socket_)),
      io_(std::exchange(other.io_, nullptr)) {}

AsyncSocket& AsyncSocket::operator=(AsyncSocket&& other) noexcept {
  if (this != &other) {
    close();
    loop_ = other.loop_;
    socket_ = std::move(other.socket_);
    io_ = std::exchange(other.io_, nullptr);
  }
  return *this;
}

void AsyncSocket::close() noexcept {
  if (io_) detail::LoopAccess::remove(*loop_, std::exchange(io_, nullptr));
  socket_.close();
}

std::error_code IoOperation::interrupted() noexcept {
  if (slot_ != nullptr) slot_->unpark(this);
  if (io_ == nullptr) return detail::cancelled_error();
  return cancelled_;
}

bool ReadSome::attempt() noexcept {
  result_ = sys::recv(fd(), buffer_.data(), buffer_.size(), 0);
  return finished(result_);
}

Result<std::size_t> ReadSome::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  return result_;
}

bool WriteAll::attempt() noexcept {
  constexpr std::size_t kBatch = 16;
  const auto all = parts();
  while (!error_ && part_ < all.size()) {
    std::array<iovec, kBatch> batch;
    std::size_t count = 0;
    for (std::size_t i = part_; i < all.size() && count < kBatch; ++i) {
      const std::string_view part = i == part_ ? all[i].substr(offset_) : all[i];
      if (!part.empty()) batch[count++] = iovec{const_cast<char*>(part.data()), part.size()};
    }
    if (count == 0) break;
    auto sent = sys::sendv(fd(), std::span<const iovec>(batch.data(), count));
    if (!sent) {
      if (would_block(sent.error())) return false;
      error_ = sent.error();
      break;
    }
    written_ += *sent;
    advance(*sent);
  }
  return true;
}

void WriteAll::advance(std::size_t sent) noexcept {
  const auto all = parts();
  while (part_ < all.size()) {
    const std::size_t room = all[part_].size() - offset_;
    if (sent < room) {
      offset_ += sent;
      return;
    }
    sent -= room;
    ++part_;
    offset_ = 0;
  }
}

Result<std::size_t> WriteAll::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  if (error_) return error_;
  return written_;
}

bool SendFile::attempt() noexcept {
  // Linux moves at most 0x7ffff000 bytes per sendfile call.
  constexpr std::uint64_t kChunk = 0x7ffff000;
  while (!error_ && remaining_ > 0) {
    auto sent = sys::sendfile(fd(), file_, offset_, std::min(remaining_, kChunk));
    if (!sent) {
      if (would_block(sent.error())) return false;
      error_ = sent.error();
      break;
    }
    if (*sent == 0) break;  // the file is shorter than it was said to be
    sent_ += *sent;
    remaining_ -= *sent;
  }
  return true;
}

Result<std::uint64_t> SendFile::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  if (error_) return error_;
  return sent_;
}

Connect::Connect(const AsyncSocket& socket, const Endpoint& endpoint) noexcept
    : IoOperation(socket, true), endpoint_(&endpoint) {}

bool Connect::attempt() noexcept {
  if (!started_) {
    started_ = true;
    result_ = sys::connect(fd(), *endpoint_);
    return result_ != std::errc::operation_in_progress;
  }
  // Writable with no error or hang-up reported: the handshake is done, and SO_ERROR could
  // only say so again.
  if (!hangup_seen()) {
    result_ = {};
    return true;
  }
  int pending = 0;
  socklen_t length = sizeof pending;
  if (auto failed = sys::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &pending, length)) {
    result_ = failed;
  } else {
    result_ = std::error_code(pending, std::system_category());
  }
  return true;
}

Result<void> Connect::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  return result_;
}

bool Accept::attempt() noexcept {
  result_ = sys::accept(fd(), peer_, SOCK_NONBLOCK);
  return finished(result_);
}

Result<AsyncAccepted> Accept::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  if (!result_) return result_.error();
  // accept4 made it non-blocking already: adopting it costs no further syscall.
  auto conn = Socket::from_fd(Fd(*result_), family_, type_, 0, Duration(0));
  try {
    return AsyncAccepted{Stream(loop(), std::move(conn)), peer_};
  } catch (const std::system_error& e) {
    return e.code();
  }
}

bool RecvFrom::attempt() noexcept {
  result_ = sys::recvfrom(fd(), buffer_.data(), buffer_.size(), 0, *from_);
  return finished(result_);
}

Result<std::size_t> RecvFrom::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  return result_;
}

bool SendTo::attempt() noexcept {
  result_ = sys::sendto(fd(), data_.data(), data_.size(), 0, *to_);
  return finished(result_);
}

Result<std::size_t> SendTo::await_resume() noexcept {
  if (auto code = interrupted()) return code;
  return result_;
}

bool Sleep::await_ready() noexcept {
  if (slot_ != nullptr && slot_->cancelled()) {
    cancelled_ = slot_->refusal();
    return true;
  }
  return duration_.count() <= 0;
}

void Sleep::await_suspend(std::coroutine_handle<> h) {
  handle_ = h;
  loop_->arm(*this, deadline_after(duration_));
  if (slot_ != nullptr) slot_->park(*this);
}

Result<void> Sleep::await_resume() noexcept {
  if (slot_ != nullptr) slot_->unpark(this);
  return cancelled_;
}

void Sleep::cancel(std::error_code reason) noexcept {
  if (!armed()) return;
  loop_->disarm(*this);
  cancelled_ = reason;
  loop_->schedule(handle_);
}

Task<Result<std::size_t>> Stream::read_exactly(std::span<char> buffer) {
  std::size_t total = 0;
  while (total < buffer.size()) {
    auto n = co_await read_some(buffer.subspan(total));
    if (!n) co_return n.error();
    if (*n == 0) break;
    total += *n;
  }
  co_return total;
}

namespace {

// RFC 8305 section 4: the families take turns, the resolver's first family first.
std::vector<Endpoint> interleave_families(std::vector<Endpoint> endpoints) {
  if (endpoints.empty()) return endpoints;
  const Family lead = endpoints.front().family();
  std::vector<Endpoint> first;
  std::vector<Endpoint> other;
  for (auto& endpoint : endpoints)
    (endpoint.family() == lead ? first : other).push_back(std::move(endpoint));
  endpoints.clear();
  for (std::size_t i = 0; i < std::max(first.size(), other.size()); ++i) {
    if (i < first.size()) endpoints.push_back(std::move(first[i]));
    if (i < other.size()) endpoints.push_back(std::move(other[i]));
  }
  return endpoints;
}

// The attempts of one connect(): the first stream to connect wins.
struct Race {
  explicit Race(EventLoop& loop) noexcept : attempts(loop) {}

  // An attempt has ended: the wait of connect(), if any, ends too.
  void ended(std::error_code failure) noexcept {
    if (failure && failure != std::errc::operation_canceled) last_failure = failure;
    ++ends;
    if (news != nullptr) news->cancel();
  }

  std::optional<Stream> winner;
  std::error_code last_failure;
  std::size_t ends = 0;
  CancelSource* news = nullptr;
  TaskGroup attempts;
};

Result<Stream> open_stream(EventLoop& loop, Family family) noexcept {
  auto socket = Socket::try_create_nonblocking(family, Type::stream);
  if (!socket) return socket.error();
  try {
    return Stream(loop, std::move(*socket));
  } catch (const std::system_error& e) {
    return e.code();
  }
}

Task<> attempt(EventLoop& loop, Race& race, const Endpoint& endpoint) {
  auto stream = open_stream(loop, endpoint.family());
  if (!stream) co_return race.ended(stream.error());
  if (auto connected = co_await stream->connect(endpoint); !connected) {
    co_return race.ended(connected.error());
  }
  if (!race.winner) {
    race.winner.emplace(std::move(*stream));
    race.attempts.cancel();
  }
  race.ended({});
}

// Waits until an attempt ends or limit passes; false when the awaiting task was cancelled.
Task<bool> wait_for_news(EventLoop& loop, Race& race, SteadyClock::duration limit) {
  CancelSource news;
  race.news = &news;
  const auto slept = co_await with_cancel(news.token(), sleep(loop, limit));
  race.news = nullptr;
  co_return slept.ok() || news.cancelled();
}

}  // namespace

Task<Result<Stream>> connect(EventLoop& loop, Address address,
                             std::chrono::duration<double> timeout) {
  const auto started = SteadyClock::now();
  auto endpoints = co_await with_timeout(
      timeout, resolve(loop, std::move(address), Family::unspec, Type::stream));
  if (!endpoints) co_return endpoints.error();
  co_return co_await connect(loop, interleave_families(std::move(*endpoints)),
                             timeout - (SteadyClock::now() - started));
}

Task<Result<Stream>> connect(EventLoop& loop, std::vector<Endpoint> endpoints,
                             std::chrono::duration<double> timeout) {
  const auto deadline =
      SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(timeout);
  Race race(loop);
  bool timed_out = false;
  bool cancelled = false;
  // Waits for an attempt to end, at most limit (the deadline's remainder at most).
  auto wait = [&](SteadyClock::duration limit) -> Task<> {
    const auto left = deadline - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) {
      timed_out = true;
      co_return;
    }
    cancelled = !co_await wait_for_news(loop, race, std::min(limit, left));
  };
  for (std::size_t i = 0; i < endpoints.size() && !race.winner && !timed_out && !cancelled; ++i) {
    const std::size_t ends = race.ends;
    race.attempts.spawn(attempt(loop, race, endpoints[i]));
    if (race.ends == ends && !race.winner && i + 1 < endpoints.size()) {
      co_await wait(kConnectionAttemptDelay);
    }
  }
  while (!race.winner && race.attempts.size() > 0 && !timed_out && !cancelled)
    co_await wait(SteadyClock::duration::max());
  race.attempts.cancel();
  co_await race.attempts.join();
  if (race.winner) co_return std::move(*race.winner);
  if (cancelled) co_return detail::cancelled_error();
  if (timed_out || !race.last_failure) co_return std::make_error_code(std::errc::timed_out);
  co_return race.last_failure;
}

Listener listen(EventLoop& loop, const Endpoint& endpoint, bool reuse_port, int backlog) {
  Socket socket(endpoint.family(), Type::stream);
  if (endpoint.family() != Family::local) socket.set(opt::reuse_address{true});
  if (reuse_port) socket.set(opt::reuse_port{true});
  if (endpoint.family() == Family::inet6) socket.set(opt::v6_only{true});
  socket.bind(endpoint);
  socket.listen(backlog);
  return Listener(loop, std::move(socket));
}

Listener listen(EventLoop& loop, const Address& address, bool reuse_port, int backlog) {
  return listen(loop, resolve(address, Family::unspec, Type::stream, AI_PASSIVE).front(),
                reuse_port, backlog);
}

DatagramSocket bind_datagram(EventLoop& loop, const Endpoint& endpoint, bool reuse_port) {
  Socket socket(endpoint.family(), Type::dgram);
  if (reuse_port) socket.set(opt::reuse_port{true});
  if (endpoint.family() == Family::inet6) socket.set(opt::v6_only{true});
  socket.bind(endpoint);
  return DatagramSocket(loop, std::move(socket));
}

}  // namespace sockit
