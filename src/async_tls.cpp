#include "sockit/async_tls.hpp"

namespace sockit {

TaskOp<Result<void>> AsyncTlsStream::handshake() {
  return {stream_->loop(), run_handshake()};
}

TaskOp<Result<std::size_t>> AsyncTlsStream::read_some(std::span<char> buffer) {
  return {stream_->loop(), run_read(buffer)};
}

TaskOp<Result<std::size_t>> AsyncTlsStream::write_all(std::string_view data) {
  single_ = data;
  return {stream_->loop(), run_write(std::span<const std::string_view>(&single_, 1))};
}

TaskOp<Result<std::size_t>> AsyncTlsStream::write_all(std::span<const std::string_view> parts) {
  return {stream_->loop(), run_write(parts)};
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
    const auto waited = step.status == TlsEngine::Step::want_write
                            ? co_await stream_->wait_writable()
                            : co_await stream_->wait_readable();
    if (!waited) co_return waited.error();
  }
}

Result<std::size_t> AsyncTlsStream::try_read(std::span<char> buffer) {
  const auto step = engine_.read(buffer);
  switch (step.status) {
    case TlsEngine::Step::done:
      return step.bytes;
    case TlsEngine::Step::closed:
      return std::size_t{0};
    case TlsEngine::Step::failed:
      // A peer that closes the connection without close_notify ends the session all the same
      // (as browsers and curl do); truncation matters to framed protocols, which notice it.
      if (step.error == TlsEngine::unexpected_eof()) return std::size_t{0};
      return step.error;
    default:
      return std::make_error_code(std::errc::resource_unavailable_try_again);
  }
}

Task<Result<std::size_t>> AsyncTlsStream::run_read(std::span<char> buffer) {
  for (;;) {
    const auto step = engine_.read(buffer);
    switch (step.status) {
      case TlsEngine::Step::done:
        co_return step.bytes;
      case TlsEngine::Step::closed:
        co_return std::size_t{0};
      case TlsEngine::Step::failed:
        if (step.error == TlsEngine::unexpected_eof()) co_return std::size_t{0};
        co_return step.error;
      default:
        break;
    }
    const auto waited = step.status == TlsEngine::Step::want_write
                            ? co_await stream_->wait_writable()
                            : co_await stream_->wait_readable();
    if (!waited) co_return waited.error();
  }
}

Task<Result<std::size_t>> AsyncTlsStream::run_write(std::span<const std::string_view> parts) {
  std::size_t written = 0;
  for (std::string_view part : parts) {
    while (!part.empty()) {
      const auto step = engine_.write(part);
      if (step.status == TlsEngine::Step::done) {
        written += step.bytes;
        part.remove_prefix(step.bytes);
        continue;
      }
      if (step.status == TlsEngine::Step::closed) {
        co_return std::make_error_code(std::errc::broken_pipe);
      }
      if (step.status == TlsEngine::Step::failed) co_return step.error;
      const auto waited = step.status == TlsEngine::Step::want_write
                              ? co_await stream_->wait_writable()
                              : co_await stream_->wait_readable();
      if (!waited) co_return waited.error();
    }
  }
  co_return written;
}

Task<Result<void>> AsyncTlsStream::run_shutdown() {
  for (;;) {
    const auto step = engine_.shutdown();
    if (step.status == TlsEngine::Step::done || step.status == TlsEngine::Step::closed) {
      co_return Result<void>{};
    }
    if (step.status == TlsEngine::Step::failed) co_return step.error;
    const auto waited = step.status == TlsEngine::Step::want_write
                            ? co_await stream_->wait_writable()
                            : co_await stream_->wait_readable();
    if (!waited) co_return waited.error();
  }
}

}  // namespace sockit
