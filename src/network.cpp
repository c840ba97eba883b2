#include "sockit/network.hpp"

#include <netinet/in.h>

#include <cstring>

namespace sockit {
namespace {

// The address bytes of an IP endpoint (4 for IPv4, 16 for IPv6).
std::size_t address_bytes(const Endpoint& endpoint, std::uint8_t* out) noexcept {
  if (endpoint.family() == Family::inet) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in*>(endpoint.data())->sin_addr, 4);
    return 4;
  }
  std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(endpoint.data())->sin6_addr, 16);
  return 16;
}

void mask(std::uint8_t* bytes, std::size_t size, unsigned prefix) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned bits_before = static_cast<unsigned>(i) * 8;
    if (prefix >= bits_before + 8) continue;
    const unsigned keep = prefix > bits_before ? prefix - bits_before : 0;
    bytes[i] = static_cast<std::uint8_t>(keep == 0 ? 0 : bytes[i] & (0xFF << (8 - keep)));
  }
}

}  // namespace

Result<Network> Network::parse(std::string_view text) noexcept {
  const auto slash = text.find('/');
  auto address = Endpoint::from_ip(text.substr(0, slash), 0);
  if (!address) return address.error();
  Network network;
  network.family_ = address->family();
  const std::size_t size = address_bytes(*address, network.bytes_.data());
  const unsigned max_prefix = static_cast<unsigned>(size) * 8;
  network.prefix_ = max_prefix;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    auto length = parse_port(digits);  // a small decimal number, same rules
    if (!length || *length > max_prefix) return make_error_code(AddressErrc::bad_prefix);
    network.prefix_ = *length;
  }
  mask(network.bytes_.data(), size, network.prefix_);
  return network;
}

bool Network::contains(const Endpoint& endpoint) const noexcept {
  const Endpoint plain = endpoint.unmapped();
  if (plain.family() != family_) return false;
  std::array<std::uint8_t, 16> bytes{};
  const std::size_t size = address_bytes(plain, bytes.data());
  mask(bytes.data(), size, prefix_);
  return std::memcmp(bytes.data(), bytes_.data(), size) == 0;
}

std::string Network::to_string() const {
  Endpoint endpoint;
  if (family_ == Family::inet) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, bytes_.data(), 4);
    endpoint = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  } else {
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, bytes_.data(), 16);
    endpoint = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
  }
  return endpoint.host() + "/" + std::to_string(prefix_);
}

}  // namespace sockit
