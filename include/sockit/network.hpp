// Network: an IPv4 or IPv6 block in CIDR notation ("10.0.0.0/8", "fe80::/10"), as Python's
// ipaddress.ip_network(text, strict=False): host bits are masked off.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"

namespace sockit {

class Network {
 public:
  // "a.b.c.d/len", "v6/len", or a bare address (a block of one).
  static Result<Network> parse(std::string_view text) noexcept;

  // Whether endpoint's address lies in the block; IPv4-mapped IPv6 addresses count as IPv4.
  bool contains(const Endpoint& endpoint) const noexcept;
  Family family() const noexcept { return family_; }
  unsigned prefix_length() const noexcept { return prefix_; }
  std::string to_string() const;

 private:
  Family family_ = Family::inet;
  std::array<std::uint8_t, 16> bytes_{};  // network address, host bits zero
  unsigned prefix_ = 0;
};

}  // namespace sockit
