// The server framework: services over an EventLoop that they never own, and a Server that runs
// one instance of each service per loop of a LoopGroup, with a listener of its own per loop
// (SO_REUSEPORT), until a signal drains them.
//
//   class Echo final : public sockit::Service {
//    public:
//     Echo(sockit::EventLoop& loop, sockit::ServerLimits& limits)
//         : Service(loop, "echo", limits) {}
//
//    protected:
//     sockit::Task<> serve(sockit::Connection& connection) override {
//       for (;;) {
//         auto received = connection.read(scratch());
//         if (!received) {  // nothing yet: wait, unless draining, the idle timeout or a close
//           if (connection.draining() || !co_await connection.wait_for_request()) co_return;
//           continue;
//         }
//         if (*received == 0) co_return;  // the peer closed
//         auto sent = co_await connection.send(  // counted, bounded by the send timeout
//             connection.stream().write_all({scratch().data(), *received}));
//         if (!sent) co_return;
//       }
//     }
//   };
//
//   sockit::LoopGroup loops(0);  // one loop per core
//   sockit::ServerLimits limits;
//   sockit::Server server(loops);
//   const auto echo = server.add_service(
//       [&](sockit::EventLoop& loop, std::size_t) { return std::make_unique<Echo>(loop, limits);
//       });
//   server.listen(echo, sockit::Endpoint::from_ip("127.0.0.1", 7007).value());
//   server.run(std::chrono::seconds(5));  // until SIGINT, SIGTERM or SIGHUP, then drained
//
// What the framework does for every service: access lists and a connection cap across loops,
// TCP_NODELAY on connections that write more than once, the idle timer, the send timeout (a write
// that makes no progress for ServerLimits::send_timeout fails), the graceful close, the drain,
// counters, and for UDP a receive loop that drops datagrams that could only start a loop between
// servers and yields to the loop after a bounded batch.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/async.hpp"
#include "sockit/async_tls.hpp"
#include "sockit/deadline.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/loop_group.hpp"
#include "sockit/network.hpp"
#include "sockit/task.hpp"
#include "sockit/task_group.hpp"

namespace sockit {

struct ServiceStats {
  std::uint64_t connections = 0;
  std::uint64_t rejected = 0;  // refused by the access list or the connection cap
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t datagrams = 0;
  std::uint64_t tls_failures = 0;  // handshakes that failed, timed out or met plaintext

  ServiceStats& operator+=(const ServiceStats& other) noexcept;
};

// A peer is served when no deny block holds it and, if any allow block was given, an allow
// block holds it.
struct AccessList {
  std::vector<Network> allow;
  std::vector<Network> deny;

  bool permits(const Endpoint& peer) const noexcept;
};

// Settings that every service of one server shares, across all loops.
struct ServerLimits {
  std::size_t max_connections = 0;  // 0: no limit
  // Zero: no limit. An idle connection is closed after one to two of these (see IdleTimer).
  std::chrono::duration<double> idle_timeout{60};
  // Zero: no limit. A write that makes no progress for this long fails (nginx send_timeout).
  std::chrono::duration<double> send_timeout{60};
  AccessList access;
  // Zero: no limit. From a TLS connection's accept to the end of its handshake.
  std::chrono::duration<double> handshake_timeout{10};
  // Zero: no limit. TLS handshakes in progress per loop: the CPU they cost is what a flood of
  // them aims at, so past the cap new TLS connections are closed at once.
  std::size_t max_handshakes = 256;
  // One log line per connection (and per datagram) on stderr.
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
  Result<void> await_resume() noexcept;
  // For with_timeout.
  EventLoop& loop() const noexcept { return wait_.loop(); }
  void cancel(std::error_code reason) noexcept { wait_.cancel(reason); }
  // So that a cancel of the connection's task group reaches the idle wait too.
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { wait_.set_cancel_slot(slot); }

 private:
  Connection& connection_;
  WaitReadable wait_;
};

// A write (WriteAll, SendFile: anything with progress()) bounded by the send timeout: it fails
// with timed_out once it has made no progress for that long. The timer is armed only when the
// write parks, and re-armed when it fires after progress, so a write that never waits costs
// no timer work. A wait without progress() (WaitWritable, for a writer that sends between
// waits itself) fails once it has waited that long.
// What it got out is counted in the connection's bytes out when it ends.
template <class Operation>
class SendWait final : public TimerNode, public detail::Wrapped<Operation> {
 public:
  SendWait(std::chrono::duration<double> limit, Connection& connection, Operation&& operation)
      : detail::Wrapped<Operation>(std::move(operation)), limit_(limit), connection_(&connection) {}
  SendWait(SendWait&& other) noexcept
      : TimerNode(),
        detail::Wrapped<Operation>(std::move(other.operation_)),
        limit_(other.limit_),
        connection_(other.connection_) {}
  ~SendWait() override { this->loop().disarm(*this); }

