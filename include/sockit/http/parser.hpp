// HTTP/1.1 message parsing (RFC 9112): request and response heads, and the chunked body
// coding. The parsers are incremental and zero-copy:
//
//   RequestParser parser;
//   for (;;) {
//     buffer.append(read_more());
//     auto status = parser.parse(buffer);          // the whole message so far, every time
//     if (status == ParseStatus::incomplete) continue;
//     if (status == ParseStatus::error) reply(status_for(parser.error()));
//     const Request& r = parser.request();         // views into buffer
//     ...
//     buffer.erase(0, r.head_size);                // then parser.reset() for the next one
//   }
//
// parse() is given the bytes of the message from its first byte each time, with more at the
// end; it resumes where the last call stopped, so a head that arrives one byte at a time is
// scanned once in all. The bytes may have moved between calls (a buffer that grew): the parser
// keeps offsets, and the views it hands out point into the buffer of the last call. They stay
// valid as long as that buffer does.
//
// The parsers never throw, never allocate after construction, and stop at hard limits.
//
// What they accept (RFC 9112, RFC 9110), where the RFCs leave a choice:
// - a bare LF ends a head line as CRLF does (RFC 9112 2.2); a CR anywhere else is an error.
//   Chunk framing takes CRLF only.
// - empty lines before a request line are skipped, and counted in head_size.
// - HTTP/1.x with a minor version above 1 is read as HTTP/1.1 (version_minor 1, RFC 9112
//   2.3); any other major version is unsupported_version, as is a request line without one.
// - a Content-Length list of equal values ("5, 5", or the same value in two fields) is that
//   value (RFC 9110 8.6); lengths of 2^63 or more are bad_content_length.
// - requests take Transfer-Encoding only as exactly one "chunked" (and not in HTTP/1.0);
//   a response whose final coding is not chunked is read until close (other codings are
//   not decoded: they show in the Transfer-Encoding field).
// - a message with both Content-Length and Transfer-Encoding is rejected, request or reply.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace sockit::http {

enum class ParseStatus : std::uint8_t { complete, incomplete, error };

// Why a message was rejected. status_for() maps each to the reply a server gives.
enum class ParseError : std::uint8_t {
  none,
  bad_request_line,            // 400
  bad_method,                  // 400: not a token
  bad_target,                  // 400: empty, or a control character or space in it
  bad_version,                 // 400: not HTTP/d.d
  unsupported_version,         // 505: HTTP/2+ or HTTP/0.x in an HTTP/1 head
  request_line_too_long,       // 414
  bad_status_line,             // responses: not "HTTP/1.x ddd reason"
  bad_header,                  // 400: no colon, empty or invalid name, space before the colon,
                               // a control character in the value, a bare CR
  obsolete_line_folding,       // 400: a line starting with space or tab (RFC 9112 5.2)
  headers_too_large,           // 431: the head beyond Limits::max_head_bytes
  too_many_headers,            // 431
  bad_content_length,          // 400: not digits, or too large
  conflicting_content_length,  // 400: two different values
  content_length_with_transfer_encoding,  // 400: both present (request smuggling)
  unsupported_transfer_encoding,          // 501: anything but a final "chunked"
  missing_host,                           // 400: an HTTP/1.1 request without exactly one Host
  bad_host,   // 400: a Host value that is no host[:port] (spaces, path characters; RFC 9112 3.2)
  bad_chunk,  // 400: malformed chunk size, extension or framing
  chunk_too_large,  // 400: a chunk size beyond 2^63
};

// A short English description ("obsolete line folding"), for logs and error bodies.
std::string_view describe(ParseError error) noexcept;
// The status code a server answers the error with (400, 414, 431, 501, 505; 502 for a
// malformed status line, which a proxy reports; 200 for none).
int status_for(ParseError error) noexcept;

struct Limits {
  std::size_t max_request_line = 8 * 1024;  // request line or status line, CRLF excluded
  std::size_t max_head_bytes = 64 * 1024;   // the whole head, request line included
  std::size_t max_headers = 100;
};

struct Header {
  std::string_view name;   // as sent; compare with iequals
  std::string_view value;  // leading and trailing whitespace removed
};

// How the body that follows a head is delimited.
enum class BodyKind : std::uint8_t {
  none,         // no body (requests without length or coding; HEAD, 1xx, 204, 304 replies)
  length,       // exactly content_length bytes
  chunked,      // chunked coding: feed it to a ChunkedDecoder
  until_close,  // a response that ends when the server closes
};

