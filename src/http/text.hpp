// The ASCII helpers every HTTP source file shares: case folding that no locale changes (host
// names, schemes, header tokens and file extensions are ASCII), hex digits, and the walk over
// a comma-separated header list.
#pragma once

#include <string>
#include <string_view>

#include "sockit/http/parser.hpp"

namespace sockit::http::text {

constexpr char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = lower(c);
  return out;
}

// The value of a hex digit, or -1.
constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Calls f on each element of a comma-separated list, OWS trimmed, empty ones included (RFC
// 9110 5.6.1: a recipient ignores them, which every f here does by matching nothing);
// stops at the first f that returns false, and returns false then.
template <class F>
bool for_each_element(std::string_view list, F f) noexcept(noexcept(f(list))) {
  for (;;) {
    const auto comma = list.find(',');
    if (!f(trim_ows(list.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace sockit::http::text