  bool await_ready() noexcept { return this->operation_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) {
    this->operation_.await_suspend(h);
    arm();
  }
  auto await_resume() noexcept;
  // What the write got out before it ended, also when it failed.
  std::uint64_t progress() const noexcept {
    if constexpr (requires { this->operation_.progress(); }) {
      return this->operation_.progress();
    } else {
      return 0;
    }
  }

 private:
  void arm() {
    if (limit_.count() <= 0) return;
    seen_ = progress();
    this->loop().arm(*this, deadline_after(limit_));
  }
  void fire() noexcept override {
    if (progress() != seen_) {
      arm();
      return;
    }
    this->cancel(std::make_error_code(std::errc::timed_out));
  }

  std::chrono::duration<double> limit_;
  Connection* connection_;
  std::uint64_t seen_ = 0;
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
  // Reads what has arrived into buffer (through the TLS session, if any) and counts it
  // (Stream::try_read): the bytes; 0 at the end of the stream, or when the connection failed;
  // nullopt when nothing has, so wait (wait_for_request()) and read again.
  std::optional<std::size_t> read(std::span<char> buffer) noexcept;
  // Bounds a write of this connection's stream by the send timeout (see SendWait), and counts
  // what it sent, also when it failed.
  template <class Operation>
  SendWait<Operation> send(Operation operation);
  // Writes that go through the connection's TLS session when it has one, and are counted.
  // What the connection takes now, without waiting (flags: MSG_MORE and the like, for plain
  // connections): the bytes or would_block. After would_block on a TLS connection the next
  // write must start with the same bytes.
  Result<std::size_t> try_send(std::string_view data, int flags = 0) noexcept;
  Result<std::size_t> try_sendmsg(std::span<const iovec> parts) noexcept;
  // Every byte, waiting as needed, bounded by the send timeout.
  Task<Result<std::uint64_t>> write_all(std::string_view data);
  // count bytes of file from offset: sendfile on plain connections, read and encrypted in
  // large chunks on TLS ones.
  Task<Result<std::uint64_t>> send_file(const Fd& file, std::uint64_t offset, std::uint64_t count);
  // The session of a connection that came in on a TLS listener, or nullptr.
  AsyncTlsStream* tls() noexcept { return tls_; }
  std::uint64_t bytes_out() const noexcept { return bytes_out_; }
  // The peer has said it sends nothing more (HTTP's "Connection: close" after a request read
  // in full): the connection may close at once, without the graceful close's wait for the
  // peer's FIN, since no unread input can turn the close into a reset.
  void close_without_linger() noexcept { linger_ = false; }
  bool draining() const noexcept;

 private:
  friend class Service;
  friend class RequestWait;
  void on_idle_timer() noexcept;
  void arm_idle_timer(SteadyClock::time_point from) noexcept;
  void send_as_written() noexcept;
  template <class Operation>
  friend class SendWait;
  // Counts bytes written (by try_send, try_sendmsg and SendWait).
  void count_out(std::uint64_t bytes) noexcept {
    if (bytes_out_ != 0 && !no_delay_) send_as_written();
    bytes_out_ += bytes;
  }

