#include "sockit/http/websocket.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

// The opening handshake (RFC 6455 section 4.2), apart from the frames: see websocket.cpp.

namespace sockit::http::websocket {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// The base64 of 16 bytes: 22 characters and the padding "==".
bool valid_key(std::string_view key) noexcept {
  return key.size() == 24 && key.substr(22) == "==" &&
         std::all_of(key.begin(), key.begin() + 22, is_base64);
}

// host[:port] without a port that is the scheme's default, so that "example.com" and
// "example.com:80" compare equal over http.
std::string_view without_default_port(std::string_view authority,
                                      std::string_view scheme) noexcept {
  const std::string_view port = iequals(scheme, "https") ? ":443" : ":80";
  if (authority.ends_with(port)) authority.remove_suffix(port.size());
  return authority;
}

}  // namespace

bool origin_allowed(const Request& request, std::span<const std::string> allowed) noexcept {
  if (!request.has_header("Origin")) return true;
  const std::string_view origin = request.header("Origin");
  if (std::any_of(allowed.begin(), allowed.end(),
                  [origin](const std::string& one) { return iequals(one, origin); })) {
    return true;
  }
  // scheme "://" host [":" port], and nothing after it (RFC 6454 section 6.1).
  const auto separator = origin.find("://");
  if (separator == std::string_view::npos || !request.has_header("Host")) return false;
  const std::string_view scheme = origin.substr(0, separator);
  const std::string_view authority = origin.substr(separator + 3);
  return !authority.empty() && iequals(without_default_port(authority, scheme),
                                       without_default_port(request.header("Host"), scheme));
}

std::string_view check_upgrade(const Request& request) noexcept {
  if (request.method != "GET") return "the method is not GET";
  if (request.version_minor < 1) return "not HTTP/1.1";
  if (!has_token(request.header("Upgrade"), "websocket")) return "Upgrade does not list websocket";
  if (!has_token(request.header("Connection"), "upgrade")) {
    return "Connection does not list upgrade";
  }
  if (request.header("Sec-WebSocket-Version") != "13") return "Sec-WebSocket-Version is not 13";
  if (!valid_key(request.header("Sec-WebSocket-Key"))) {
    return "Sec-WebSocket-Key is not the base64 of 16 bytes";
  }
  return {};
}

bool version_mismatch(const Request& request) noexcept {
  return request.has_header("Sec-WebSocket-Version") &&
         request.header("Sec-WebSocket-Version") != "13";
}

std::string accept_key(std::string_view client_key) {
  std::string input(client_key);
  input.append(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 is not available from OpenSSL");
  }
  unsigned char encoded[(EVP_MAX_MD_SIZE + 2) / 3 * 4 + 1];
  const int size = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  return {reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size)};
}

std::string upgrade_response(std::string_view client_key) {
  return "HTTP/1.1 101 Switching Protocols\r\n"
         "Upgrade: websocket\r\n"
         "Connection: Upgrade\r\n"
         "Sec-WebSocket-Accept: " +
         accept_key(client_key) + "\r\n\r\n";
}

}  // namespace sockit::http::websocket
