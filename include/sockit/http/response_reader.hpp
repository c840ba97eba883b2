// HTTP/1.1 response framing over a connection's receive buffer: one response after another,
// the head with ResponseParser, then the body as the head frames it (Content-Length, chunked,
// or until the server closes; none after HEAD, 1xx, 204 and 304). The load generator reads
// every reply with it and the client (http/client.hpp) does too.
//
//   ReadBuffer buffer(64 * 1024);
//   ResponseReader reader("GET");
//   auto step = reader.advance(buffer);
//   while (step == ResponseReader::Step::more) {
//     auto n = read(buffer.space());              // 0: the server closed
//     if (n == 0) { step = reader.finish_at_close() ? done : error; break; }
//     buffer.commit(n);
//     step = reader.advance(buffer);
//   }
//
// Nothing is allocated per response; a caller that wants the heads and body bytes (not just
// the framing) passes a ResponseObserver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sockit/http/parser.hpp"

namespace sockit::http {

// A connection's bytes as they arrive, consumed from the front.
class ReadBuffer {
 public:
  explicit ReadBuffer(std::size_t capacity) : data_(capacity) {}
  std::string_view pending() const noexcept { return {data_.data() + begin_, end_ - begin_}; }
  void consume(std::size_t count) noexcept;
  // Room to read into at the end, moving what is pending to the front first when needed;
  // empty when the pending bytes fill the whole buffer.
  std::span<char> space() noexcept;
  void commit(std::size_t count) noexcept { end_ += count; }
  void clear() noexcept { begin_ = end_ = 0; }
  bool full() const noexcept { return end_ - begin_ == data_.size(); }

 private:
  std::vector<char> data_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// What a ResponseReader hands on as it reads. The views are valid during the call only.
class ResponseObserver {
 public:
  virtual ~ResponseObserver() = default;
  // Every head, interim ones (100 Continue, 103 Early Hints) included; raw: its bytes.
  virtual void head(const Response& response, std::string_view raw) = 0;
  virtual void body(std::string_view data) = 0;
};

class ResponseReader {
 public:
  enum class Step : std::uint8_t { more, done, error };
  // method: of the request being answered (a HEAD reply has no body).
  explicit ResponseReader(std::string_view method, ResponseObserver* observer = nullptr);

  // Consumes what it can of the response being read; more: read more and call again.
  // A head that does not fit in the buffer is an error (headers_too_large). Throws only
  // what the observer throws.
  Step advance(ReadBuffer& buffer);
  // The server closed the connection: the end of a body read until close, else false.
  bool finish_at_close() noexcept;
  // Ready for the next response on the connection.
  void reset() noexcept;

  int status() const noexcept { return status_; }
  // Whether the connection may carry the next response (never after a body until close).
  bool keep_alive() const noexcept { return keep_alive_; }
  BodyKind body_kind() const noexcept { return kind_; }
  std::uint64_t content_length() const noexcept { return length_; }
  // Whether the head of the response being read has been parsed.
  bool has_head() const noexcept { return stage_ != Stage::head; }
  ParseError error() const noexcept { return error_; }

 private:
  enum class Stage : std::uint8_t { head, body, done };
  Step head(ReadBuffer& buffer);
  Step body(ReadBuffer& buffer);
  void deliver(std::string_view data);

  ResponseParser parser_;
  ChunkedDecoder chunked_;
  ResponseObserver* observer_;
  Stage stage_ = Stage::head;
  BodyKind kind_ = BodyKind::none;
  std::uint64_t length_ = 0;
  std::uint64_t remaining_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  ParseError error_ = ParseError::none;
};

}  // namespace sockit::http
