#include "sockit/http/websocket.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "sockit/utf8.hpp"

// The frames (RFC 6455 section 5). The opening handshake is in websocket_handshake.cpp, apart,
// because it needs OpenSSL and the fuzz targets link the frames without it.

namespace sockit::http::websocket {
namespace {

constexpr std::size_t kMaxControlPayload = 125;
// An idle decoder keeps a buffer up to this capacity (a chat line fits) and frees a larger
// one once its message is handed out.
constexpr std::size_t kKeptCapacity = 1024;

bool is_control(Opcode opcode) noexcept {
  return static_cast<unsigned>(opcode) >= 8;
}

bool is_known(unsigned opcode) noexcept {
  return opcode <= 2 || (opcode >= 8 && opcode <= 10);
}

// The size of a client frame's header from its second byte: the length field and the mask.
std::size_t header_size(char byte1) noexcept {
  const unsigned length = static_cast<unsigned char>(byte1) & 0x7Fu;
  const std::size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
  return 2 + extended + ((static_cast<unsigned char>(byte1) & 0x80u) != 0 ? 4 : 0);
}

// size bytes big-endian.
std::uint64_t read_big_endian(const char* p, std::size_t size) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i)
    value = value << 8 | static_cast<unsigned char>(p[i]);
  return value;
}

// Unmasks size bytes from `from` into `to`, eight at a time; mask's low byte masks from[0].
// Returns the mask rotated for the byte after the last.
static_assert(std::endian::native == std::endian::little);
std::uint32_t unmask(const char* from, char* to, std::size_t size, std::uint32_t mask) noexcept {
  const std::uint64_t wide = std::uint64_t{mask} << 32 | mask;
  std::size_t i = 0;
  for (; size - i >= 8; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, from + i, sizeof word);
    word ^= wide;
    std::memcpy(to + i, &word, sizeof word);
  }
  for (; i < size; ++i)
    to[i] =
        static_cast<char>(static_cast<unsigned char>(from[i]) ^ ((mask >> (8 * (i % 4))) & 0xFFu));
  return std::rotr(mask, static_cast<int>(8 * (size % 4)));
}

// The codes an endpoint may send in a close frame (RFC 6455 section 7.4, and the IANA
// registry's 1012-1014); 3000-4999 are for libraries and applications.
bool sendable(unsigned code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

}  // namespace

// --- Decoder

Decoder::Decoder(std::size_t max_message) noexcept : max_message_(max_message) {}

std::size_t Decoder::decode(std::string_view data, Event& event) {
  event = {};
  if (stage_ == Stage::failed) {
    event = {Event::Kind::error, error_, error_code_};
    return 0;
  }
  if (deliver_) {
    deliver_ = false;
    buffer_.resize(message_size_);
    if (message_size_ == 0 && buffer_.capacity() > kKeptCapacity) buffer_.shrink_to_fit();
  }
  std::size_t used = 0;
  for (;;) {
    if (stage_ == Stage::header && !read_header(data, used, event)) return used;
    if (!read_payload(data, used, event)) return used;
  }
}

// The header at data[used], or its rest when an earlier call cut it off. Returns whether it
// is complete and valid: the payload follows.
bool Decoder::read_header(std::string_view data, std::size_t& used, Event& event) {
  const char* header = data.data() + used;
  const std::size_t available = data.size() - used;
  if (header_size_ == 0 && available >= 2 && available >= header_size(header[1])) {
    if (!check_start(header[0], header[1], event)) return false;
    used += header_size(header[1]);
    return start_frame(header, event);
  }
  // Cut off: gathered in header_, checked as soon as its first two bytes are in.
  const auto complete = [this] {
    return header_size_ >= 2 && header_size_ == header_size(header_[1]);
  };
  while (used < data.size() && !complete()) {
    header_[header_size_++] = data[used++];
    if (header_size_ == 2 && !check_start(header_[0], header_[1], event)) return false;
  }
  if (!complete()) return false;
  header_size_ = 0;
  return start_frame(header_, event);
}

// What the first two bytes of a header show: the flags, the opcode, the mask bit and a
// control frame's length.
bool Decoder::check_start(char byte0, char byte1, Event& event) {
  const auto b0 = static_cast<unsigned char>(byte0);
  const auto b1 = static_cast<unsigned char>(byte1);
  if ((b0 & 0x70u) != 0) return fail(CloseCode::protocol_error, "RSV bit set", event);
  const unsigned opcode = b0 & 0x0Fu;
  if (!is_known(opcode)) return fail(CloseCode::protocol_error, "unknown opcode", event);
  if ((b1 & 0x80u) == 0) return fail(CloseCode::protocol_error, "unmasked client frame", event);
  if (is_control(static_cast<Opcode>(opcode))) {
    if ((b0 & 0x80u) == 0) {
      return fail(CloseCode::protocol_error, "fragmented control frame", event);
    }
    if ((b1 & 0x7Fu) > kMaxControlPayload) {
      return fail(CloseCode::protocol_error, "control frame longer than 125 bytes", event);
    }
  } else if (opcode == 0 && message_opcode_ == Opcode::continuation) {
    return fail(CloseCode::protocol_error, "continuation without a message", event);
  } else if (opcode != 0 && message_opcode_ != Opcode::continuation) {
    return fail(CloseCode::protocol_error, "new message before the last one ended", event);
  }
  return true;
}

