// Url: an http or https URL as a client needs it (RFC 3986), and the resolution of a
// redirect's Location against the URL it came from.
//
//   auto url = sockit::http::Url::parse("https://[::1]:8443/a b?q=1#top");
//   url->host      // "::1"          url->port    // 8443
//   url->target    // "/a%20b?q=1"   (what the request line carries; the fragment is dropped)
//   url->resolve("../c")->to_string()  // "https://[::1]:8443/c"
//
// As curl does, a URL without a scheme is taken as http, and spaces and other bytes that may
// not appear in a request target are percent-encoded. Credentials in the URL (user:pass@) are
// rejected rather than sent in the clear.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "sockit/error.hpp"

namespace sockit::http {

enum class UrlErrc {
  empty = 1,
  unsupported_scheme,
  missing_host,
  credentials,
  bad_host,
  bad_ipv6,
  needs_brackets,
  bad_port,
  port_out_of_range,
};

// The category of URL parse failures; codes are UrlErrc values.
const std::error_category& url_category() noexcept;
std::error_code make_error_code(UrlErrc code) noexcept;

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 0;
  std::string target;  // path and query, percent-encoded; at least "/"

  static Result<Url> parse(std::string_view text) noexcept;
  // The URL that reference (a Location value: absolute, "//host/x", "/x", "x", "?q")
  // names when read relative to this one (RFC 3986 5.2).
  Result<Url> resolve(std::string_view reference) const noexcept;

  bool is_https() const noexcept { return scheme == "https"; }
  bool is_ipv6() const noexcept { return host.find(':') != std::string::npos; }
  std::uint16_t default_port() const noexcept { return is_https() ? 443 : 80; }
  // The Host header's value: "example.com", "[::1]:8080" (the port only when not default).
  std::string authority() const;
  std::string to_string() const;
  friend bool operator==(const Url&, const Url&) = default;
};

}  // namespace sockit::http

template <>
struct std::is_error_code_enum<sockit::http::UrlErrc> : std::true_type {};
