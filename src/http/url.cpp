#include "sockit/http/url.hpp"

#include <algorithm>
#include <string>

#include "sockit/endpoint.hpp"

#include "http/text.hpp"

namespace sockit::http {
namespace {

class UrlCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "url"; }
  std::string message(int code) const override {
    switch (static_cast<UrlErrc>(code)) {
      case UrlErrc::empty:
        return "empty URL";
      case UrlErrc::unsupported_scheme:
        return "unsupported scheme (use http:// or https://)";
      case UrlErrc::missing_host:
        return "no host in URL";
      case UrlErrc::credentials:
        return "credentials in URLs (user@host) are not supported";
      case UrlErrc::bad_host:
        return "invalid character in host name";
      case UrlErrc::bad_ipv6:
        return "not a valid IPv6 address between [ and ]";
      case UrlErrc::needs_brackets:
        return "an IPv6 address in a URL needs brackets: http://[::1]:8080/";
      case UrlErrc::bad_port:
        return "port is not a number";
      case UrlErrc::port_out_of_range:
        return "port out of range 1-65535";
    }
    return "malformed URL";
  }
};

using text::lowered;

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// RFC 3986 reg-name: unreserved, sub-delims and percent-encoded octets.
bool is_host_char(char c) noexcept {
  return is_alpha(c) || is_digit(c) ||
         std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos;
}

// What curl escapes in a request target: controls, space, non-ASCII and the characters
// RFC 3986 never allows unescaped. '%' stays as it is: the user may have encoded already.
bool needs_escape(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte >= 0x7f ||
         std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos;
}

std::string escaped(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (!needs_escape(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 0xf];
  }
  return out;
}

// Removes the last segment of out and its preceding '/' (RFC 3986 5.2.4, step C).
void drop_last_segment(std::string& out) {
  const auto slash = out.rfind('/');
  out.erase(slash == std::string::npos ? 0 : slash);
}

// RFC 3986 5.2.4: "/a/./b/../c" becomes "/a/c".
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./") || in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      drop_last_segment(out);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const auto end = in.find('/', 1);
      out.append(in.substr(0, end));
      in = end == std::string_view::npos ? std::string_view{} : in.substr(end);
    }
  }
  return out;
}

// The request target from the raw path and query: escaped, dot segments removed from the
// path, and at least "/".
std::string normalized_target(std::string_view raw) {
  const auto question = raw.find('?');
  const auto path = raw.substr(0, question);
  std::string target = remove_dot_segments(escaped(path));
  if (target.empty() || target.front() != '/') target.insert(0, "/");
  if (question != std::string_view::npos) target += escaped(raw.substr(question));
  return target;
}

std::string_view without_fragment(std::string_view text) noexcept {
  return text.substr(0, text.find('#'));
}

Result<std::uint16_t> parse_url_port(std::string_view text) noexcept {
  if (text.empty() || !std::all_of(text.begin(), text.end(), is_digit)) {
    return make_error_code(UrlErrc::bad_port);
  }
  unsigned long value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) return make_error_code(UrlErrc::port_out_of_range);
  }
  if (value == 0) return make_error_code(UrlErrc::port_out_of_range);
  return static_cast<std::uint16_t>(value);
}

// Fills host and port from "host", "host:port", "[v6]" or "[v6]:port".
std::error_code parse_authority(std::string_view authority, Url& url) {
  if (authority.find('@') != std::string_view::npos) return UrlErrc::credentials;
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return UrlErrc::bad_ipv6;
    const auto rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return UrlErrc::bad_ipv6;
    port = rest.empty() ? rest : rest.substr(1);
    // A zone identifier is written "%25eth0" in a URL (RFC 6874).
    std::string host(authority.substr(1, close - 1));
    if (const auto zone = host.find("%25"); zone != std::string::npos) host.erase(zone + 1, 2);
    auto ip = Endpoint::from_ip(host, 0);
    if (!ip || ip->family() != Family::inet6) return UrlErrc::bad_ipv6;
    url.host = lowered(host);
  } else {
    const auto colon = authority.find(':');
    if (authority.find(':', colon + 1) != std::string_view::npos) return UrlErrc::needs_brackets;
    const auto host = authority.substr(0, colon);
    if (!std::all_of(host.begin(), host.end(), is_host_char)) return UrlErrc::bad_host;
    url.host = lowered(host);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return UrlErrc::missing_host;
  url.port = url.default_port();
  if (port.empty()) return {};
  auto number = parse_url_port(port);
  if (!number) return number.error();
  url.port = *number;
  return {};
}

// Whether reference starts with a scheme ("http:"), which makes it absolute.
bool has_scheme(std::string_view reference) noexcept {
  const auto colon = reference.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(reference.front())) return false;
  const auto scheme = reference.substr(0, colon);
  return std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
  });
}

}  // namespace

const std::error_category& url_category() noexcept {
  static const UrlCategory category;
  return category;
}

std::error_code make_error_code(UrlErrc code) noexcept {
  return {static_cast<int>(code), url_category()};
}

Result<Url> Url::parse(std::string_view text) noexcept {
  text = without_fragment(text);
  if (text.empty()) return make_error_code(UrlErrc::empty);
  Url url;
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    url.scheme = "http";  // as curl guesses for "host/path"
  } else {
    url.scheme = lowered(text.substr(0, separator));
    if (url.scheme != "http" && url.scheme != "https") {
      return make_error_code(UrlErrc::unsupported_scheme);
    }
    text.remove_prefix(separator + 3);
  }
  const auto path_start = std::min(text.find_first_of("/?"), text.size());
  if (auto code = parse_authority(text.substr(0, path_start), url)) return code;
  url.target = normalized_target(text.substr(path_start));
  return url;
}

Result<Url> Url::resolve(std::string_view reference) const noexcept {
  reference = without_fragment(reference);
  if (has_scheme(reference)) return parse(reference);
  if (reference.starts_with("//")) return parse(scheme + ":" + std::string(reference));
  Url url = *this;
  if (reference.empty()) return url;
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  if (reference.starts_with('/')) {
    url.target = normalized_target(reference);
  } else if (reference.starts_with('?')) {
    url.target = std::string(path) + escaped(reference);
  } else {
    url.target = normalized_target(std::string(path.substr(0, path.rfind('/') + 1)) +
                                   std::string(reference));
  }
  return url;
}

std::string Url::authority() const {
  std::string out = is_ipv6() ? "[" + host + "]" : host;
  if (port != default_port()) out += ":" + std::to_string(port);
  return out;
}

std::string Url::to_string() const {
  return scheme + "://" + authority() + target;
}

}  // namespace sockit::http
