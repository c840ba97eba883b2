// Typed socket options: s.set(opt::reuse_address{true}), s.get<opt::send_buffer>().
// Each option knows its level, its name and how its value travels through setsockopt.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>

namespace sockit::opt {

// An on/off option carried as an int.
template <int Level, int Name>
struct Flag {
  static constexpr int level = Level;
  static constexpr int name = Name;
  using storage = int;
  bool value = false;

  storage encode() const noexcept { return value ? 1 : 0; }
  static Flag decode(storage raw) noexcept { return Flag{raw != 0}; }
};

// A count or size carried as an int.
template <int Level, int Name>
struct Integer {
  static constexpr int level = Level;
  static constexpr int name = Name;
  using storage = int;
  int value = 0;

  storage encode() const noexcept { return value; }
  static Integer decode(storage raw) noexcept { return Integer{raw}; }
};

// A duration in whole seconds carried as an int.
template <int Level, int Name>
struct Seconds {
  static constexpr int level = Level;
  static constexpr int name = Name;
  using storage = int;
  std::chrono::seconds value{0};

  storage encode() const noexcept { return static_cast<int>(value.count()); }
  static Seconds decode(storage raw) noexcept { return Seconds{std::chrono::seconds(raw)}; }
};

using reuse_address = Flag<SOL_SOCKET, SO_REUSEADDR>;
using reuse_port = Flag<SOL_SOCKET, SO_REUSEPORT>;
using keep_alive = Flag<SOL_SOCKET, SO_KEEPALIVE>;
using broadcast = Flag<SOL_SOCKET, SO_BROADCAST>;
using send_buffer = Integer<SOL_SOCKET, SO_SNDBUF>;
using receive_buffer = Integer<SOL_SOCKET, SO_RCVBUF>;
using error = Integer<SOL_SOCKET, SO_ERROR>;  // read-only: the pending error, cleared by reading
using no_delay = Flag<IPPROTO_TCP, TCP_NODELAY>;
using keep_idle = Seconds<IPPROTO_TCP, TCP_KEEPIDLE>;
using keep_interval = Seconds<IPPROTO_TCP, TCP_KEEPINTVL>;
using keep_count = Integer<IPPROTO_TCP, TCP_KEEPCNT>;
// On a listener: accept only once data has arrived. On a socket about to connect (Linux): the
// handshake's last ACK waits for the first data segment and rides on it, which suits a
// client that speaks first and would stall one that waits for the server to speak.
using defer_accept = Seconds<IPPROTO_TCP, TCP_DEFER_ACCEPT>;
using v6_only = Flag<IPPROTO_IPV6, IPV6_V6ONLY>;
// Queue ICMP errors for Socket::try_recv_error (IP_RECVERR, IPV6_RECVERR).
using ip_receive_errors = Flag<IPPROTO_IP, IP_RECVERR>;
using ipv6_receive_errors = Flag<IPPROTO_IPV6, IPV6_RECVERR>;

// SO_LINGER: nullopt is off (close returns at once, the kernel finishes sending); a duration
// makes close wait that long; zero resets the connection instead of a normal close.
struct linger {
  static constexpr int level = SOL_SOCKET;
  static constexpr int name = SO_LINGER;
  using storage = ::linger;
  std::optional<std::chrono::seconds> value;

  storage encode() const noexcept {
    return storage{value ? 1 : 0, value ? static_cast<int>(value->count()) : 0};
  }
  static linger decode(storage raw) noexcept {
    if (raw.l_onoff == 0) return linger{};
    return linger{std::chrono::seconds(raw.l_linger)};
  }
};

}  // namespace sockit::opt
