// What every service of `sockit serve` shares: accepting with access control and a
// connection limit, the registry of live connections that draining walks, the UDP receive
// loop, counters and the -v log. A service is one instance per loop; it never owns the loop.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/async.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/network.hpp"
#include "sockit/task.hpp"

namespace sockit::servers {

struct Stats {
  std::uint64_t connections = 0;
  std::uint64_t rejected = 0;  // refused by --allow/--deny or --max-conns
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t datagrams = 0;

  Stats& operator+=(const Stats& other) noexcept;
};

// --allow/--deny: a peer is served when no deny block holds it and, if any allow block was
// given, an allow block holds it.
struct AccessList {
  std::vector<Network> allow;
  std::vector<Network> deny;

  bool permits(const Endpoint& peer) const noexcept;
};

// Settings every service of one `sockit serve` run shares, across all loops.
struct Limits {
  std::size_t max_connections = 0;  // 0: no limit
  // Zero: no limit. An idle connection is closed after one to two of these (see IdleTimer).
  std::chrono::duration<double> idle_timeout{60};
  AccessList access;
  bool verbose = false;
  // Open TCP connections of every service on every loop, for max_connections.
  std::atomic<std::size_t> open_connections{0};
};

class Service;
class Connection;

// Connection::wait_for_request(): the idle wait, registered with its connection so that a
// drain or the idle timer can end it.
class RequestWait {
 public:
  RequestWait(Connection& connection, WaitReadable wait) noexcept
      : connection_(connection), wait_(std::move(wait)) {}
  bool await_ready() noexcept { return wait_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h);
  std::error_code await_resume() noexcept;
  // For with_timeout.
  EventLoop& loop() const noexcept { return wait_.loop(); }
  void cancel(std::error_code reason) noexcept { wait_.cancel(reason); }

 private:
  Connection& connection_;
  WaitReadable wait_;
};

// One accepted connection as a handler sees it; it is in its service's registry for as long
// as it lives. It refers to the stream and peer that its task's frame holds rather than
// keeping copies: an idle connection's memory is mostly its frames.
class Connection {
 public:
  Connection(Service& service, Stream& stream, const Endpoint& peer);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Ends the wait for a request once the connection has been idle for the idle timeout.
  // Armed once per idle period, not per request: a busy connection costs no timer work.
  class IdleTimer final : public TimerNode {
   public:
    explicit IdleTimer(Connection& connection) noexcept : connection_(connection) {}

   private:
    void fire() noexcept override { connection_.on_idle_timer(); }
    Connection& connection_;
  };

  Stream& stream() noexcept { return stream_; }
  const Endpoint& peer() const noexcept { return peer_; }
  // Waits for the peer's next bytes after a read said it would block. Idle connections are
  // the ones a drain closes at once: the wait then fails with operation_canceled, and with
  // timed_out after the idle timeout.
  RequestWait wait_for_request() noexcept;
  // Reads what has arrived into buffer and counts it: the bytes; 0 at the end of the stream,
  // or when the connection failed; nullopt when nothing has, so wait (wait_for_request()) and
  // read again. A read shorter than buffer emptied the socket: until epoll reports input
  // again, the read that could only say EAGAIN is skipped, unless the peer's FIN has been
  // seen (its report may have come before the short read).
  std::optional<std::size_t> read(std::span<char> buffer) noexcept;
  // The peer has said it sends nothing more (HTTP's "Connection: close" after a request read
  // in full): the connection may close at once, without the graceful close's wait for the
  // peer's FIN, since no unread input can turn the close into a reset.
  void close_without_linger() noexcept { linger_ = false; }
  void count_out(std::size_t bytes) noexcept { bytes_out_ += bytes; }
  bool draining() const noexcept;

 private:
  friend class Service;
  friend class RequestWait;
  void on_idle_timer() noexcept;
  void arm_idle_timer(SteadyClock::time_point from) noexcept;

