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
#include <cstdint>
#include <span>
#include <string_view>

#include "sockit/async.hpp"
#include "sockit/error.hpp"
#include "sockit/fd.hpp"
#include "sockit/task.hpp"
#include "sockit/tls.hpp"

namespace sockit {

class AsyncTlsStream;

// A write of an AsyncTlsStream: a TaskOp that also tells how much it has written so far, so
// that a send timeout (SendWait, server.hpp) can tell a slow peer from a stalled one.
class TlsWrite final : public TaskOp<Result<std::uint64_t>> {
 public:
  TlsWrite(AsyncTlsStream& stream, Task<Result<std::uint64_t>> task);
  std::uint64_t progress() const noexcept;

 private:
  const AsyncTlsStream* stream_;
};

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
  TlsWrite write_all(std::string_view data);
  TlsWrite write_all(std::span<const std::string_view> parts);
  // count bytes of file from offset, read in large chunks straight into the session (TLS
  // cannot use sendfile); the bytes written, fewer if the file is shorter.
  TlsWrite write_file(const Fd& file, std::uint64_t offset, std::uint64_t count);
  // What the session takes of data now, without waiting: the bytes (at least one record's
  // worth when the socket has room), or would_block. After would_block, the next write must
  // start with the same bytes (OpenSSL finishes the record it began).
  Result<std::size_t> try_write(std::string_view data);
  // Sends close_notify (without waiting for the peer's).
  TaskOp<Result<void>> shutdown();

  TlsEngine& engine() noexcept { return engine_; }
  Stream& stream() noexcept { return *stream_; }

 private:
  Task<Result<void>> run_handshake();
  Task<Result<std::size_t>> run_read(std::span<char> buffer);
  friend class TlsWrite;
  Task<Result<std::uint64_t>> run_write(std::string_view data);
  Task<Result<std::uint64_t>> run_write(std::span<const std::string_view> parts);
  Task<Result<std::uint64_t>> run_write_file(const Fd& file, std::uint64_t offset,
                                             std::uint64_t count);
  // Writes all of data, adding to written_ as it goes.
  Task<Result<void>> write_out(std::string_view data);
  // Waits until the engine can go on after step (want_read or want_write).
  Task<Result<void>> wait(TlsEngine::Step step);
  Task<Result<void>> run_shutdown();

  Stream* stream_;
  TlsEngine engine_;
  std::uint64_t written_ = 0;  // by the write in progress
};

}  // namespace sockit