// text without its leading and trailing spaces and tabs (RFC 9110's optional whitespace).
std::string_view trim_ows(std::string_view text) noexcept;
// Whether text is a non-empty RFC 9110 token, as a method or a header name is.
bool is_token(std::string_view text) noexcept;
// ASCII case-insensitive comparison, as header names and tokens are compared.
bool iequals(std::string_view a, std::string_view b) noexcept;
// Whether a comma-separated header value lists token (case-insensitively), as
// "Connection: keep-alive, Upgrade" lists "upgrade".
bool has_token(std::string_view list, std::string_view token) noexcept;

// What requests and responses share: the headers and how the body is framed.
struct Message {
  int version_minor = 1;  // HTTP/1.<version_minor>
  std::span<const Header> headers;
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;  // for BodyKind::length
  // Whether the connection may carry another message after this one: HTTP/1.1 unless
  // "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive = true;
  std::size_t head_size = 0;  // bytes of the head, final CRLF included

  // The first header of that name, or an empty view (compared case-insensitively).
  std::string_view header(std::string_view name) const noexcept;
  bool has_header(std::string_view name) const noexcept;
};

struct Request : Message {
  std::string_view method;
  std::string_view target;  // as sent: origin form "/a?b", absolute form, authority or "*"
};

struct Response : Message {
  int status = 0;
  std::string_view reason;
};

namespace detail {

// A field line already parsed, as offsets into the message, so that the buffer may move
// between calls.
struct FieldSpan {
  std::uint32_t name_offset;
  std::uint32_t name_size;
  std::uint32_t value_offset;
  std::uint32_t value_size;
};

// The field lines of a head or trailer section parsed so far.
struct FieldLines {
  std::vector<FieldSpan> spans;
  std::vector<Header> headers;  // the spans as views, once the section is complete
  std::size_t next_line = 0;    // where the first line not yet parsed starts
  std::size_t scanned = 0;      // how far that line is checked
  std::size_t colon = 0;        // where its name ends, once it does (a name is never empty)
};

// What the fields that frame the body said so far.
struct Framing {
  std::uint64_t content_length = 0;
  bool has_content_length = false;
  bool has_transfer_encoding = false;
  bool final_chunked = false;  // the last transfer coding listed is chunked
  bool other_coding = false;   // a transfer coding other than chunked is listed
  std::uint8_t chunked = 0;    // how many times chunked is listed (saturates)
  std::uint8_t hosts = 0;      // Host fields (saturates)
  bool bad_host = false;       // a Host value with characters no host[:port] has
  bool connection_close = false;
  bool connection_keep_alive = false;
};

// Where a head parser is: the start line (request or status line), the fields, or done.
enum class HeadStage : std::uint8_t { start_line, fields, complete, failed };

// What a request parser and a response parser share: limits, the field lines, what framed
// the body, where the parse is, and the error it stopped at.
class HeadParser {
 public:
  ParseError error() const noexcept { return error_; }

 protected:
  explicit HeadParser(Limits limits);
  // Ready for the next head; the derived parser clears its own message.
  void reset_head() noexcept;
  ParseStatus fail(ParseError error) noexcept;
  // The start line that begins at start, within limits_: complete with end where its content
  // ends (before CR LF) and fields_ past it; incomplete while its LF is to come; or failed.
  ParseStatus find_start_line(std::string_view data, std::size_t start, std::size_t& end) noexcept;

  Limits limits_;
  FieldLines fields_;
  Framing framing_;
  ParseError error_ = ParseError::none;
  HeadStage stage_ = HeadStage::start_line;
  int version_minor_ = 1;
};

// What RequestParser and ResponseParser do alike over a HeadParser. parse() parses the start
// line, then the fields, then the message, each step resuming where the last call stopped;
// the Parser's parse_start_line, finish and make_start_line_views fill in its Message (a
// Request or a Response). reset() readies both for the next head.
template <class Parser, class Message>
class MessageParser : protected HeadParser {
 public:
  ParseStatus parse(std::string_view data) noexcept;
  using HeadParser::error;
  void reset() noexcept;

 protected:
  explicit MessageParser(Limits limits) : HeadParser(limits) {}
  // Completes message_ with what every head has (the Parser's finish() sets the rest first).
  ParseStatus complete_message(std::string_view data, BodyKind body, bool keeps_alive) noexcept;

