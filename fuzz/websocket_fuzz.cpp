// libFuzzer target: arbitrary bytes into the WebSocket frame decoder. The first four bytes are
// options: the message limit, and three piece sizes that the rest, the client's bytes, is cut
// into in turn. The decoder reads the bytes whole, then in pieces each in a buffer of exactly
// its size (so that AddressSanitizer catches a read past one), and must report the same
// events both ways; each call's count stays within its data and all of it is used when no
// event ends the call; what it reports keeps its promises (UTF-8 text, the limits, codes that
// may be sent); and every message and control frame re-encoded by the encoder and masked
// decodes to itself. A violation aborts with the property it broke (libFuzzer saves the input).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/http/websocket.hpp"
#include "sockit/utf8.hpp"

namespace {

using namespace sockit::http::websocket;
using Kind = Event::Kind;

[[noreturn]] void violated(const char* property) {
  std::fprintf(stderr, "websocket_fuzz: %s\n", property);
  std::abort();
}

void check(bool holds, const char* property) {
  if (!holds) violated(property);
}

struct Seen {
  Kind kind;
  std::string payload;
  CloseCode code;

  bool operator==(const Seen&) const = default;
};

struct Options {
  std::size_t max_message;
  std::size_t pieces[3];  // the sizes of the pieces, in turn
};

Options options_from(const std::uint8_t* data) {
  constexpr std::size_t limits[] = {0, 1, 7, 16, 125, 126, 300, 70000};
  Options options{limits[data[0] % 8], {}};
  for (std::size_t i = 0; i < 3; ++i)
    options.pieces[i] = std::size_t{data[1 + i]} + 1;
  return options;
}

// What an event promises, whatever the input.
void check_event(const Event& event, const Decoder& decoder, std::size_t max_message) {
  switch (event.kind) {
    case Kind::text:
      check(sockit::utf8::valid(event.payload), "text is UTF-8");
      [[fallthrough]];
    case Kind::binary:
      check(event.payload.size() <= max_message, "a message within the limit");
      break;
    case Kind::close:
      check(event.payload.size() <= 123, "a close reason within 123 bytes");
      check(sockit::utf8::valid(event.payload), "a close reason in UTF-8");
      check(event.code != CloseCode::no_status || event.payload.empty(), "no reason without code");
      break;
    case Kind::ping:
    case Kind::pong:
      check(event.payload.size() <= 125, "a control payload within 125 bytes");
      break;
    case Kind::error:
      check(decoder.failed() && !event.payload.empty(), "an error is described and lasting");
      break;
    case Kind::none:
      break;
  }
}

// Runs the documented loop over data; returns false after an error.
bool decode_piece(Decoder& decoder, std::string_view data, const Options& options,
                  std::vector<Seen>& events) {
  // Every event uses a byte at least: one more call finds nothing left.
  for (std::size_t rounds = data.size() + 1; rounds > 0; --rounds) {
    Event event;
    const std::size_t used = decoder.decode(data, event);
    check(used <= data.size(), "used within the data");
    data.remove_prefix(used);
    check_event(event, decoder, options.max_message);
    if (event.kind == Kind::none) {
      check(data.empty(), "all of the data used when no event ends the call");
      return true;
    }
    events.push_back({event.kind, std::string(event.payload), event.code});
    if (event.kind == Kind::error) {
      Event again;
      check(
          decoder.decode(data, again) == 0 && again.kind == Kind::error && again.code == event.code,
          "the decoder stays in error");
      return false;
    }
  }
  violated("more events than bytes");
}

std::vector<Seen> decode_whole(std::string_view input, const Options& options) {
  Decoder decoder(options.max_message);
  std::vector<Seen> events;
  decode_piece(decoder, input, options, events);
  return events;
}

std::vector<Seen> decode_in_pieces(std::string_view input, const Options& options) {
  Decoder decoder(options.max_message);
  std::vector<Seen> events;
  for (std::size_t i = 0; !input.empty(); ++i) {
    const std::size_t size = std::min(options.pieces[i % 3], input.size());
    const std::vector<char> piece(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(size));
    input.remove_prefix(size);
    if (!decode_piece(decoder, {piece.data(), piece.size()}, options, events)) break;
  }
  return events;
}

// A server's frame as a client sends it: masked.
std::string masked(std::string_view frame) {
  constexpr unsigned char key[4] = {0x9b, 0x01, 0x7e, 0xc4};
  const auto length = static_cast<unsigned char>(frame[1]);
  const std::size_t header = 2 + (length == 126 ? 2 : length == 127 ? 8 : 0);
  std::string out(frame.substr(0, header));
  out[1] = static_cast<char>(length | 0x80u);
  out.append(reinterpret_cast<const char*>(key), 4);
  for (std::size_t i = header; i < frame.size(); ++i)
    out += static_cast<char>(static_cast<unsigned char>(frame[i]) ^ key[(i - header) % 4]);
  return out;
}

void check_round_trip(const Seen& seen, const Options& options) {
  constexpr Opcode opcodes[] = {Opcode::continuation, Opcode::text, Opcode::binary,
                                Opcode::ping,         Opcode::pong, Opcode::close};
  if (seen.kind == Kind::error) return;
  const Opcode opcode = opcodes[static_cast<int>(seen.kind)];
  std::string frame;
  append_frame(frame, opcode,
               opcode == Opcode::close ? close_payload(seen.code, seen.payload) : seen.payload);
  const std::vector<Seen> again = decode_whole(masked(frame), options);
  check(again.size() == 1 && again[0] == seen, "an event re-encoded decodes to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const Options options = options_from(data);
  const std::string_view input(reinterpret_cast<const char*>(data) + 4, size - 4);
  const std::vector<Seen> whole = decode_whole(input, options);
  check(decode_in_pieces(input, options) == whole, "the same events whole and in pieces");
  for (const Seen& seen : whole)
    check_round_trip(seen, options);
  return 0;
}
