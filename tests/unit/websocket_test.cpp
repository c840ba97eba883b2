// WebSocket (RFC 6455): the opening handshake, the decoder of client frames (the RFC's
// examples, every error with its close code, control frames between fragments, limits), each
// input fed whole, one byte at a time and in other pieces, from buffers of exactly its size
// (so that the sanitizers catch a read past the end); and the encoder, checked against the
// RFC's bytes and through the decoder.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sockit/http/parser.hpp"
#include "sockit/http/websocket.hpp"
#include "sockit/utf8.hpp"

namespace sockit::http::websocket {
namespace {

using namespace std::string_literals;
using Kind = Event::Kind;

// --- Building client frames

// The masking key of the RFC's examples (section 5.7).
constexpr std::array<unsigned char, 4> rfc_key = {0x37, 0xfa, 0x21, 0x3d};

// The frame a client sends for an unmasked one: the mask bit set, the key after the length
// and the payload masked with it.
std::string masked(std::string_view frame, std::array<unsigned char, 4> key = rfc_key) {
  const unsigned length = static_cast<unsigned char>(frame[1]) & 0x7Fu;
  const std::size_t header = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0);
  std::string out(frame.substr(0, header));
  out[1] = static_cast<char>(out[1] | '\x80');
  out.append(key.begin(), key.end());
  for (std::size_t i = header; i < frame.size(); ++i)
    out += static_cast<char>(frame[i] ^ static_cast<char>(key[(i - header) % 4]));
  return out;
}

// An unmasked frame whose first byte is byte0 (FIN, RSV and opcode as given).
std::string raw_frame(unsigned byte0, std::string_view payload) {
  std::string frame;
  append_frame(frame, Opcode::binary, payload);
  frame[0] = static_cast<char>(byte0);
  return frame;
}

constexpr unsigned fin = 0x80;

// A masked client frame.
std::string client(Opcode opcode, std::string_view payload, bool final_frame = true) {
  return masked(raw_frame((final_frame ? fin : 0) | static_cast<unsigned>(opcode), payload));
}

std::string close_frame(unsigned code, std::string_view reason = {}) {
  std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
  return client(Opcode::close, payload.append(reason));
}

// A masked header with a 64-bit length, and no payload.
std::string long_header(unsigned byte0, std::uint64_t length) {
  std::string frame{static_cast<char>(byte0), '\x7F'};
  for (int shift = 56; shift >= 0; shift -= 8)
    frame += static_cast<char>(length >> shift);
  return masked(frame);
}

// --- Decoding

// An event, copied.
struct Seen {
  Kind kind = Kind::none;
  std::string payload;  // empty for errors, whose text is not part of the contract
  CloseCode code = CloseCode::no_status;

  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& seen) {
  constexpr const char* names[] = {"none", "text", "binary", "ping", "pong", "close", "error"};
  std::string payload = seen.payload.substr(0, 40);
  if (seen.payload.size() > 40) payload += "...(" + std::to_string(seen.payload.size()) + ")";
  return out << names[static_cast<int>(seen.kind)] << " " << testing::PrintToString(payload) << " "
             << static_cast<int>(seen.code);
}

Seen text(std::string payload) {
  return {Kind::text, std::move(payload)};
}
Seen binary(std::string payload) {
  return {Kind::binary, std::move(payload)};
}
Seen ping(std::string payload) {
  return {Kind::ping, std::move(payload)};
}
Seen pong(std::string payload) {
  return {Kind::pong, std::move(payload)};
}
Seen closed(CloseCode code, std::string reason = {}) {
  return {Kind::close, std::move(reason), code};
}
Seen error(CloseCode code) {
  return {Kind::error, {}, code};
}

constexpr std::size_t whole = std::numeric_limits<std::size_t>::max();

// Feeds bytes to decoder `piece` bytes at a time, each piece from a buffer of its own, with
// the documented loop; returns the events, up to the first error.
std::vector<Seen> decode_all(Decoder& decoder, std::string_view bytes, std::size_t piece) {
  std::vector<Seen> events;
  while (!bytes.empty()) {
    const std::vector<char> buffer(bytes.begin(), bytes.begin() + std::min(piece, bytes.size()));
    bytes.remove_prefix(buffer.size());
    std::string_view data(buffer.data(), buffer.size());
    for (std::size_t round = 0; round <= buffer.size(); ++round) {
      Event event;
      const std::size_t used = decoder.decode(data, event);
      EXPECT_LE(used, data.size());
      data.remove_prefix(std::min(used, data.size()));
      if (event.kind == Kind::none) {
        EXPECT_TRUE(data.empty()) << "none before all of the data was used";
        break;
      }
      if (event.kind == Kind::error) {
        EXPECT_FALSE(event.payload.empty()) << "an error without a description";
        EXPECT_TRUE(decoder.failed());
        events.push_back(error(event.code));
        return events;
      }
      events.push_back({event.kind, std::string(event.payload), event.code});
    }
  }
  return events;
}

constexpr std::size_t pieces[] = {whole, 1, 2, 3, 5, 7, 64};

// The events of bytes, the same whatever the pieces they arrive in.
void expect_events(std::string_view bytes, const std::vector<Seen>& expected,
                   std::size_t max_message = 64 * 1024) {
  for (std::size_t piece : pieces) {
    SCOPED_TRACE(piece == whole ? "whole"s : "in pieces of " + std::to_string(piece));
    Decoder decoder(max_message);
    EXPECT_EQ(decode_all(decoder, bytes, piece), expected);
  }
}

std::string repeat(std::string_view text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i)
    out += text;
  return out;
}