  Service& service_;
  Stream& stream_;
  const Endpoint& peer_;
  SteadyClock::time_point opened_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
  std::uint64_t requests_ = 0;            // requests that ended an idle wait
  std::uint64_t requests_at_arming_ = 0;  // requests_ when the idle timer was last armed
  WaitReadable* waiting_ = nullptr;       // the parked wait for a request, if idle
  AsyncTlsStream* tls_ = nullptr;
  bool linger_ = true;
  bool no_delay_ = false;  // TCP_NODELAY is set
  IdleTimer idle_timer_{*this};
  Connection* previous_ = nullptr;
  Connection* next_ = nullptr;
};

// One instance of a service on one loop: it accepts on its listeners, runs serve() for each
// connection and answers datagrams with reply().
class Service {
 public:
  Service(EventLoop& loop, std::string_view name, ServerLimits& limits);
  virtual ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // tls: the context of a TLS listener, which must outlive the service; nullptr: plain.
  void add_listener(Listener listener, const TlsContext* tls = nullptr);
  void add_datagram(DatagramSocket socket);
  // Spawns the accept and receive loops; on the loop's thread.
  void start();
  // Stops accepting and closes idle connections; busy ones finish their reply and close.
  void drain();
  // Closes everything still open (the drain deadline passed).
  void force_close();
  // Called once, on the loop's thread, when a drain has ended every task of this service.
  void on_drained(std::function<void()> callback) { drained_ = std::move(callback); }
  std::size_t live_connections() const noexcept { return live_; }
  const ServiceStats& stats() const noexcept { return stats_; }
  std::string_view name() const noexcept { return name_; }
  EventLoop& loop() const noexcept { return loop_; }
  const ServerLimits& limits() const noexcept { return limits_; }
  bool draining() const noexcept { return draining_; }
  // Writes line, as it is, on stderr (the -v log), in one write so lines of several loops
  // never mix.
  static void write_log_line(std::string_view line);

 protected:
  // Serves one connection; the connection closes when this returns.
  virtual Task<> serve(Connection& connection) = 0;
  // The reply to one datagram: a view of request itself or of what was written into out.
  // An empty reply is sent as an empty datagram. A service never given a datagram socket
  // (TCP only, as HTTP) keeps this default, which is never called.
  virtual std::string_view reply(std::string_view request, std::span<char> out);
  // What a connection refused for the connection cap is told before it is closed (HTTP: a
  // 503); by default nothing.
  virtual std::string_view refusal() const noexcept { return {}; }
  // What a client that speaks plaintext to a TLS listener is told, in plaintext, before the
  // connection closes (HTTP: a 400 that says to use https); by default nothing.
  virtual std::string_view plaintext_refusal() const noexcept { return {}; }
  // A buffer shared by every connection of this service on this loop: handlers use it only
  // between two awaits, never across one.
  std::span<char> scratch() noexcept { return scratch_; }
  // Writes "sockit serve: " and line on the -v log.
  void log(std::string_view line) const;

 private:
  friend class Connection;
  // Closes the listeners and datagram sockets: the first step of drain() and force_close().
  void stop_listening() noexcept;
  // Calls the on_drained callback once a drain has ended every task.
  Task<> report_drained();
  Task<> accept_loop(Listener& listener, const TlsContext* tls);
  Task<> receive_loop(DatagramSocket& socket);
  Task<> run_connection(Stream stream, Endpoint peer);
  Task<> run_tls_connection(Stream stream, Endpoint peer, const TlsContext& tls);
  // The handshake of a TLS connection, within the handshake timeout and cap; false when the
  // connection is to close (refused, failed, plaintext).
  Task<bool> start_tls(Connection& connection, AsyncTlsStream& session);
  // What a TLS connection's first byte says (waited for within deadline, or a drain).
  enum class FirstBytes { tls, plaintext, none };
  Task<FirstBytes> first_bytes(Stream& stream, SteadyClock::time_point deadline);
  // FIN after the reply, then discard input until the peer closes (bounded by a linger time).
  Task<> close_gracefully(Stream& stream);
  bool admit(const Endpoint& peer, std::string_view transport);
  // Takes a connection slot under the cap; false when it is full.
  bool take_slot(const AsyncAccepted& accepted);
  // Tells a connection refused for the cap refusal(), and closes it.
  Task<> refuse(Stream stream);
  // A datagram that could only be a server's answer: answering it could start a loop.
  bool from_a_server(const DatagramSocket& socket, const Endpoint& from) const noexcept;
  void link(Connection& connection) noexcept;
  void unlink(Connection& connection) noexcept;

