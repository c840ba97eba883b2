#include "sockit/utf8.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace sockit::utf8 {
namespace {

// What a lead byte allows (RFC 3629 section 4): the sequence's length and the range of its
// second byte, narrower than 0x80-0xBF where that excludes overlong forms (after 0xE0,
// 0xF0), surrogates (after 0xED) and code points above U+10FFFF (after 0xF4).
struct Lead {
  std::uint8_t length = 0;  // 0: not a lead byte
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
};

constexpr Lead make_lead(unsigned char byte) noexcept {
  if (byte < 0x80) return {1};
  if (byte < 0xC2) return {};  // a continuation byte, or an overlong lead 0xC0/0xC1
  if (byte < 0xE0) return {2};
  if (byte == 0xE0) return {3, 0xA0};
  if (byte == 0xED) return {3, 0x80, 0x9F};
  if (byte < 0xF0) return {3};
  if (byte == 0xF0) return {4, 0x90};
  if (byte < 0xF4) return {4};
  if (byte == 0xF4) return {4, 0x80, 0x8F};
  return {};
}

// Looked up rather than computed: text with many non-ASCII letters checks twice as fast.
constexpr std::array<Lead, 256> make_leads() noexcept {
  std::array<Lead, 256> table{};
  for (std::size_t byte = 0; byte < table.size(); ++byte)
    table[byte] = make_lead(static_cast<unsigned char>(byte));
  return table;
}
constexpr std::array<Lead, 256> kLeads = make_leads();

bool continuation(unsigned char byte) noexcept {
  return (byte & 0xC0) == 0x80;
}

// Whether the bytes after the lead, p[1] to p[size - 1], may follow it.
bool followers_valid(const unsigned char* p, std::size_t size, Lead l) noexcept {
  if (size > 1 && (p[1] < l.low || p[1] > l.high)) return false;
  for (std::size_t i = 2; i < size; ++i)
    if (!continuation(p[i])) return false;
  return true;
}

const unsigned char* bytes(std::string_view text) noexcept {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// The length of the valid sequence at p (before end), or 0.
std::size_t length_at(const unsigned char* p, const unsigned char* end) noexcept {
  const Lead l = kLeads[*p];
  if (l.length == 0 || l.length > end - p) return 0;
  return followers_valid(p, l.length, l) ? l.length : 0;
}

// Whether the eight bytes at p are all ASCII.
bool ascii8(const unsigned char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return (word & 0x8080808080808080) == 0;
}

}  // namespace

std::size_t sequence_length(std::string_view text) noexcept {
  return text.empty() ? 0 : length_at(bytes(text), bytes(text) + text.size());
}

bool valid(std::string_view text) noexcept {
  const unsigned char* p = bytes(text);
  const unsigned char* const end = p + text.size();
  while (p != end) {
    if (*p >= 0x80) {
      const std::size_t n = length_at(p, end);
      if (n == 0) return false;
      p += n;
    } else if (end - p >= 8 && ascii8(p)) {
      p += 8;
    } else {
      ++p;
    }
  }
  return true;
}

std::size_t incomplete_tail(std::string_view text) noexcept {
  const std::size_t size = text.size();
  for (std::size_t n = 1; n <= 3 && n <= size; ++n) {
    const unsigned char* const start = bytes(text) + size - n;
    if (continuation(*start)) continue;
    const Lead l = kLeads[*start];
    return l.length > n && followers_valid(start, n, l) ? n : 0;
  }
  return 0;
}

}  // namespace sockit::utf8