  Service& service_;
  Stream& stream_;
  const Endpoint& peer_;
  SteadyClock::time_point opened_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t requests_ = 0;            // requests that ended an idle wait
  std::uint64_t requests_at_arming_ = 0;  // requests_ when the idle timer was last armed
  WaitReadable* waiting_ = nullptr;       // the parked wait for a request, if idle
  std::uint32_t emptied_at_ = 0;          // the stream's read_events at the last read
  bool emptied_ = false;                  // that read emptied the socket
  bool linger_ = true;
  IdleTimer idle_timer_{*this};
  Connection* previous_ = nullptr;
  Connection* next_ = nullptr;
};

class Service {
 public:
  Service(EventLoop& loop, std::string_view name, Limits& limits);
  virtual ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  void add_listener(Listener listener);
  void add_datagram(DatagramSocket socket);
  // Spawns the accept and receive loops; on the loop's thread.
  void start();
  // Stops accepting and closes idle connections; busy ones finish their reply and close.
  void drain();
  // Closes everything still open (the drain deadline passed).
  void force_close();
  std::size_t live_connections() const noexcept { return live_; }
  const Stats& stats() const noexcept { return stats_; }
  std::string_view name() const noexcept { return name_; }
  EventLoop& loop() const noexcept { return loop_; }
  const Limits& limits() const noexcept { return limits_; }
  bool draining() const noexcept { return draining_; }

 protected:
  // Serves one connection; the connection closes when this returns.
  virtual Task<> serve(Connection& connection) = 0;
  // The reply to one datagram: a view of request itself or of what was written into out.
  // An empty reply is sent as an empty datagram. A service never given a datagram socket
  // (TCP only, as HTTP) keeps this default, which is never called.
  virtual std::string_view reply(std::string_view request, std::span<char> out);
  // A buffer shared by every connection of this service on this loop: handlers use it only
  // between two awaits, never across one.
  std::span<char> scratch() noexcept { return scratch_; }
  // Writes line, as it is, on stderr (the -v log), in one write so lines of several loops
  // never mix.
  static void write_log_line(std::string_view line);

 private:
  friend class Connection;
  // Closes the listeners and datagram sockets: the first step of drain() and force_close().
  void stop_listening() noexcept;
  Task<> accept_loop(Listener& listener);
  Task<> receive_loop(DatagramSocket& socket);
  Task<> run_connection(Stream stream, Endpoint peer);
  // FIN after the reply, then discard input until the peer closes (bounded by a linger time).
  Task<> close_gracefully(Stream& stream);
  bool admit(const Endpoint& peer, std::string_view transport);
  void log(std::string_view line) const;
  void link(Connection& connection) noexcept;
  void unlink(Connection& connection) noexcept;

  EventLoop& loop_;
  std::string name_;
  Limits& limits_;
  std::vector<Listener> listeners_;
  std::vector<DatagramSocket> datagrams_;
  std::vector<char> scratch_;
  Connection* connections_ = nullptr;
  std::size_t live_ = 0;
  Stats stats_;
  bool draining_ = false;
};

// Inline: each is on every request's path.
inline RequestWait Connection::wait_for_request() noexcept {
  return {*this, stream_.wait_readable()};
}

inline bool Connection::draining() const noexcept {
  return service_.draining();
}

inline std::optional<std::size_t> Connection::read(std::span<char> buffer) noexcept {
  const IoHandle* io = stream_.io();
  if (io == nullptr) return 0;
  if (emptied_ && emptied_at_ == io->read_events && !io->hangup) return std::nullopt;
  const auto received = stream_.socket().try_recv_into(buffer);
  emptied_at_ = io->read_events;
  if (!received) {
    if (!would_block(received.error())) return 0;
    emptied_ = true;
    return std::nullopt;
  }
  emptied_ = *received > 0 && *received < buffer.size();
  bytes_in_ += *received;
  return *received;
}

}  // namespace sockit::servers
