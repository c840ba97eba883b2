#include "chat/text.hpp"

#include <algorithm>
#include <cstdio>

#include "sockit/http/parser.hpp"
#include "sockit/utf8.hpp"

namespace sockit::tools::chat {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr std::size_t kMaxNick = 20;
constexpr std::size_t kMaxRoom = 30;

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool is_letter(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool all_name_chars(std::string_view text) noexcept {
  for (const char c : text) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

// The code point of a valid sequence of length size at the start of text.
char32_t decode(std::string_view text, std::size_t size) noexcept {
  const auto byte = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(text[i]));
  };
  if (size == 1) return byte(0);
  char32_t code = byte(0) & (0x7fU >> size);
  for (std::size_t i = 1; i < size; ++i)
    code = (code << 6) | (byte(i) & 0x3fU);
  return code;
}

bool is_hidden_control(char32_t code) noexcept {
  return (code >= 0x80 && code <= 0x9f) || (code >= 0x202a && code <= 0x202e) ||
         (code >= 0x2066 && code <= 0x2069);
}

}  // namespace

std::string sanitize(std::string_view text) {
  std::string safe;
  safe.reserve(text.size());
  while (!text.empty()) {
    const auto c = static_cast<unsigned char>(text.front());
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        safe.push_back('^');
        safe.push_back(static_cast<char>(c ^ 0x40));
      } else {
        safe.push_back(static_cast<char>(c));
      }
      text.remove_prefix(1);
      continue;
    }
    const std::size_t size = utf8::sequence_length(text);
    if (size == 0) {
      safe.append(kReplacement);
      text.remove_prefix(1);
      continue;
    }
    if (const char32_t code = decode(text, size); is_hidden_control(code)) {
      char shown[12];
      std::snprintf(shown, sizeof shown, "<U+%04X>", static_cast<unsigned>(code));
      safe.append(shown);
    } else {
      safe.append(text.substr(0, size));
    }
    text.remove_prefix(size);
  }
  return safe;
}

bool valid_nick(std::string_view nick) noexcept {
  return !nick.empty() && nick.size() <= kMaxNick && is_letter(nick.front()) &&
         all_name_chars(nick);
}

bool is_guest_nick(std::string_view nick) noexcept {
  constexpr std::string_view kGuest = "guest";
  if (nick.size() <= kGuest.size() || fold(nick.substr(0, kGuest.size())) != kGuest) return false;
  for (const char c : nick.substr(kGuest.size())) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool valid_room(std::string_view room) noexcept {
  return room.size() >= 2 && room.size() <= kMaxRoom + 1 && room.front() == '#' &&
         all_name_chars(room.substr(1));
}

std::string fold(std::string_view name) {
  std::string folded(name);
  for (char& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

Command parse_command(std::string_view line) noexcept {
  if (line.size() < 2 || line.front() != '/' || line[1] == '/' || line[1] == ' ') {
    if (line.starts_with("//")) line.remove_prefix(1);
    return {{}, line};
  }
  line.remove_prefix(1);
  const auto space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return {line, {}};
  return {line.substr(0, space), sockit::http::trim_ows(line.substr(space))};
}

bool is_http_request_line(std::string_view line) noexcept {
  const auto first = line.find(' ');
  const auto last = line.rfind(' ');
  if (first == 0 || first == std::string_view::npos || last <= first + 1) return false;
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  return std::all_of(method.begin(), method.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || c == '-'; }) &&
         target.find(' ') == std::string_view::npos && version.size() == 8 &&
         version.starts_with("HTTP/") && is_digit(version[5]) && version[6] == '.' &&
         is_digit(version[7]);
}

}  // namespace sockit::tools::chat
