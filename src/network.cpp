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

std::size_t address_size(Family family) noexcept {
  return family == Family::inet ? 4 : 16;
}

Endpoint endpoint_of(Family family, const std::array<std::uint8_t, 16>& bytes) noexcept {
  if (family == Family::inet) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, bytes.data(), 4);
    return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  std::memcpy(&v6.sin6_addr, bytes.data(), 16);
  return Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
}

// bytes (a big-endian number of size bytes) plus offset.
std::array<std::uint8_t, 16> add(std::array<std::uint8_t, 16> bytes, std::size_t size,
                                 std::uint64_t offset) noexcept {
  unsigned carry = 0;
  for (std::size_t i = size; i-- > 0;) {
    const unsigned sum = bytes[i] + static_cast<unsigned>(offset & 0xFF) + carry;
    bytes[i] = static_cast<std::uint8_t>(sum & 0xFF);
    carry = sum >> 8;
    offset >>= 8;
  }
  return bytes;
}

// last - first + 1 for two big-endian numbers of size bytes, saturated at UINT64_MAX; zero
// when last is below first.
std::uint64_t span(const std::array<std::uint8_t, 16>& first,
                   const std::array<std::uint8_t, 16>& last, std::size_t size) noexcept {
  if (std::memcmp(first.data(), last.data(), size) > 0) return 0;
  std::array<std::uint8_t, 16> difference{};
  int borrow = 0;
  for (std::size_t i = size; i-- > 0;) {
    const int value = last[i] - first[i] - borrow;
    borrow = value < 0 ? 1 : 0;
    difference[i] = static_cast<std::uint8_t>(value + borrow * 256);
  }
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (size - i > 8 && difference[i] != 0) return UINT64_MAX;
    count = (count << 8) | difference[i];
  }
  return count == UINT64_MAX ? count : count + 1;
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

std::uint64_t Network::num_addresses() const noexcept {
  const unsigned host_bits = static_cast<unsigned>(address_size(family_)) * 8 - prefix_;
  return host_bits >= 64 ? UINT64_MAX : std::uint64_t{1} << host_bits;
}

Endpoint Network::operator[](std::uint64_t index) const noexcept {
  return endpoint_of(family_, add(bytes_, address_size(family_), index));
}

std::string Network::to_string() const {
  return endpoint_of(family_, bytes_).host() + "/" + std::to_string(prefix_);
}

AddressRange::AddressRange(const Network& network) noexcept
    : family_(network.family_),
      first_(network.bytes_),
      last_(network.bytes_),
      size_(network.num_addresses()) {
  // The host bits all ones.
  const std::size_t size = address_size(family_);
  for (std::size_t i = 0; i < size; ++i) {
    const unsigned bits_before = static_cast<unsigned>(i) * 8;
    if (network.prefix_ >= bits_before + 8) continue;
    const unsigned keep = network.prefix_ > bits_before ? network.prefix_ - bits_before : 0;
    last_[i] = static_cast<std::uint8_t>(last_[i] | (0xFF >> keep));
  }
}

Result<AddressRange> AddressRange::parse(std::string_view text) noexcept {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto network = Network::parse(text);
    if (!network) return network.error();
    return AddressRange(*network);
  }
  auto first = Endpoint::from_ip(text.substr(0, dash), 0);
  if (!first) return first.error();
  AddressRange range;
  range.family_ = first->family();
  const std::size_t size = address_bytes(*first, range.first_.data());
  std::array<std::uint8_t, 16>& last = range.last_;
  const auto end = text.substr(dash + 1);
  if (auto last_byte = parse_port(end); last_byte && range.family_ == Family::inet) {
    if (*last_byte > 255) return make_error_code(AddressErrc::bad_range);
    last = range.first_;
    last[3] = static_cast<std::uint8_t>(*last_byte);
  } else {
    auto last_address = Endpoint::from_ip(end, 0);
    if (!last_address) return last_address.error();
    if (last_address->family() != range.family_) return make_error_code(AddressErrc::bad_range);
    address_bytes(*last_address, last.data());
  }
  range.size_ = span(range.first_, last, size);
  if (range.size_ == 0) return make_error_code(AddressErrc::bad_range);
  return range;
}

Endpoint AddressRange::operator[](std::uint64_t index) const noexcept {
  return endpoint_of(family_, add(first_, address_size(family_), index));
}

bool AddressRange::contains(const Endpoint& endpoint) const noexcept {
  const Endpoint plain = endpoint.unmapped();
  if (plain.family() != family_) return false;
  std::array<std::uint8_t, 16> bytes{};
  const std::size_t size = address_bytes(plain, bytes.data());
  return std::memcmp(bytes.data(), first_.data(), size) >= 0 &&
         std::memcmp(bytes.data(), last_.data(), size) <= 0;
}

}  // namespace sockit
