// Network: an IPv4 or IPv6 block in CIDR notation ("10.0.0.0/8", "fe80::/10"), as Python's
// ipaddress.ip_network(text, strict=False): host bits are masked off.
// AddressRange: consecutive addresses of one family, a block or "first-last" as nmap writes
// them ("10.0.0.1-10.0.0.50", "10.0.0.1-50", "fe80::1-fe80::ff"), to walk address by address.
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
  // How many addresses the block holds, network and broadcast included (Python's
  // num_addresses); blocks of 2^64 addresses or more say UINT64_MAX.
  std::uint64_t num_addresses() const noexcept;
  // The index-th address of the block (Python's network[index]), with port 0; index must be
  // below num_addresses().
  Endpoint operator[](std::uint64_t index) const noexcept;
  std::string to_string() const;

 private:
  friend class AddressRange;

  Family family_ = Family::inet;
  std::array<std::uint8_t, 16> bytes_{};  // network address, host bits zero
  unsigned prefix_ = 0;
};

class AddressRange {
 public:
  // A block ("10.0.0.0/24"), a bare address, "first-last" of one family, or IPv4's
  // "a.b.c.d-e" (the last byte runs from d to e).
  static Result<AddressRange> parse(std::string_view text) noexcept;
  explicit AddressRange(const Network& network) noexcept;

  Family family() const noexcept { return family_; }
  // How many addresses; UINT64_MAX for 2^64 or more.
  std::uint64_t size() const noexcept { return size_; }
  // The index-th address (port 0); index must be below size().
  Endpoint operator[](std::uint64_t index) const noexcept;
  // Whether endpoint's address lies in the range; IPv4-mapped IPv6 addresses count as IPv4.
  bool contains(const Endpoint& endpoint) const noexcept;

 private:
  AddressRange() = default;

  Family family_ = Family::inet;
  std::array<std::uint8_t, 16> first_{};
  std::array<std::uint8_t, 16> last_{};
  std::uint64_t size_ = 1;
};

}  // namespace sockit