  EventLoop& loop_;
  std::string name_;
  ServerLimits& limits_;
  std::vector<Listener> listeners_;
  std::vector<const TlsContext*> listener_tls_;  // of each listener: its TLS context or nullptr
  std::size_t handshakes_in_progress_ = 0;
  CancelSource handshakes_;  // cancelled by a drain: it ends every handshake in progress
  std::vector<DatagramSocket> datagrams_;
  std::vector<Endpoint> datagram_addresses_;  // where each datagram socket is bound
  std::vector<char> scratch_;
  Connection* connections_ = nullptr;
  std::size_t live_ = 0;
  // The accept and receive loops, connections and refusals: a drain ends when it is empty.
  TaskGroup tasks_;
  std::function<void()> drained_;
  ServiceStats stats_;
  bool draining_ = false;
};

// Runs services on every loop of a LoopGroup: one instance of each service per loop, each
// with its own listener on the service's address (SO_REUSEPORT among them), so loops share
// nothing on the hot path.
//
// Busy ports fail: SO_REUSEPORT would let a second server (of the same user) or a second
// service of this one bind the same port and split its connections silently. So before a
// service's listeners join a port, a probe socket without SO_REUSEPORT binds it (TCP with
// SO_REUSEADDR, as the listeners, so connections of an earlier run in TIME_WAIT do not count;
// UDP without, since UDP sockets with SO_REUSEADDR share a port): if anyone holds the port the
// probe fails with EADDRINUSE, and listen() throws an Error naming the service and the port.
// The probe closes before the listeners bind; a process that takes the port in between would
// go unnoticed, a race of microseconds at start-up.
//
// Signals: the first SIGINT, SIGTERM or SIGHUP drains (no new connections; idle ones close,
// busy ones finish their reply); a second one, or the drain deadline, closes everything.
// SIGUSR1 and SIGUSR2 are ignored. run() returns when every connection has ended.
class Server {
 public:
  using Factory = std::function<std::unique_ptr<Service>(EventLoop& loop, std::size_t index)>;

  explicit Server(LoopGroup& loops);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Makes one instance of a service per loop (index: the loop's place in the group); returns
  // the service's number.
  std::size_t add_service(const Factory& make);
  // Binds the service's TCP listener (and UDP socket with datagrams) on endpoint in every loop;
  // returns the endpoint with the port the OS chose for port 0. Throws sockit::Error.
  Endpoint listen(std::size_t service, Endpoint endpoint, bool datagrams = false);
  // The same for a TLS listener of the service: every connection it accepts is a TLS session
  // with context (which must outlive the server) before the service sees it.
  Endpoint listen_tls(std::size_t service, Endpoint endpoint, const TlsContext& context);
  Service& instance(std::size_t service, std::size_t loop) noexcept {
    return *instances_[service][loop];
  }
  std::size_t services() const noexcept { return instances_.size(); }
  // The counters of a service, summed over its instances; after run().
  ServiceStats stats(std::size_t service) const noexcept;
  // Where the server's notes go (drain started, deadline passed); by default nowhere.
  void on_note(std::function<void(const std::string&)> notify) { notify_ = std::move(notify); }

  // Starts every instance and runs the loops until a drain ends; drain_timeout bounds the
  // drain. Call from the thread that made the group, before any other thread is started.
  // ready runs once the signals are caught, before the loops run: where to say "ready".
  void run(std::chrono::duration<double> drain_timeout, const std::function<void()>& ready = {});
  // Thread-safe: what the first signal does (a second call does what a second signal does).
  // Called on loop 0's thread, the listeners are closed before it returns.
  void stop();

 private:
  Endpoint bind_listeners(std::size_t service, Endpoint endpoint, const TlsContext* tls);
  void on_signal(int number);
  void drain();
  void force_close();
  void instance_drained();
  void note(const std::string& text) const;

  LoopGroup& loops_;
  // instances_[service][loop]
  std::vector<std::vector<std::unique_ptr<Service>>> instances_;
  std::function<void(const std::string&)> notify_;
  std::chrono::duration<double> drain_timeout_{5};
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> undrained_{0};
};

// Inline: each is on every request's path.
inline RequestWait Connection::wait_for_request() noexcept {
  return {*this, stream_.wait_readable()};
}

inline bool Connection::draining() const noexcept {
  return service_.draining();
}

inline std::optional<std::size_t> Connection::read(std::span<char> buffer) noexcept {
  const auto received = tls_ != nullptr ? tls_->try_read(buffer) : stream_.try_read(buffer);
  if (!received) {
    if (would_block(received.error())) return std::nullopt;
    return 0;
  }
  bytes_in_ += *received;
  return *received;
}

template <class Operation>
SendWait<Operation> Connection::send(Operation operation) {
  return SendWait<Operation>(service_.limits().send_timeout, *this, std::move(operation));
}

template <class Operation>
auto SendWait<Operation>::await_resume() noexcept {
  this->loop().disarm(*this);
  connection_->count_out(progress());
  return this->operation_.await_resume();
}

}  // namespace sockit