// A complete header whose first two bytes passed check_start(): its length and mask.
bool Decoder::start_frame(const char* header, Event& event) {
  opcode_ = static_cast<Opcode>(header[0] & 0x0F);
  fin_ = (static_cast<unsigned char>(header[0]) & 0x80u) != 0;
  const std::size_t extended = header_size(header[1]) - 6;
  std::uint64_t length = static_cast<unsigned char>(header[1]) & 0x7Fu;
  if (extended > 0) length = read_big_endian(header + 2, extended);
  if (length >> 63 != 0) {
    return fail(CloseCode::protocol_error, "64-bit length with the top bit set", event);
  }
  std::memcpy(&mask_, header + 2 + extended, sizeof mask_);
  if (!is_control(opcode_)) {
    if (length > max_message_ - message_size_) {
      return fail(CloseCode::too_big, "message too big", event);
    }
    if (opcode_ != Opcode::continuation) message_opcode_ = opcode_;
  }
  remaining_ = length;
  stage_ = Stage::payload;
  return true;
}

// Unmasks what data holds of the payload into buffer_. Returns whether decode() goes on to
// the next frame: not when the payload needs more data, nor when the frame ended the call.
bool Decoder::read_payload(std::string_view data, std::size_t& used, Event& event) {
  const auto take =
      static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - used));
  const std::size_t at = buffer_.size();
  buffer_.resize(at + take);
  mask_ = unmask(data.data() + used, buffer_.data() + at, take, mask_);
  used += take;
  remaining_ -= take;
  if (!is_control(opcode_)) {
    message_size_ += take;
    if (message_opcode_ == Opcode::text && !text_valid(fin_ && remaining_ == 0)) {
      return fail(CloseCode::invalid_payload, "text that is not UTF-8", event);
    }
  }
  if (remaining_ > 0) return false;
  stage_ = Stage::header;
  return end_frame(event);
}

// Whether the text message so far is UTF-8. Only the bytes not checked yet are, but for a
// sequence cut off at their end while more is to come.
bool Decoder::text_valid(bool complete) noexcept {
  const std::string_view unchecked(buffer_.data() + utf8_checked_, message_size_ - utf8_checked_);
  const std::size_t cut = complete ? 0 : utf8::incomplete_tail(unchecked);
  if (!utf8::valid(unchecked.substr(0, unchecked.size() - cut))) return false;
  utf8_checked_ = message_size_ - cut;
  return true;
}

// A frame's payload is all in buffer_. Returns whether decode() goes on: only after a
// fragment that does not end its message.
bool Decoder::end_frame(Event& event) {
  if (is_control(opcode_)) {
    deliver_ = true;
    const std::string_view payload = std::string_view(buffer_).substr(message_size_);
    if (opcode_ == Opcode::close) return close_event(payload, event);
    event = {opcode_ == Opcode::ping ? Event::Kind::ping : Event::Kind::pong, payload};
    return false;
  }
  if (!fin_) return true;
  event = {message_opcode_ == Opcode::text ? Event::Kind::text : Event::Kind::binary,
           {buffer_.data(), message_size_}};
  deliver_ = true;
  message_opcode_ = Opcode::continuation;
  message_size_ = 0;
  utf8_checked_ = 0;
  return false;
}

bool Decoder::close_event(std::string_view payload, Event& event) {
  if (payload.empty()) {
    event = {Event::Kind::close, {}, CloseCode::no_status};
    return false;
  }
  if (payload.size() == 1) return fail(CloseCode::protocol_error, "close payload of 1 byte", event);
  const auto code = static_cast<std::uint16_t>(read_big_endian(payload.data(), 2));
  if (!sendable(code)) return fail(CloseCode::protocol_error, "invalid close code", event);
  const std::string_view reason = payload.substr(2);
  if (!utf8::valid(reason)) {
    return fail(CloseCode::invalid_payload, "close reason that is not UTF-8", event);
  }
  event = {Event::Kind::close, reason, static_cast<CloseCode>(code)};
  return false;
}

// Returns false, so that decode() stops.
bool Decoder::fail(CloseCode code, std::string_view why, Event& event) {
  stage_ = Stage::failed;
  error_code_ = code;
  error_ = why;
  std::string().swap(buffer_);
  event = {Event::Kind::error, why, code};
  return false;
}

// --- Encoder

std::size_t frame_header(Opcode opcode, std::uint64_t payload_size, char (&out)[10]) noexcept {
  out[0] = static_cast<char>(0x80u | static_cast<unsigned>(opcode));
  if (payload_size < 126) {
    out[1] = static_cast<char>(payload_size);
    return 2;
  }
  const std::size_t extended = payload_size <= 0xFFFF ? 2 : 8;
  out[1] = static_cast<char>(extended == 2 ? 126 : 127);
  for (std::size_t i = 0; i < extended; ++i)
    out[2 + i] = static_cast<char>(payload_size >> (8 * (extended - 1 - i)));
  return 2 + extended;
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload) {
  char header[10];
  out.append(header, frame_header(opcode, payload.size(), header));
  out.append(payload);
}

std::string close_payload(CloseCode code, std::string_view reason) {
  if (code == CloseCode::no_status) return {};
  reason = reason.substr(0, kMaxControlPayload - 2);
  reason.remove_suffix(utf8::incomplete_tail(reason));
  const auto value = static_cast<std::uint16_t>(code);
  std::string payload{static_cast<char>(value >> 8), static_cast<char>(value & 0xFFu)};
  payload.append(reason);
  return payload;
}

}  // namespace sockit::http::websocket
