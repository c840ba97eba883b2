// Endpoint: a concrete socket address (IPv4, IPv6 with scope id, Unix path or abstract name).
// Address: what a user writes ("localhost", 8001) — a host that may still need resolving.
//
// Both parse and print the same text forms:
//   1.2.3.4:80   [::1]:80   [fe80::1%eth0]:80   unix:/run/x.sock   unix:@abstract
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

#include "sockit/error.hpp"

namespace sockit {

enum class Family : int {
  unspec = AF_UNSPEC,
  inet = AF_INET,
  inet6 = AF_INET6,
  local = AF_UNIX,  // AF_UNIX; not named `unix`, which GNU dialects define as a macro
};

enum class Type : int {
  any = 0,
  stream = SOCK_STREAM,
  dgram = SOCK_DGRAM,
  raw = SOCK_RAW,
  seqpacket = SOCK_SEQPACKET,
};

std::string_view to_string(Family family) noexcept;
std::string_view to_string(Type type) noexcept;

// A port number from text: decimal, 0 to 65535.
Result<std::uint16_t> parse_port(std::string_view text) noexcept;

class Endpoint {
 public:
  Endpoint() noexcept;

  // A numeric IPv4 or IPv6 address (IPv6 may carry "%scope", a name or an index).
  static Result<Endpoint> from_ip(std::string_view ip, std::uint16_t port) noexcept;
  // A Unix socket path; a leading '@' names a Linux abstract socket.
  static Result<Endpoint> from_path(std::string_view path) noexcept;
  // Copies a sockaddr the kernel filled in.
  static Endpoint from_sockaddr(const sockaddr* address, socklen_t length) noexcept;
  // Numeric forms only: "1.2.3.4:80", "[::1]:80", "unix:/path", "unix:@name".
  static Result<Endpoint> parse(std::string_view text) noexcept;

  static Endpoint loopback(Family family, std::uint16_t port) noexcept;
  static Endpoint any(Family family, std::uint16_t port) noexcept;

  Family family() const noexcept;
  std::uint16_t port() const noexcept;  // 0 for Unix endpoints
  void set_port(std::uint16_t port) noexcept;
  // The numeric address ("::1", "fe80::1%eth0") or the Unix path ("@name" when abstract).
  std::string host() const;
  // The printable form, which parse() reads back.
  std::string to_string() const;
  bool is_abstract() const noexcept;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) turned into the IPv4 endpoint it maps.
  Endpoint unmapped() const noexcept;

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
  // Sets the length after the kernel wrote into data().
  void resize(socklen_t length) noexcept;

  friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t size_;
};

std::ostream& operator<<(std::ostream& out, const Endpoint& endpoint);

// A target as a user writes it: a host name or numeric address and a port, or a Unix path.
// Not an aggregate on purpose: GCC 12 miscompiles aggregates passed by value to coroutines
// (the frame gets a bitwise copy), and Address is a natural coroutine parameter.
struct Address {
  Address() = default;
  Address(std::string host_name, std::uint16_t port_number, bool is_local = false)
      : host(std::move(host_name)), port(port_number), local(is_local) {}

  std::string host;
  std::uint16_t port = 0;
  bool local = false;  // host is a Unix socket path ("@name" for abstract)

  // "host:port", "[v6]:port", "unix:/path", "unix:@name"; host may be a name.
  static Result<Address> parse(std::string_view text) noexcept;
  static Address from_endpoint(const Endpoint& endpoint);
  std::string to_string() const;
  friend bool operator==(const Address&, const Address&) = default;
};

std::ostream& operator<<(std::ostream& out, const Address& address);

}  // namespace sockit