std::string bytes_of(std::initializer_list<unsigned> values) {
  std::string out;
  for (unsigned v : values)
    out += static_cast<char>(v);
  return out;
}

// RFC 6455 section 5.7.
TEST(WebSocketDecoder, DecodesTheRfcExamples) {
  const std::string hello = "Hello";
  // A single-frame masked text message.
  expect_events(bytes_of({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                {text(hello)});
  // A fragmented text message (the RFC's frames are unmasked; a client's are not).
  expect_events(
      masked(bytes_of({0x01, 0x03, 0x48, 0x65, 0x6c})) + masked(bytes_of({0x80, 0x02, 0x6c, 0x6f})),
      {text(hello)});
  // A masked pong, and the ping it would answer masked.
  expect_events(bytes_of({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}),
                {pong(hello)});
  expect_events(masked(bytes_of({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f})), {ping(hello)});
  // 256 bytes in a 16-bit length, 64 KiB in a 64-bit length.
  const std::string kib64(65536, 'x');
  expect_events(masked(bytes_of({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'x')),
                {binary(std::string(256, 'x'))});
  expect_events(masked(bytes_of({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + kib64), {binary(kib64)});
}

TEST(WebSocketDecoder, DecodesEveryLengthForm) {
  constexpr std::size_t sizes[] = {0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 65537};
  for (std::size_t size : sizes) {
    SCOPED_TRACE(size);
    std::string payload(size, 'a');
    for (std::size_t i = 0; i < size; ++i)
      payload[i] = static_cast<char>('a' + i % 26);
    Decoder decoder(70000);
    EXPECT_EQ(decode_all(decoder, client(Opcode::binary, payload), whole),
              std::vector<Seen>{binary(payload)});
  }
  // A length in a longer form than it needs is accepted.
  expect_events(masked(bytes_of({0x81, 0x7E, 0x00, 0x02}) + "hi"), {text("hi")});
  expect_events(masked(bytes_of({0x81, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x02}) + "hi"), {text("hi")});
}

TEST(WebSocketDecoder, ReassemblesFragmentsAroundControlFrames) {
  expect_events(client(Opcode::text, "Hel", false) + client(Opcode::ping, "p1") +
                    client(Opcode::continuation, "l", false) + client(Opcode::pong, "") +
                    client(Opcode::ping, "p2") + client(Opcode::continuation, "o"),
                {ping("p1"), pong(""), ping("p2"), text("Hello")});
  // A close between fragments is reported too; what follows it is the caller's business.
  expect_events(client(Opcode::binary, "ab", false) + close_frame(1000, "bye") +
                    client(Opcode::continuation, "cd"),
                {closed(CloseCode::normal, "bye"), binary("abcd")});
  // Empty fragments, and a UTF-8 sequence cut between fragments with a ping between.
  expect_events(client(Opcode::text, "", false) + client(Opcode::continuation, "\xE2\x82", false) +
                    client(Opcode::ping, "x") + client(Opcode::continuation, "\xAC", false) +
                    client(Opcode::continuation, ""),
                {ping("x"), text("\xE2\x82\xAC")});
}

TEST(WebSocketDecoder, DecodesMessagesBackToBack) {
  expect_events(
      client(Opcode::text, "") + client(Opcode::binary, "\x00\xFF"s) +
          client(Opcode::text, "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5") + close_frame(1001) +
          client(Opcode::close, ""),
      {text(""), binary("\x00\xFF"s), text("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"),
       closed(CloseCode::going_away), closed(CloseCode::no_status)});
}

TEST(WebSocketDecoder, MasksWithAnyKeyAndPhase) {
  const std::string payload = "0123456789abcdefghijklmnopqrstuvwxyz";
  for (std::array<unsigned char, 4> key : {std::array<unsigned char, 4>{0, 0, 0, 0},
                                           {0xFF, 0xFF, 0xFF, 0xFF},
                                           {0x01, 0x02, 0x03, 0x04}}) {
    expect_events(masked(raw_frame(fin | 1, payload), key), {text(payload)});
  }
}

struct Violation {
  std::string bytes;
  CloseCode code;
  std::string why;
  std::vector<Seen> before = {};  // the events of the frames before the wrong one
};

const std::vector<Violation>& violations() {
  constexpr auto protocol = CloseCode::protocol_error;
  static const std::vector<Violation> table = {
      {client(Opcode::text, "x").replace(0, 1, "\xC1"), protocol, "RSV1"},
      {client(Opcode::text, "x").replace(0, 1, "\xA1"), protocol, "RSV2"},
      {client(Opcode::text, "x").replace(0, 1, "\x91"), protocol, "RSV3"},
      {masked(raw_frame(fin | 3, "x")), protocol, "opcode 3"},
      {masked(raw_frame(fin | 7, "x")), protocol, "opcode 7"},
      {masked(raw_frame(fin | 0xB, "x")), protocol, "opcode 0xB"},
      {masked(raw_frame(fin | 0xF, "x")), protocol, "opcode 0xF"},
      {raw_frame(fin | 1, "Hello"), protocol, "an unmasked text frame"},
      {raw_frame(fin | 9, ""), protocol, "an unmasked ping"},
      {client(Opcode::ping, "x", false), protocol, "a fragmented ping"},
      {client(Opcode::close, "", false), protocol, "a fragmented close"},
      {client(Opcode::ping, std::string(126, 'x')), protocol, "a ping of 126 bytes"},
      {client(Opcode::pong, std::string(65536, 'x')), protocol, "a pong of 64 KiB"},
      {client(Opcode::continuation, "x"), protocol, "a continuation first"},
      {client(Opcode::text, "a") + client(Opcode::continuation, "b"),
       protocol,
       "a continuation after a whole message",
       {text("a")}},
      {client(Opcode::text, "a", false) + client(Opcode::text, "b"), protocol,
       "a text frame in a message"},
      {client(Opcode::text, "a", false) + client(Opcode::binary, "b"), protocol,
       "a binary frame in a message"},
      {long_header(fin | 2, std::uint64_t{1} << 63), protocol, "a length with the top bit"},
      {long_header(fin | 2, ~std::uint64_t{0}), protocol, "the largest 64-bit length"},
      {client(Opcode::close, "\x03"), protocol, "a close payload of 1 byte"},
      {close_frame(0), protocol, "close code 0"},
      {close_frame(999), protocol, "close code 999"},
      {close_frame(1004), protocol, "close code 1004"},
      {close_frame(1005), protocol, "close code 1005"},
      {close_frame(1006), protocol, "close code 1006"},
      {close_frame(1015), protocol, "close code 1015"},
      {close_frame(1016), protocol, "close code 1016"},
      {close_frame(2999), protocol, "close code 2999"},
      {close_frame(5000), protocol, "close code 5000"},
      {close_frame(65535), protocol, "close code 65535"},
      {close_frame(1000, "\xFF"), CloseCode::invalid_payload, "a close reason not UTF-8"},
      {close_frame(1000, "\xE2\x82"), CloseCode::invalid_payload, "a close reason cut"},
      {client(Opcode::text, "\xED\xA0\x80"), CloseCode::invalid_payload, "a surrogate"},
      {client(Opcode::text, "ok\xC0\xAF"), CloseCode::invalid_payload, "an overlong form"},
      {client(Opcode::text, "\xE2\x82"), CloseCode::invalid_payload, "text ending mid-sequence"},
      {client(Opcode::text, "\xE2", false) + client(Opcode::continuation, "\x82"),
       CloseCode::invalid_payload, "a message ending mid-sequence"},
      {client(Opcode::text, "\xE2\x82", false) + client(Opcode::continuation, "x"),
       CloseCode::invalid_payload, "a sequence broken by the next fragment"},
      {client(Opcode::binary, std::string(65537, 'x')), CloseCode::too_big,
       "a message over the limit"},
      {client(Opcode::text, std::string(40000, 'x'), false) +
           client(Opcode::continuation, std::string(30000, 'x')),
       CloseCode::too_big, "fragments over the limit"},
  };
  return table;
}

TEST(WebSocketDecoder, RejectsEveryViolationWithItsCode) {
  for (const Violation& v : violations()) {
    SCOPED_TRACE(v.why);
    std::vector<Seen> expected = v.before;
    expected.push_back(error(v.code));
    expect_events(v.bytes, expected);
  }
}

TEST(WebSocketDecoder, AcceptsEveryCloseCodeThatMayBeSent) {
  for (unsigned code : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u, 1012u, 1013u,
                        1014u, 3000u, 3999u, 4000u, 4999u}) {
    SCOPED_TRACE(code);
    expect_events(close_frame(code, "why \xE2\x82\xAC"),
                  {closed(static_cast<CloseCode>(code), "why \xE2\x82\xAC")});
  }
}

// The errors a frame's header shows come before its payload arrives.
TEST(WebSocketDecoder, FailsAsSoonAsTheHeaderShowsIt) {
  for (const auto& [header, code] : std::vector<std::pair<std::string, CloseCode>>{
           {client(Opcode::binary, std::string(100, 'x')).substr(0, 6), CloseCode::too_big},
           {long_header(fin | 2, std::uint64_t{1} << 40), CloseCode::too_big},
           {long_header(fin | 2, std::uint64_t{1} << 63), CloseCode::protocol_error},
           {raw_frame(fin | 1, "x").substr(0, 2), CloseCode::protocol_error},
           {client(Opcode::ping, std::string(126, 'x')).substr(0, 2), CloseCode::protocol_error},
       }) {
    SCOPED_TRACE(testing::PrintToString(header));
    Decoder decoder(99);
    EXPECT_EQ(decode_all(decoder, header, whole), std::vector<Seen>{error(code)});
  }
}

TEST(WebSocketDecoder, FailsOnInvalidTextBeforeTheMessageEnds) {
  // In the first fragment of a message, and early in one long frame.
  for (const std::string& start :
       {client(Opcode::text, "ok \xFF", false),
        client(Opcode::text, "ok \xF4\x90" + std::string(1000, 'x')).substr(0, 20)}) {
    SCOPED_TRACE(testing::PrintToString(start));
    Decoder decoder;
    EXPECT_EQ(decode_all(decoder, start, 1), std::vector<Seen>{error(CloseCode::invalid_payload)});
  }
}

TEST(WebSocketDecoder, LimitsAreInclusive) {
  const std::size_t max = 100;
  expect_events(client(Opcode::text, std::string(max, 'x')), {text(std::string(max, 'x'))}, max);
  expect_events(client(Opcode::text, std::string(max + 1, 'x')), {error(CloseCode::too_big)}, max);
  expect_events(client(Opcode::binary, std::string(60, 'x'), false) +
                    client(Opcode::continuation, std::string(max - 60, 'y')),
                {binary(std::string(60, 'x') + std::string(max - 60, 'y'))}, max);
  expect_events(client(Opcode::binary, std::string(60, 'x'), false) +
                    client(Opcode::continuation, std::string(max - 59, 'y')),
                {error(CloseCode::too_big)}, max);
  // Control frames do not count toward a message, whatever the limit.
  expect_events(client(Opcode::ping, std::string(125, 'p')), {ping(std::string(125, 'p'))}, 10);
  expect_events(client(Opcode::text, "0123456789", false) + client(Opcode::ping, "p") +
                    client(Opcode::continuation, ""),
                {ping("p"), text("0123456789")}, 10);
  expect_events(client(Opcode::text, ""), {text("")}, 0);
}

TEST(WebSocketDecoder, StaysInError) {
  Decoder decoder;
  Event event;
  const std::string bad = raw_frame(fin | 1, "x");
  EXPECT_LE(decoder.decode(bad, event), bad.size());
  EXPECT_EQ(event.kind, Kind::error);
  EXPECT_EQ(event.code, CloseCode::protocol_error);
  const std::string good = client(Opcode::text, "fine");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(decoder.decode(good, event), 0u);
    EXPECT_EQ(event.kind, Kind::error);
    EXPECT_EQ(event.code, CloseCode::protocol_error);
  }
}

TEST(WebSocketDecoder, UsesNoMoreThanTheFrameThatEndsTheCall) {
  Decoder decoder;
  Event event;
  const std::string first = client(Opcode::text, "one");
  const std::string both = first + client(Opcode::text, "two");
  EXPECT_EQ(decoder.decode(both, event), first.size());
  EXPECT_EQ(event.kind, Kind::text);
  EXPECT_EQ(event.payload, "one");
  EXPECT_EQ(decoder.decode(std::string_view(both).substr(first.size()), event),
            both.size() - first.size());
  EXPECT_EQ(event.payload, "two");
  EXPECT_EQ(decoder.decode({}, event), 0u);
  EXPECT_EQ(event.kind, Kind::none);
}

TEST(WebSocketDecoder, StaysSmallWhenIdle) {
  static_assert(sizeof(Decoder) <= 128);
  Decoder decoder(1 << 20);
  const std::string big(1 << 20, 'b');
  EXPECT_EQ(decode_all(decoder, client(Opcode::binary, big), 4096), std::vector<Seen>{binary(big)});
  // The loop's last call, with nothing left, let the buffer go.
  EXPECT_LE(decoder.buffer_capacity(), 1024u);
  EXPECT_EQ(decode_all(decoder, client(Opcode::text, "small"), whole),
            std::vector<Seen>{text("small")});
  EXPECT_LE(decoder.buffer_capacity(), 1024u);
}

// --- Encoding

TEST(WebSocketEncoder, WritesTheRfcExamples) {
  std::string out;
  append_frame(out, Opcode::text, "Hello");
  EXPECT_EQ(out, bytes_of({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  out.clear();
  append_frame(out, Opcode::ping, "Hello");
  EXPECT_EQ(out, bytes_of({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  char header[10];
  ASSERT_EQ(frame_header(Opcode::binary, 256, header), 4u);
  EXPECT_EQ(std::string(header, 4), bytes_of({0x82, 0x7E, 0x01, 0x00}));
  ASSERT_EQ(frame_header(Opcode::binary, 65536, header), 10u);
  EXPECT_EQ(std::string(header, 10), bytes_of({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WebSocketEncoder, ChoosesTheShortestLengthForm) {
  char header[10];
  const std::pair<std::uint64_t, std::string> cases[] = {
      {0, bytes_of({0x82, 0x00})},
      {125, bytes_of({0x82, 0x7D})},
      {126, bytes_of({0x82, 0x7E, 0x00, 0x7E})},
      {65535, bytes_of({0x82, 0x7E, 0xFF, 0xFF})},
      {65536, bytes_of({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0})},
      {0x7FFFFFFFFFFFFFFF, bytes_of({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})},
  };
  for (const auto& [size, expected] : cases) {
    const std::size_t n = frame_header(Opcode::binary, size, header);
    EXPECT_EQ(std::string(header, n), expected) << size;
  }
}

TEST(WebSocketEncoder, RoundTripsThroughTheDecoder) {
  constexpr std::size_t sizes[] = {0, 1, 5, 125, 126, 1000, 65535, 65536};
  for (Opcode opcode : {Opcode::text, Opcode::binary, Opcode::ping, Opcode::pong}) {
    for (std::size_t size : sizes) {
      if (opcode >= Opcode::close && size > 125) continue;
      SCOPED_TRACE(std::to_string(static_cast<int>(opcode)) + " " + std::to_string(size));
      const std::string payload = repeat("\xE2\x82\xAC", size / 3) + std::string(size % 3, '!');
      std::string frame;
      append_frame(frame, opcode, payload);
      const Kind kind = opcode == Opcode::text     ? Kind::text
                        : opcode == Opcode::binary ? Kind::binary
                        : opcode == Opcode::ping   ? Kind::ping
                                                   : Kind::pong;
      Decoder decoder(65536);
      EXPECT_EQ(decode_all(decoder, masked(frame, {0xA5, 0x5A, 0x0F, 0xF0}), 1000),
                (std::vector<Seen>{Seen{kind, payload}}));
    }
  }
}

TEST(WebSocketEncoder, WritesClosePayloads) {
  EXPECT_EQ(close_payload(CloseCode::normal, "bye"),
            "\x03\xE8"
            "bye");
  EXPECT_EQ(close_payload(CloseCode::too_big, ""), "\x03\xF1");
  EXPECT_EQ(close_payload(CloseCode::no_status, "ignored"), "");
  // Reasons cut to 123 bytes, where a sequence ends.
  for (const std::string unit : {"a", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    const std::string payload = close_payload(CloseCode::going_away, repeat(unit, 200));
    EXPECT_LE(payload.size(), 125u);
    EXPECT_GT(payload.size(), 125u - unit.size());
    EXPECT_TRUE(utf8::valid(std::string_view(payload).substr(2))) << unit;
    std::string frame;
    append_frame(frame, Opcode::close, payload);
    Decoder decoder;
    EXPECT_EQ(decode_all(decoder, masked(frame), whole),
              std::vector<Seen>{closed(CloseCode::going_away, payload.substr(2))});
  }
}

// --- The opening handshake

const std::string rfc_key_header = "dGhlIHNhbXBsZSBub25jZQ==";

const std::string valid_upgrade =
    "GET /chat/ws HTTP/1.1\r\n"
    "Host: server.example.com\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " +
    rfc_key_header +
    "\r\n"
    "Origin: http://example.com\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

// text with the first occurrence of `from` replaced by `to`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  return text.replace(text.find(from), from.size(), to);
}

struct Upgrade {
  std::string reason;  // empty: valid
  bool version_mismatch = false;
};

Upgrade check(const std::string& head) {
  RequestParser parser;
  EXPECT_EQ(parser.parse(head), ParseStatus::complete) << head;
  return {std::string(check_upgrade(parser.request())), version_mismatch(parser.request())};
}

TEST(WebSocketHandshake, AcceptsValidRequests) {
  EXPECT_EQ(check(valid_upgrade).reason, "");
  // Firefox lists keep-alive too; tokens compare ignoring case.
  EXPECT_EQ(check(replaced(valid_upgrade, "Connection: Upgrade", "Connection: keep-alive, Upgrade"))
                .reason,
            "");
  EXPECT_EQ(check(replaced(replaced(valid_upgrade, "websocket", "WebSocket"), "Upgrade\r\n",
                           "upgrade\r\n"))
                .reason,
            "");
  EXPECT_FALSE(check(valid_upgrade).version_mismatch);
}

TEST(WebSocketHandshake, RejectsEachMissingOrWrongField) {
  const std::pair<std::string, std::string> edits[] = {
      {"GET ", "POST "},
      {"HTTP/1.1", "HTTP/1.0"},
      {"Upgrade: websocket\r\n", ""},
      {"Upgrade: websocket", "Upgrade: h2c"},
      {"Connection: Upgrade\r\n", ""},
      {"Connection: Upgrade", "Connection: keep-alive"},
      {"Sec-WebSocket-Version: 13\r\n", ""},
      {"Sec-WebSocket-Key: " + rfc_key_header + "\r\n", ""},
      {rfc_key_header, "dGhlIHNhbXBsZSBub25jZQ"},            // no padding
      {rfc_key_header, "dGhlIHNhbXBsZSBub25jZQ=="s + "AA"},  // 17 bytes and more
      {rfc_key_header, "dGhlIHNhbXBsZSBub25jZ==="},          // 15 bytes
      {rfc_key_header, "dGhlIHNhbXBsZSBub25j.Q=="},          // not base64
  };
  for (const auto& [from, to] : edits) {
    const Upgrade upgrade = check(replaced(valid_upgrade, from, to));
    EXPECT_NE(upgrade.reason, "") << from << " -> " << to;
    EXPECT_FALSE(upgrade.version_mismatch) << from << " -> " << to;
  }
}

TEST(WebSocketHandshake, TellsAVersionMismatchApart) {
  for (std::string version : {"12", "8", "14", "13, 8"}) {
    const Upgrade upgrade = check(
        replaced(valid_upgrade, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: " + version));
    EXPECT_NE(upgrade.reason, "") << version;
    EXPECT_TRUE(upgrade.version_mismatch) << version;
  }
}

// Whether a request with Host and, unless empty, Origin may connect, given allowed.
bool origin_ok(std::string_view host, std::string_view origin,
               const std::vector<std::string>& allowed = {}) {
  std::string head = "GET /chat/ws HTTP/1.1\r\nHost: " + std::string(host) + "\r\n";
  if (!origin.empty()) head += "Origin: " + std::string(origin) + "\r\n";
  head += "\r\n";  // the request's views point into head, which must outlive them
  RequestParser parser;
  EXPECT_EQ(parser.parse(head), ParseStatus::complete) << head;
  return origin_allowed(parser.request(), allowed);
}

TEST(WebSocketOrigin, SameOriginAndNoOriginMayConnect) {
  EXPECT_TRUE(origin_ok("127.0.0.1:8080", ""));
  EXPECT_TRUE(origin_ok("127.0.0.1:8080", "http://127.0.0.1:8080"));
  EXPECT_TRUE(origin_ok("Chat.Example:8080", "http://chat.example:8080"));
  EXPECT_TRUE(origin_ok("[::1]:8080", "http://[::1]:8080"));
  // The scheme's default port, written or not.
  EXPECT_TRUE(origin_ok("example.com", "http://example.com:80"));
  EXPECT_TRUE(origin_ok("example.com:80", "http://example.com"));
  EXPECT_TRUE(origin_ok("example.com:443", "https://example.com"));
}

TEST(WebSocketOrigin, OtherOriginsMayNotUnlessAllowed) {
  for (const char* origin : {"http://evil.example", "http://127.0.0.1:8081", "http://127.0.0.1",
                             "null", "http://127.0.0.1:8080.evil.example",
                             "http://127.0.0.1:8080/path", "127.0.0.1:8080", "http://"}) {
    EXPECT_FALSE(origin_ok("127.0.0.1:8080", origin)) << origin;
  }
  const std::vector<std::string> allowed = {"https://chat.example:8443", "null"};
  EXPECT_TRUE(origin_ok("127.0.0.1:8080", "https://chat.example:8443", allowed));
  EXPECT_TRUE(origin_ok("127.0.0.1:8080", "HTTPS://CHAT.EXAMPLE:8443", allowed));
  EXPECT_TRUE(origin_ok("127.0.0.1:8080", "null", allowed));
  EXPECT_FALSE(origin_ok("127.0.0.1:8080", "https://chat.example", allowed));
}

TEST(WebSocketHandshake, ComputesTheAcceptKey) {
  EXPECT_EQ(accept_key(rfc_key_header), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(upgrade_response(rfc_key_header),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "\r\n");
}

}  // namespace
}  // namespace sockit::http::websocket
