#include "sockit/async_tls.hpp"

#include <algorithm>
#include <vector>

#include "sys/file.hpp"

namespace sockit {
namespace {

bool waits(const TlsEngine::Step& step) noexcept {
  return step.status == TlsEngine::Step::want_read || step.status == TlsEngine::Step::want_write;
}

// What a read that did not wait came to: bytes, 0 at the end, or the error.
Result<std::size_t> read_outcome(const TlsEngine::Step& step) noexcept {
  if (step.status == TlsEngine::Step::done) return step.bytes;
  // A peer that closes the connection without close_notify ends the session all the same
  // (as browsers and curl do); truncation matters to framed protocols, which notice it.
  if (step.status == TlsEngine::Step::closed || step.error == TlsEngine::unexpected_eof()) {
    return std::size_t{0};
  }
  return step.error;
}

}  // namespace

TlsWrite::TlsWrite(AsyncTlsStream& stream, Task<Result<std::uint64_t>> task)
    : TaskOp<Result<std::uint64_t>>(stream.stream().loop(), std::move(task)), stream_(&stream) {}

std::uint64_t TlsWrite::progress() const noexcept {
  return stream_->written_;
}

TaskOp<Result<void>> AsyncTlsStream::handshake() {
  return {stream_->loop(), run_handshake()};
}

TaskOp<Result<std::size_t>> AsyncTlsStream::read_some(std::span<char> buffer) {
  return {stream_->loop(), run_read(buffer)};
}

TlsWrite AsyncTlsStream::write_all(std::string_view data) {
  return {*this, run_write(data)};
}

TlsWrite AsyncTlsStream::write_all(std::span<const std::string_view> parts) {
  return {*this, run_write(parts)};
}

TlsWrite AsyncTlsStream::write_file(const Fd& file, std::uint64_t offset, std::uint64_t count) {
  return {*this, run_write_file(file, offset, count)};
}

Result<std::size_t> AsyncTlsStream::try_write(std::string_view data) {
  const auto step = engine_.write(data);
  switch (step.status) {
    case TlsEngine::Step::done:
      return step.bytes;
    case TlsEngine::Step::closed:
      return std::make_error_code(std::errc::broken_pipe);
    case TlsEngine::Step::failed:
      return step.error;
    default:
      return std::make_error_code(std::errc::resource_unavailable_try_again);
  }
}

Task<Result<void>> AsyncTlsStream::wait(TlsEngine::Step step) {
  if (step.status == TlsEngine::Step::want_write) co_return co_await stream_->wait_writable();
  co_return co_await stream_->wait_readable();
}

TaskOp<Result<void>> AsyncTlsStream::shutdown() {
  return {stream_->loop(), run_shutdown()};
}

Task<Result<void>> AsyncTlsStream::run_handshake() {
  for (;;) {
    const auto step = engine_.handshake();
    if (step.status == TlsEngine::Step::done) co_return Result<void>{};
    if (step.status == TlsEngine::Step::closed) {
      co_return std::make_error_code(std::errc::connection_reset);
    }
    if (step.status == TlsEngine::Step::failed) co_return step.error;
    if (auto waited = co_await wait(step); !waited) co_return waited.error();
  }
}

Result<std::size_t> AsyncTlsStream::try_read(std::span<char> buffer) {
  const auto step = engine_.read(buffer);
  if (waits(step)) return std::make_error_code(std::errc::resource_unavailable_try_again);
  return read_outcome(step);
}

Task<Result<std::size_t>> AsyncTlsStream::run_read(std::span<char> buffer) {
  for (;;) {
    const auto step = engine_.read(buffer);
    if (!waits(step)) co_return read_outcome(step);
    if (auto waited = co_await wait(step); !waited) co_return waited.error();
  }
}

Task<Result<void>> AsyncTlsStream::write_out(std::string_view data) {
  while (!data.empty()) {
    const auto step = engine_.write(data);
    if (step.status == TlsEngine::Step::done) {
      written_ += step.bytes;
      data.remove_prefix(step.bytes);
      continue;
    }
    if (step.status == TlsEngine::Step::closed) {
      co_return std::make_error_code(std::errc::broken_pipe);
    }
    if (step.status == TlsEngine::Step::failed) co_return step.error;
    if (auto waited = co_await wait(step); !waited) co_return waited.error();
  }
  co_return Result<void>{};
}

// The one part lives in this frame, so that no member has to hold it while the write waits.
Task<Result<std::uint64_t>> AsyncTlsStream::run_write(std::string_view data) {
  written_ = 0;
  if (auto done = co_await write_out(data); !done) co_return done.error();
  co_return written_;
}

Task<Result<std::uint64_t>> AsyncTlsStream::run_write(std::span<const std::string_view> parts) {
  written_ = 0;
  for (const std::string_view part : parts) {
    if (auto done = co_await write_out(part); !done) co_return done.error();
  }
  co_return written_;
}

Task<Result<std::uint64_t>> AsyncTlsStream::run_write_file(const Fd& file, std::uint64_t offset,
                                                           std::uint64_t count) {
  written_ = 0;
  // Four records a read: few syscalls, and memory only while a file goes out.
  std::vector<char> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(count, 64 * 1024)));
  while (written_ < count) {
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(count - written_, buffer.size()));
    auto got = sys::pread(file.get(), buffer.data(), want, offset + written_);
    if (!got) co_return got.error();
    if (*got == 0) break;  // the file shrank
    if (auto done = co_await write_out({buffer.data(), *got}); !done) co_return done.error();
  }
  co_return written_;
}

Task<Result<void>> AsyncTlsStream::run_shutdown() {
  for (;;) {
    const auto step = engine_.shutdown();
    if (step.status == TlsEngine::Step::done || step.status == TlsEngine::Step::closed) {
      co_return Result<void>{};
    }
    if (step.status == TlsEngine::Step::failed) co_return step.error;
    if (auto waited = co_await wait(step); !waited) co_return waited.error();
  }
}

}  // namespace sockit
