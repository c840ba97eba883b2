// WebSocket (RFC 6455), the server's side: the opening handshake, a decoder of the frames a
// client sends, and the encoding of the frames a server sends (never masked). No extensions
// (permessage-deflate is not offered, so a frame with an RSV bit set is an error).
//
//   if (auto why = websocket::check_upgrade(request); !why.empty())
//     reply(websocket::version_mismatch(request) ? 426 : 400, why);  // 426: with the header
//   else                                                            // Sec-WebSocket-Version: 13
//     write(websocket::upgrade_response(request.header("Sec-WebSocket-Key")));
//
//   websocket::Decoder decoder;
//   websocket::Event event;
//   for (;;) {                                     // after each read into data
//     data.remove_prefix(decoder.decode(data, event));
//     if (event.kind == Event::Kind::none) break;  // all of data is used
//     handle(event);                               // error: send a close with event.code
//   }
//
// The loop calls decode() once more after the last event, with what is left (maybe nothing):
// that call frees the buffer of a message larger than an idle decoder keeps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sockit/http/parser.hpp"

namespace sockit::http::websocket {

enum class Opcode : std::uint8_t {
  continuation = 0,
  text = 1,
  binary = 2,
  close = 8,
  ping = 9,
  pong = 10
};

// The status codes of close frames (RFC 6455 section 7.4). A peer's close frame may carry
// others (1010, 1012, 1014, 3000-4999): they are kept as sent.
enum class CloseCode : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,  // a close frame without a code; never sent in one
  invalid_payload = 1007,
  policy_violation = 1008,
  too_big = 1009,
  internal_error = 1011,
  try_again_later = 1013
};

// --- The opening handshake (RFC 6455 section 4.2)

// Why request is not a valid opening handshake, in a few words ("Sec-WebSocket-Key is not
// the base64 of 16 bytes"); empty when it is one: a GET in HTTP/1.1 whose Upgrade lists
// websocket, whose Connection lists upgrade, with Sec-WebSocket-Version 13 and a key.
std::string_view check_upgrade(const Request& request) noexcept;
// Whether request asks for a version other than 13: then the server answers 426 Upgrade
// Required with "Sec-WebSocket-Version: 13" rather than 400 (RFC 6455 section 4.4).
bool version_mismatch(const Request& request) noexcept;
// Whether the page that opens this handshake may connect (RFC 6455 section 10.2). Browsers
// let any page open a WebSocket to any server and send its Origin: a request without one is
// not from a browser and may; one whose Origin has the request's Host as its host and port
// is from the server's own pages and may; any other Origin must be one of allowed (as sent:
// "https://example.com:8443", compared without case). A port that is the scheme's default
// (http 80, https 443) counts the same written or not.
bool origin_allowed(const Request& request, std::span<const std::string> allowed) noexcept;
// The Sec-WebSocket-Accept of a client's key: base64(SHA-1(key + the RFC's GUID)).
std::string accept_key(std::string_view client_key);
// The whole 101 Switching Protocols head that accepts the handshake, blank line included.
std::string upgrade_response(std::string_view client_key);

// --- Client frames

struct Event {
  enum class Kind : std::uint8_t { none, text, binary, ping, pong, close, error };
  Kind kind = Kind::none;
  // text, binary: the whole message, unmasked and reassembled; ping, pong: the payload;
  // close: the reason; error: a few words on what was wrong, for a log or the close reason
  // (a constant, valid for good).
  std::string_view payload;
  // close: the peer's code (no_status when it sent none); error: the code to close with.
  CloseCode code = CloseCode::no_status;
};

// Decodes the frames a client sends, incrementally: bytes may arrive in any pieces. Messages
// are reassembled from their fragments; control frames between fragments are reported as
// they come. The buffer holds at most max_message bytes and a control frame's 125 (its
// capacity, grown by doubling, at most twice that); an idle decoder keeps at most 1 KiB.
//
// Errors, with the code to close with: 1002 for a frame with an RSV bit set, an unknown
// opcode, an unmasked frame, a fragmented control frame or one longer than 125 bytes, a
// continuation without a message begun or a new message before the last one ended, a 64-bit
// length with its top bit set, a close payload of one byte or with a code that may not be
// sent; 1009 for a message longer than max_message, as soon as a frame header shows it;
// 1007 for text that is not UTF-8, as soon as a prefix shows it, and for a close reason that
// is not. The length of a frame need not be in its shortest form. A close is reported as
// the other control frames are; the decoder goes on with what follows it.
class Decoder {
 public:
  explicit Decoder(std::size_t max_message = 64 * 1024) noexcept;

  // Parses frames at the front of data. Returns how many bytes it used; sets event when a
  // complete message or control frame, or an error, ended the call (Kind::none: all of data
  // was used and more is needed). event.payload points into the decoder and is valid until
  // the next call. After an error, the decoder stays in error: each call returns 0 and the
  // same error. Never throws but std::bad_alloc.
  std::size_t decode(std::string_view data, Event& event);

  bool failed() const noexcept { return stage_ == Stage::failed; }
  // The capacity of the message buffer: at most 1 KiB in an idle decoder.
  std::size_t buffer_capacity() const noexcept { return buffer_.capacity(); }

 private:
  enum class Stage : std::uint8_t { header, payload, failed };

  bool read_header(std::string_view data, std::size_t& used, Event& event);
  bool check_start(char byte0, char byte1, Event& event);
  bool start_frame(const char* header, Event& event);
  bool read_payload(std::string_view data, std::size_t& used, Event& event);
  bool text_valid(bool complete) noexcept;
  bool end_frame(Event& event);
  bool close_event(std::string_view payload, Event& event);
  bool fail(CloseCode code, std::string_view why, Event& event);

  // The message being reassembled (message_size_ bytes), then the payload of a control frame
  // that arrived in the middle of it; both stay until the next call, for event.payload.
  std::string buffer_;
  std::size_t max_message_;
  std::size_t message_size_ = 0;
  std::size_t utf8_checked_ = 0;  // the bytes of a text message known to be UTF-8
  std::uint64_t remaining_ = 0;   // the current frame's payload bytes still to come
  std::uint32_t mask_ = 0;        // rotated so that its low byte masks the next payload byte
  std::string_view error_;        // after an error: its description
  CloseCode error_code_ = CloseCode::no_status;
  Stage stage_ = Stage::header;
  Opcode opcode_ = Opcode::continuation;          // the current frame's
  Opcode message_opcode_ = Opcode::continuation;  // continuation: no message begun
  bool fin_ = false;
  bool deliver_ = false;  // the last call handed out buffer_: the next one drops it
  std::uint8_t header_size_ = 0;
  char header_[14];  // a frame header cut off by the end of data: at most 2 + 8 + 4 bytes
};

// --- Server frames

// The header of an unfragmented, unmasked frame (FIN set) of payload_size bytes, written to
// out; returns its size: 2, 4 or 10 bytes. The payload is sent after it unchanged.
std::size_t frame_header(Opcode opcode, std::uint64_t payload_size, char (&out)[10]) noexcept;
// Appends a whole frame, header and payload, to out.
void append_frame(std::string& out, Opcode opcode, std::string_view payload);
// The payload of a close frame: the code, then as much of reason as keeps the payload at
// 125 bytes, cut where a UTF-8 sequence ends. no_status gives an empty payload.
std::string close_payload(CloseCode code, std::string_view reason);

}  // namespace sockit::http::websocket