  Message message_;

 private:
  // Points message_'s views into data: the fields here, the start line's in the Parser.
  void make_views(std::string_view data) noexcept;
};

}  // namespace detail

// Parses request heads. One parser serves every request of a connection: reset() between
// them. After an error, the parser stays in error until reset().
class RequestParser : public detail::MessageParser<RequestParser, Request> {
 public:
  explicit RequestParser(Limits limits = {});

  // parse(data): data is the message from its first byte. complete: request() is valid and
  // its head is data's first request().head_size bytes (a pipelined next request may follow
  // them). Empty lines before the request line are skipped and counted in head_size.
  const Request& request() const noexcept { return message_; }

 private:
  friend class detail::MessageParser<RequestParser, Request>;
  ParseStatus parse_start_line(std::string_view data) noexcept;
  ParseStatus finish(std::string_view data) noexcept;
  void make_start_line_views(std::string_view data) noexcept;

  std::uint32_t method_offset_ = 0;
  std::uint32_t method_size_ = 0;
  std::uint32_t target_offset_ = 0;
  std::uint32_t target_size_ = 0;
};

// Parses response heads. The framing of a response depends on the request it answers:
// set_request_method("HEAD") before parsing the reply to a HEAD request (and "CONNECT": a
// 2xx reply to it has no body, the tunnel follows).
class ResponseParser : public detail::MessageParser<ResponseParser, Response> {
 public:
  explicit ResponseParser(Limits limits = {});

  void set_request_method(std::string_view method) noexcept;
  // reset() keeps the request method set for the next response (a 100 Continue is followed by
  // the real reply to the same request).
  const Response& response() const noexcept { return message_; }

 private:
  friend class detail::MessageParser<ResponseParser, Response>;
  ParseStatus parse_start_line(std::string_view data) noexcept;
  ParseStatus finish(std::string_view data) noexcept;
  void make_start_line_views(std::string_view data) noexcept;

  bool head_request_ = false;
  bool connect_request_ = false;
  int status_ = 0;
  std::uint32_t reason_offset_ = 0;
  std::uint32_t reason_size_ = 0;
};

// Decodes the chunked coding (RFC 9112 7.1) incrementally and without copying: each call
// consumes framing from the front of its input and hands back the chunk data it found as a
// view of that input.
//
//   ChunkedDecoder decoder;
//   while (!decoder.done()) {
//     auto step = decoder.decode(input);
//     if (step.status == ParseStatus::error) ...;
//     consume(step.data);            // may be empty
//     input.remove_prefix(step.consumed);
//     if (step.status == ParseStatus::incomplete && step.consumed == 0) read more input;
//   }
//
// Trailer fields are checked as header fields are (same limits) and then offered through
// trailers() as views into the input of the call that completed them. The trailer section
// is taken whole: until all of it is in the input, decode() returns incomplete without
// consuming it (the next call resumes, it does not rescan). Chunk framing takes CRLF only,
// not a bare LF; a chunk-size line (size and extensions) is bounded by max_request_line.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(Limits limits = {});

  struct Step {
    ParseStatus status;     // complete: the last chunk and trailers are consumed
    std::size_t consumed;   // bytes of input used, data included
    std::string_view data;  // body bytes, a view into input
  };
  Step decode(std::string_view input) noexcept;
  bool done() const noexcept { return state_ == State::done; }
  ParseError error() const noexcept { return error_; }
  std::span<const Header> trailers() const noexcept { return trailers_.headers; }
  void reset() noexcept;

 private:
  enum class State : std::uint8_t {
    size,       // hex digits of the chunk size
    size_ws,    // whitespace after them, before an extension
    extension,  // ";name=value" up to the CR
    size_lf,    // the LF that ends the chunk-size line
    data,
    data_cr,  // the CRLF after the data
    data_lf,
    trailer,
    done,
    failed
  };
  ParseError step_framing(char c) noexcept;
  Step fail(ParseError error, std::size_t consumed) noexcept;

  Limits limits_;
  State state_ = State::size;
  ParseError error_ = ParseError::none;
  std::uint64_t remaining_ = 0;  // the chunk size being read, then its data not yet seen
  std::size_t size_digits_ = 0;  // hex digits read of the chunk size
  std::size_t line_bytes_ = 0;   // bytes of the chunk-size line so far
  detail::FieldLines trailers_;
};

}  // namespace sockit::http
