#include "sockit/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <ostream>

#include "sys/sys.hpp"

namespace sockit {
namespace {

constexpr socklen_t kUnixPathOffset = offsetof(sockaddr_un, sun_path);
constexpr std::size_t kUnixPathMax = sizeof(sockaddr_un::sun_path);

bool all_digits(std::string_view text) noexcept {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool looks_like_ipv4(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// The scope of "fe80::1%eth0" or "fe80::1%2": an interface index, 0 when unknown.
Result<std::uint32_t> parse_scope(std::string_view scope) noexcept {
  if (all_digits(scope) && scope.size() <= 9) {
    std::uint32_t index = 0;
    for (char c : scope)
      index = index * 10 + static_cast<std::uint32_t>(c - '0');
    return index;
  }
  const unsigned index = sys::if_nametoindex(std::string(scope));
  if (index == 0) return make_error_code(AddressErrc::bad_scope);
  return index;
}

struct HostPort {
  std::string_view host;
  std::string_view port;
  bool bracketed = false;
};

// Splits "host:port" and "[v6]:port" without judging either part.
Result<HostPort> split_host_port(std::string_view text) noexcept {
  if (text.empty()) return make_error_code(AddressErrc::empty);
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return make_error_code(AddressErrc::unbalanced_bracket);
    const auto rest = text.substr(close + 1);
    if (rest.size() < 2 || rest.front() != ':') return make_error_code(AddressErrc::missing_port);
    return HostPort{text.substr(1, close - 1), rest.substr(1), true};
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return make_error_code(AddressErrc::missing_port);
  if (text.find(':') != colon) return make_error_code(AddressErrc::needs_brackets);
  if (text.find_first_of("[]") != std::string_view::npos) {
    return make_error_code(AddressErrc::unbalanced_bracket);
  }
  if (colon + 1 == text.size()) return make_error_code(AddressErrc::missing_port);
  return HostPort{text.substr(0, colon), text.substr(colon + 1), false};
}

constexpr std::string_view kUnixPrefix = "unix:";

}  // namespace

std::string_view to_string(Family family) noexcept {
  switch (family) {
    case Family::unspec:
      return "AF_UNSPEC";
    case Family::inet:
      return "AF_INET";
    case Family::inet6:
      return "AF_INET6";
    case Family::local:
      return "AF_UNIX";
  }
  return "AF_?";
}

std::string_view to_string(Type type) noexcept {
  switch (type) {
    case Type::any:
      return "0";
    case Type::stream:
      return "SOCK_STREAM";
    case Type::dgram:
      return "SOCK_DGRAM";
    case Type::raw:
      return "SOCK_RAW";
    case Type::seqpacket:
      return "SOCK_SEQPACKET";
  }
  return "SOCK_?";
}

Result<std::uint16_t> parse_port(std::string_view text) noexcept {
  if (text.empty()) return make_error_code(AddressErrc::missing_port);
  if (!all_digits(text)) return make_error_code(AddressErrc::bad_port);
  std::uint32_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
    if (value > 65535) return make_error_code(AddressErrc::port_out_of_range);
  }
  return static_cast<std::uint16_t>(value);
}

Endpoint::Endpoint() noexcept : storage_{}, size_(sizeof(sa_family_t)) {
  storage_.ss_family = AF_UNSPEC;
}

Result<Endpoint> Endpoint::from_ip(std::string_view ip, std::uint16_t port) noexcept {
  // inet_pton and if_nametoindex read C strings: a NUL would silently cut the text short.
  if (ip.find('\0') != std::string_view::npos) return make_error_code(AddressErrc::not_numeric);
  Endpoint endpoint;
  if (ip.find(':') != std::string_view::npos) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&endpoint.storage_);
    const auto percent = ip.find('%');
    const std::string address(ip.substr(0, percent));
    if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) != 1) {
      return make_error_code(AddressErrc::bad_ipv6);
    }
    if (percent != std::string_view::npos) {
      auto scope = parse_scope(ip.substr(percent + 1));
      if (!scope) return scope.error();
      v6->sin6_scope_id = *scope;
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    endpoint.size_ = sizeof(sockaddr_in6);
    return endpoint;
  }
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage_);
  const std::string address(ip);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) != 1) {
    return make_error_code(looks_like_ipv4(ip) ? AddressErrc::bad_ipv4 : AddressErrc::not_numeric);
  }
  v4->sin_family = AF_INET;
  v4->sin_port = htons(port);
  endpoint.size_ = sizeof(sockaddr_in);
  return endpoint;
}

Result<Endpoint> Endpoint::from_path(std::string_view path) noexcept {
  if (path.empty()) return make_error_code(AddressErrc::empty);
  const bool abstract = path.front() == '@';
  // A path needs room for its terminating NUL; an abstract name has none but a leading NUL.
  if (path.size() >= kUnixPathMax) return make_error_code(AddressErrc::path_too_long);
  // The kernel would end a path at its first NUL; only an abstract name may hold NULs.
  if (!abstract && path.find('\0') != std::string_view::npos) {
    return make_error_code(AddressErrc::nul_in_path);
  }
  Endpoint endpoint;
  auto* un = reinterpret_cast<sockaddr_un*>(&endpoint.storage_);
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  if (abstract) {
    un->sun_path[0] = '\0';
    endpoint.size_ = static_cast<socklen_t>(kUnixPathOffset + path.size());
  } else {
    endpoint.size_ = static_cast<socklen_t>(kUnixPathOffset + path.size() + 1);
  }
  return endpoint;
}

