// TLS on the event loop: a session over a Stream, driven by the same TlsEngine as the blocking
// TlsStream (tls.hpp), so both speak TLS the same way.
//
//   const sockit::TlsContext context;  // a client's: the system's trust store
//   sockit::Stream stream = (co_await sockit::connect(loop, {"example.com", 443}, 5s)).value();
//   sockit::AsyncTlsStream tls(stream, context, "example.com");
//   if (auto done = co_await with_timeout(5s, tls.handshake()); !done) ...  // done.error()
//   co_await tls.write_all("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
//   auto n = co_await with_timeout(5s, tls.read_some(buffer));
//
// Every operation is a TaskOp: with_timeout and with_cancel bound it as they bound any
// operation, and a TaskGroup's cancel reaches it. Failures are codes, never exceptions:
// tls_category() (OpenSSL's reason), tls_verify_category() (the peer's certificate), or the
// socket's. One read and one write may wait at the same time (a reader task beside a writer
// task); OpenSSL's state is only touched from the loop's thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sockit/async.hpp"
#include "sockit/error.hpp"
#include "sockit/task.hpp"
#include "sockit/tls.hpp"

namespace sockit {

class AsyncTlsStream {
 public:
  // A session over stream, which must outlive it and stays the caller's (a server's
  // Connection owns its stream). A client context verifies server_hostname; a server
  // context ignores it.
  AsyncTlsStream(Stream& stream, const TlsContext& context, std::string_view server_hostname = {})
      : stream_(&stream), engine_(context.engine(stream.fileno(), server_hostname)) {}

  TaskOp<Result<void>> handshake();
  // Up to buffer.size() bytes of plaintext; 0 once the peer has ended the session (with
  // close_notify, or by closing the connection after the handshake).
  TaskOp<Result<std::size_t>> read_some(std::span<char> buffer);
  // Plaintext that is already decrypted, or what the socket has now, without waiting: the
  // bytes, 0 at the end of the session, or would_block (await read_some instead).
  Result<std::size_t> try_read(std::span<char> buffer);
  // Every byte of data, or of the parts in order; the bytes written.
  TaskOp<Result<std::size_t>> write_all(std::string_view data);
  TaskOp<Result<std::size_t>> write_all(std::span<const std::string_view> parts);
  // Sends close_notify (without waiting for the peer's).
  TaskOp<Result<void>> shutdown();

  TlsEngine& engine() noexcept { return engine_; }
  Stream& stream() noexcept { return *stream_; }

 private:
  Task<Result<void>> run_handshake();
  Task<Result<std::size_t>> run_read(std::span<char> buffer);
  Task<Result<std::size_t>> run_write(std::span<const std::string_view> parts);
  Task<Result<void>> run_shutdown();

  Stream* stream_;
  TlsEngine engine_;
  std::string_view single_;  // write_all(data)'s one part
};

}  // namespace sockit