Endpoint Endpoint::from_sockaddr(const sockaddr* address, socklen_t length) noexcept {
  Endpoint endpoint;
  const socklen_t size = std::min(length, capacity());
  std::memcpy(&endpoint.storage_, address, size);
  endpoint.size_ = size;
  return endpoint;
}

Result<Endpoint> Endpoint::parse(std::string_view text) noexcept {
  auto address = Address::parse(text);
  if (!address) return address.error();
  if (address->local) return from_path(address->host);
  if (address->host.empty()) return make_error_code(AddressErrc::not_numeric);
  return from_ip(address->host, address->port);
}

Endpoint Endpoint::loopback(Family family, std::uint16_t port) noexcept {
  return *from_ip(family == Family::inet6 ? "::1" : "127.0.0.1", port);
}

Endpoint Endpoint::any(Family family, std::uint16_t port) noexcept {
  return *from_ip(family == Family::inet6 ? "::" : "0.0.0.0", port);
}

Family Endpoint::family() const noexcept {
  return static_cast<Family>(storage_.ss_family);
}

std::uint16_t Endpoint::port() const noexcept {
  switch (storage_.ss_family) {
    case AF_INET:
      return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6:
      return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default:
      return 0;
  }
}

void Endpoint::set_port(std::uint16_t port) noexcept {
  if (storage_.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (storage_.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

bool Endpoint::is_abstract() const noexcept {
  const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
  return storage_.ss_family == AF_UNIX && size_ > kUnixPathOffset && un->sun_path[0] == '\0';
}

std::string Endpoint::host() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (storage_.ss_family) {
    case AF_INET: {
      const auto* v4 = reinterpret_cast<const sockaddr_in*>(&storage_);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      return text;
    }
    case AF_INET6: {
      const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      std::string host = text;
      if (v6->sin6_scope_id != 0) host += "%" + sys::if_indextoname(v6->sin6_scope_id);
      return host;
    }
    case AF_UNIX: {
      if (size_ <= kUnixPathOffset) return {};
      const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t length = size_ - kUnixPathOffset;
      if (un->sun_path[0] == '\0') return "@" + std::string(un->sun_path + 1, length - 1);
      return std::string(un->sun_path, strnlen(un->sun_path, length));
    }
    default:
      return {};
  }
}

std::string Endpoint::to_string() const {
  switch (storage_.ss_family) {
    case AF_INET:
      return host() + ":" + std::to_string(port());
    case AF_INET6:
      return "[" + host() + "]:" + std::to_string(port());
    case AF_UNIX:
      return std::string(kUnixPrefix) + host();
    default:
      return "(unspecified)";
  }
}

Endpoint Endpoint::unmapped() const noexcept {
  if (storage_.ss_family != AF_INET6) return *this;
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
  if (!IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) return *this;
  Endpoint endpoint;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&endpoint.storage_);
  v4->sin_family = AF_INET;
  v4->sin_port = v6->sin6_port;
  std::memcpy(&v4->sin_addr, v6->sin6_addr.s6_addr + 12, 4);
  endpoint.size_ = sizeof(sockaddr_in);
  return endpoint;
}

void Endpoint::resize(socklen_t length) noexcept {
  size_ = std::min(length, capacity());
}

bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
  if (a.storage_.ss_family != b.storage_.ss_family) return false;
  switch (a.storage_.ss_family) {
    case AF_INET: {
      const auto* x = reinterpret_cast<const sockaddr_in*>(&a.storage_);
      const auto* y = reinterpret_cast<const sockaddr_in*>(&b.storage_);
      return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    case AF_INET6: {
      const auto* x = reinterpret_cast<const sockaddr_in6*>(&a.storage_);
      const auto* y = reinterpret_cast<const sockaddr_in6*>(&b.storage_);
      return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
             std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    default:
      return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
  }
}

std::ostream& operator<<(std::ostream& out, const Endpoint& endpoint) {
  return out << endpoint.to_string();
}

Result<Address> Address::parse(std::string_view text) noexcept {
  if (text.starts_with(kUnixPrefix)) {
    const auto path = text.substr(kUnixPrefix.size());
    if (path.empty()) return make_error_code(AddressErrc::empty);
    if (path.size() >= kUnixPathMax) return make_error_code(AddressErrc::path_too_long);
    return Address{std::string(path), 0, true};
  }
  auto parts = split_host_port(text);
  if (!parts) return parts.error();
  auto port = parse_port(parts->port);
  if (!port) return port.error();
  if (parts->bracketed) {
    auto v6 = Endpoint::from_ip(parts->host, *port);
    if (!v6 || v6->family() != Family::inet6) {
      return v6 ? make_error_code(AddressErrc::bad_ipv6) : v6.error();
    }
  } else if (looks_like_ipv4(parts->host)) {
    auto v4 = Endpoint::from_ip(parts->host, *port);
    if (!v4) return v4.error();
  }
  return Address{std::string(parts->host), *port, false};
}

Address Address::from_endpoint(const Endpoint& endpoint) {
  return Address{endpoint.host(), endpoint.port(), endpoint.family() == Family::local};
}

std::string Address::to_string() const {
  if (local) return std::string(kUnixPrefix) + host;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::ostream& operator<<(std::ostream& out, const Address& address) {
  return out << address.to_string();
}

}  // namespace sockit
