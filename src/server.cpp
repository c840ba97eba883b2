#include "sockit/server.hpp"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <iomanip>
#include <optional>
#include <sstream>

#include "sockit/io.hpp"
#include "sockit/options.hpp"

namespace sockit {
namespace {

constexpr std::size_t kScratchSize = 64 * 1024;
// How long a closing connection keeps reading what its peer still sends: closing with
// unread input would send a reset, which can destroy the reply the peer has not read yet.
constexpr std::chrono::seconds kLinger{2};
// Datagrams a receive loop answers before it lets the rest of its loop run: a socket that
// never runs dry (a flood, or a loop between two servers) must not starve TCP and signals.
constexpr std::size_t kDatagramBatch = 64;

// Source ports of the small services that answer any datagram (echo, daytime, qotd, chargen,
// time): answering them could start a loop between two servers (inetd's check, CVE-1999-0103).
// Port 0 cannot be a real source.
bool is_server_port(std::uint16_t port) noexcept {
  return port == 0 || port == 7 || port == 13 || port == 17 || port == 19 || port == 37;
}

bool is_wildcard(const Endpoint& endpoint) {
  const auto host = endpoint.host();
  return host == "0.0.0.0" || host == "::";
}

// Binds a socket without SO_REUSEPORT where the service's sockets will bind: it fails with
// EADDRINUSE when anyone else holds the port (see Server).
void probe_port(const Endpoint& endpoint, Type type, std::string_view service) {
  Socket probe(endpoint.family(), type);
  if (type == Type::stream) probe.set(opt::reuse_address{true});
  if (endpoint.family() == Family::inet6) probe.set(opt::v6_only{true});
  if (const auto bound = probe.try_bind(endpoint); !bound) {
    throw_error(bound.error(), std::string(service) + (type == Type::stream ? " tcp " : " udp ") +
                                   endpoint.to_string());
  }
}

}  // namespace

ServiceStats& ServiceStats::operator+=(const ServiceStats& other) noexcept {
  connections += other.connections;
  rejected += other.rejected;
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  datagrams += other.datagrams;
  tls_failures += other.tls_failures;
  return *this;
}

bool AccessList::permits(const Endpoint& peer) const noexcept {
  for (const auto& block : deny) {
    if (block.contains(peer)) return false;
  }
  if (allow.empty()) return true;
  for (const auto& block : allow) {
    if (block.contains(peer)) return true;
  }
  return false;
}

void RequestWait::await_suspend(std::coroutine_handle<> h) {
  connection_.waiting_ = &wait_;
  wait_.await_suspend(h);
}

Result<void> RequestWait::await_resume() noexcept {
  connection_.waiting_ = nullptr;
  ++connection_.requests_;
  return wait_.await_resume();
}

Connection::Connection(Service& service, Stream& stream, const Endpoint& peer)
    : service_(service), stream_(stream), peer_(peer), opened_(SteadyClock::now()) {
  service_.link(*this);
  arm_idle_timer(opened_);
}

Connection::~Connection() {
  service_.loop().disarm(idle_timer_);
  service_.unlink(*this);
  service_.limits_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  service_.stats_.bytes_in += bytes_in_;
  service_.stats_.bytes_out += bytes_out_;
  if (service_.limits_.verbose) {
    const std::chrono::duration<double> lasted = SteadyClock::now() - opened_;
    std::ostringstream line;
    line << std::fixed << std::setprecision(3) << service_.name_ << (tls_ ? " tls " : " tcp ")
         << peer_.to_string() << " closed after " << lasted.count() << " s, " << bytes_in_
         << " bytes in, " << bytes_out_ << " bytes out";
    service_.log(line.str());
  }
}

void Connection::arm_idle_timer(SteadyClock::time_point from) noexcept {
  const auto limit = service_.limits_.idle_timeout;
  if (limit.count() <= 0) return;
  service_.loop().arm(idle_timer_, deadline_after(from, limit));
}

// Nagle's algorithm holds a write back while an earlier one waits for an ACK that the peer may
// delay by 40 ms: from a connection's second write on (a pipelined or keep-alive reply, a chat
// line), writes go out as they are made. A connection that writes once and closes is spared
// the syscall, as nginx sets TCP_NODELAY only on keep-alive connections.
void Connection::send_as_written() noexcept {
  no_delay_ = true;
  if (stream_.socket().family() != Family::local) {
    (void)stream_.socket().try_set(opt::no_delay{true});
  }
}

Result<std::size_t> Connection::try_send(std::string_view data, int flags) noexcept {
  auto sent = tls_ != nullptr ? tls_->try_write(data) : stream_.socket().try_send(data, flags);
  if (sent) count_out(*sent);
  return sent;
}

Result<std::size_t> Connection::try_sendmsg(std::span<const iovec> parts) noexcept {
  if (tls_ == nullptr) {
    auto sent = stream_.socket().try_sendmsg(parts);
    if (sent) count_out(*sent);
    return sent;
  }
  // One record of the parts rather than a record per part (a WebSocket header alone would
  // be one): gathered the same way on a retry, so a write OpenSSL began sees its bytes again.
  std::array<char, 16 * 1024> record;
  std::size_t size = 0;
  for (const iovec& part : parts) {
    const std::size_t take = std::min(part.iov_len, record.size() - size);
    std::memcpy(record.data() + size, part.iov_base, take);
    size += take;
    if (size == record.size()) break;
  }
  return try_send({record.data(), size});
}

Task<Result<std::uint64_t>> Connection::write_all(std::string_view data) {
  if (tls_ != nullptr) co_return co_await send(tls_->write_all(data));
  auto written = co_await send(stream_.write_all(data));
  if (!written) co_return written.error();
  co_return std::uint64_t{*written};
}

Task<Result<std::uint64_t>> Connection::send_file(const Fd& file, std::uint64_t offset,
                                                  std::uint64_t count) {
  if (tls_ != nullptr) co_return co_await send(tls_->write_file(file, offset, count));
  co_return co_await send(stream_.sendfile(file, offset, count));
}

void Connection::on_idle_timer() noexcept {
  if (waiting_ && requests_ == requests_at_arming_) {
    waiting_->cancel(std::make_error_code(std::errc::timed_out));
    return;
  }
  // A request came (or a reply is still going out) since the timer was armed: another full
  // period. Counting requests rather than reading the clock keeps time out of the per-request
  // path; the price is that an idle connection lives between one and two idle timeouts.
  requests_at_arming_ = requests_;
  arm_idle_timer(SteadyClock::now());
}

Service::Service(EventLoop& loop, std::string_view name, ServerLimits& limits)
    : loop_(loop), name_(name), limits_(limits), scratch_(kScratchSize), tasks_(loop) {}

Service::~Service() {
  drained_ = nullptr;
  force_close();
}

void Service::add_listener(Listener listener, const TlsContext* tls) {
  listeners_.push_back(std::move(listener));
  listener_tls_.push_back(tls);
}

void Service::add_datagram(DatagramSocket socket) {
  datagram_addresses_.push_back(socket.socket().getsockname());
  datagrams_.push_back(std::move(socket));
}

void Service::start() {
  for (std::size_t i = 0; i < listeners_.size(); ++i)
    tasks_.spawn(accept_loop(listeners_[i], listener_tls_[i]));
  for (auto& socket : datagrams_)
    tasks_.spawn(receive_loop(socket));
}

void Service::stop_listening() noexcept {
  draining_ = true;
  for (auto& listener : listeners_)
    listener.close();
  for (auto& socket : datagrams_)
    socket.close();
}

void Service::drain() {
  stop_listening();
  handshakes_.cancel();
  for (Connection* c = connections_; c; c = c->next_) {
    // Ending the wait, not closing: the handler returns and the close stays graceful, so a
    // request that arrived unread cannot turn it into a reset.
    if (c->waiting_) c->waiting_->cancel(std::make_error_code(std::errc::operation_canceled));
  }
  spawn(loop_, report_drained());
}

Task<> Service::report_drained() {
  co_await tasks_.join();
  if (drained_) std::exchange(drained_, nullptr)();
}

void Service::force_close() {
  stop_listening();
  for (Connection* c = connections_; c; c = c->next_)
    c->stream_.close();
}

void Service::link(Connection& connection) noexcept {
  connection.next_ = connections_;
  if (connections_) connections_->previous_ = &connection;
  connections_ = &connection;
  ++live_;
}

void Service::unlink(Connection& connection) noexcept {
  if (connection.previous_) {
    connection.previous_->next_ = connection.next_;
  } else {
    connections_ = connection.next_;
  }
  if (connection.next_) connection.next_->previous_ = connection.previous_;
  --live_;
}

void Service::log(std::string_view line) const {
  write_log_line("sockit serve: " + std::string(line));
}

void Service::write_log_line(std::string_view line) {
  std::string text(line);
  text.push_back('\n');
  static_cast<void>(write_all(2, text));  // a log line that cannot be written is lost
}

std::string_view Service::reply(std::string_view /*request*/, std::span<char> /*out*/) {
  return {};
}

bool Service::admit(const Endpoint& peer, std::string_view transport) {
  if (!limits_.access.permits(peer)) {
    ++stats_.rejected;
    if (limits_.verbose)
      log(name_ + " " + std::string(transport) + " " + peer.to_string() +
          " denied by access rules");
    return false;
  }
  return true;
}

bool Service::take_slot(const AsyncAccepted& accepted) {
  const std::size_t open = limits_.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (limits_.max_connections == 0 || open < limits_.max_connections) return true;
  limits_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  ++stats_.rejected;
  if (limits_.verbose)
    log(name_ + " tcp " + accepted.peer.to_string() + " refused: --max-conns reached");
  return false;
}

Task<> Service::refuse(Stream stream) {
  // One try, never a wait for a peer that does not read; the graceful close then keeps the
  // peer's request from turning the close into a reset that would destroy the refusal.
  if (!stream.socket().try_send(refusal())) co_return;
  co_await close_gracefully(stream);
}

Task<> Service::accept_loop(Listener& listener, const TlsContext* tls) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (!listener.is_open() || accepted.error() == std::errc::operation_canceled) co_return;
      // EMFILE and the like: back off briefly rather than spin, then keep serving.
      if (limits_.verbose) log(name_ + " accept: " + accepted.error().message());
      static_cast<void>(co_await sleep(loop_, std::chrono::milliseconds(50)));
      continue;
    }
    if (!admit(accepted->peer, "tcp")) continue;
    if (!take_slot(*accepted)) {
      if (!refusal().empty()) tasks_.spawn(refuse(std::move(accepted->stream)));
      continue;
    }
    ++stats_.connections;
    if (tls == nullptr) {
      tasks_.spawn(run_connection(std::move(accepted->stream), std::move(accepted->peer)));
    } else {
      tasks_.spawn(
          run_tls_connection(std::move(accepted->stream), std::move(accepted->peer), *tls));
    }
  }
}

Task<> Service::run_connection(Stream stream, Endpoint peer) {
  Connection connection(*this, stream, peer);
  co_await serve(connection);
  if (connection.linger_) co_await close_gracefully(connection.stream());
}

// A coroutine of its own, so that a plain connection's frame holds no TLS session.
Task<> Service::run_tls_connection(Stream stream, Endpoint peer, const TlsContext& tls) {
  // Made before the connection, so that it outlives it: the connection's log line names it.
  AsyncTlsStream session(stream, tls);
  Connection connection(*this, stream, peer);
  if (co_await start_tls(connection, session)) {
    connection.tls_ = &session;
    // The handshake has written more than once (TLS 1.3 sends its tickets after it): Nagle
    // would hold the first reply until the client acknowledges them.
    connection.send_as_written();
    co_await serve(connection);
    // close_notify, so that the peer can tell the end from a truncation. One try, no wait: the
    // alert is small, and a peer that has left a full buffer unread gets none.
    if (stream.is_open()) static_cast<void>(session.engine().shutdown());
  }
  if (connection.linger_) co_await close_gracefully(connection.stream());
}

Task<bool> Service::start_tls(Connection& connection, AsyncTlsStream& session) {
  // The peer's text only for the -v log: a handshake flood should not format addresses.
  const auto note = [&](const std::string& what) {
    if (limits_.verbose) log(name_ + " tls " + connection.peer().to_string() + what);
  };
  if (limits_.max_handshakes != 0 && handshakes_in_progress_ >= limits_.max_handshakes) {
    ++stats_.rejected;
    note(" refused: too many handshakes at once");
    co_return false;
  }
  ++handshakes_in_progress_;
  const auto limit = limits_.handshake_timeout;
  const auto deadline = limit.count() > 0 ? deadline_after(limit) : SteadyClock::time_point::max();
  const auto fail = [&](const std::string& why) {
    --handshakes_in_progress_;
    ++stats_.tls_failures;
    note(": " + why);
    return false;
  };
  switch (co_await first_bytes(connection.stream(), deadline)) {
    case FirstBytes::tls:
      break;
    case FirstBytes::plaintext:
      if (!plaintext_refusal().empty()) static_cast<void>(connection.try_send(plaintext_refusal()));
      co_return fail("not a TLS handshake");
    case FirstBytes::none:
      co_return fail("no handshake");
  }
  const auto left = deadline - SteadyClock::now();
  auto shaken =
      left <= SteadyClock::duration::zero()
          ? Result<void>(std::make_error_code(std::errc::timed_out))
          : co_await with_cancel(handshakes_.token(), with_timeout(left, session.handshake()));
  if (!shaken) co_return fail("handshake failed: " + shaken.error().message());
  --handshakes_in_progress_;
  co_return true;
}

Task<Service::FirstBytes> Service::first_bytes(Stream& stream, SteadyClock::time_point deadline) {
  // A TLS connection starts with a handshake record (type 22); anything else is someone
  // speaking plaintext (HTTP, a line protocol) to the wrong port.
  constexpr char kHandshakeRecord = 0x16;
  char first = 0;
  for (;;) {
    auto peeked = stream.socket().try_recv_into(std::span<char>(&first, 1), MSG_PEEK);
    if (peeked) {
      if (*peeked == 0) co_return FirstBytes::none;
      co_return first == kHandshakeRecord ? FirstBytes::tls : FirstBytes::plaintext;
    }
    if (!would_block(peeked.error())) co_return FirstBytes::none;
    const auto left = deadline - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) co_return FirstBytes::none;
    // A drain ends the wait at once, as it ends an idle connection's.
    if (!co_await with_cancel(handshakes_.token(), with_timeout(left, stream.wait_readable()))) {
      co_return FirstBytes::none;
    }
  }
}

Task<> Service::close_gracefully(Stream& stream) {
  if (!stream.is_open() || !stream.shutdown(Shut::wr)) co_return;
  const auto deadline = SteadyClock::now() + kLinger;
  for (;;) {
    auto n = stream.socket().try_recv_into(scratch_);
    if (n && *n > 0) continue;
    if (n || !would_block(n.error())) co_return;
    const auto left = deadline - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) co_return;
    if (!co_await with_timeout(left, stream.wait_readable())) co_return;
  }
}

bool Service::from_a_server(const DatagramSocket& socket, const Endpoint& from) const noexcept {
  if (is_server_port(from.port())) return true;
  for (std::size_t i = 0; i < datagrams_.size(); ++i) {
    if (&datagrams_[i] != &socket) continue;
    const Endpoint& own = datagram_addresses_[i];
    // The port first: the comparisons of addresses are only for the rare datagram from it.
    return from.port() == own.port() && (from == own || is_wildcard(own));
  }
  return false;
}

Task<> Service::receive_loop(DatagramSocket& socket) {
  std::vector<char> request(64 * 1024);
  Endpoint from;
  for (std::size_t received_in_turn = 0;; ++received_in_turn) {
    if (received_in_turn == kDatagramBatch) {
      received_in_turn = 0;
      co_await yield_now(loop_);
    }
    auto received = co_await socket.recvfrom(request, from);
    if (!received) {
      if (!socket.is_open() || received.error() == std::errc::operation_canceled) co_return;
      continue;  // an ICMP error from an earlier reply's peer: not this service's problem
    }
    if (from_a_server(socket, from)) {
      if (limits_.verbose) log(name_ + " udp " + from.to_string() + " dropped: a server's port");
      continue;
    }
    if (!admit(from, "udp")) continue;
    ++stats_.datagrams;
    stats_.bytes_in += *received;
    const auto answer = reply({request.data(), *received}, scratch_);
    auto sent = co_await socket.sendto(answer, from);
    if (sent) stats_.bytes_out += *sent;
    if (limits_.verbose) {
      log(name_ + " udp " + from.to_string() + " " + std::to_string(*received) + " bytes in, " +
          std::to_string(answer.size()) + " bytes out");
    }
  }
}

Server::Server(LoopGroup& loops) : loops_(loops) {}

Server::~Server() = default;

std::size_t Server::add_service(const Factory& make) {
  auto& instances = instances_.emplace_back();
  for (std::size_t i = 0; i < loops_.size(); ++i)
    instances.push_back(make(loops_[i], i));
  return instances_.size() - 1;
}

Endpoint Server::listen(std::size_t service, Endpoint endpoint, bool datagrams) {
  endpoint = bind_listeners(service, endpoint, nullptr);
  if (datagrams) {
    const std::string_view name = instances_[service].front()->name();
    probe_port(endpoint, Type::dgram, name);
    const bool shared = loops_.size() > 1;
    for (std::size_t i = 0; i < loops_.size(); ++i)
      instances_[service][i]->add_datagram(bind_datagram(loops_[i], endpoint, shared));
  }
  return endpoint;
}

Endpoint Server::listen_tls(std::size_t service, Endpoint endpoint, const TlsContext& context) {
  return bind_listeners(service, endpoint, &context);
}

Endpoint Server::bind_listeners(std::size_t service, Endpoint endpoint, const TlsContext* tls) {
  // Port 0 needs no probe for TCP: the OS picks a port nobody holds.
  if (endpoint.port() != 0) probe_port(endpoint, Type::stream, instances_[service].front()->name());
  const bool shared = loops_.size() > 1;
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    auto listener = sockit::listen(loops_[i], endpoint, shared);
    if (endpoint.port() == 0) endpoint.set_port(listener.socket().getsockname().port());
    instances_[service][i]->add_listener(std::move(listener), tls);
  }
  return endpoint;
}

ServiceStats Server::stats(std::size_t service) const noexcept {
  ServiceStats total;
  for (const auto& instance : instances_[service])
    total += instance->stats();
  return total;
}

void Server::run(std::chrono::duration<double> drain_timeout, const std::function<void()>& ready) {
  drain_timeout_ = drain_timeout;
  loops_[0].on_signals({SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2},
                       [this](int number) { on_signal(number); });
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    loops_[i].post([this, i] {
      for (auto& instances : instances_)
        instances[i]->start();
    });
  }
  if (ready) ready();
  loops_.run();
}

void Server::stop() {
  // At once when called on loop 0 (from a handler): no connection is accepted after it.
  loops_[0].run_in_loop([this] { on_signal(SIGTERM); });
}

void Server::on_signal(int number) {
  // Nothing to reopen or report: they must not end the server as their default action would.
  if (number == SIGUSR1 || number == SIGUSR2) return;
  if (draining_.exchange(true)) {
    note("second signal: closing every connection now");
    force_close();
    return;
  }
  drain();
}

void Server::drain() {
  std::ostringstream text;
  text << "stopping: no new connections; open ones have " << drain_timeout_.count()
       << " s to finish";
  note(text.str());
  undrained_ = instances_.size() * loops_.size();
  if (undrained_ == 0) {
    loops_.stop();
    return;
  }
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    loops_[i].run_in_loop([this, i] {
      for (auto& instances : instances_) {
        instances[i]->on_drained([this] { instance_drained(); });
        instances[i]->drain();
      }
    });
  }
  loops_[0].call_later(drain_timeout_, [this] {
    note("drain deadline passed: closing what is still open");
    force_close();
  });
}

void Server::force_close() {
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    loops_[i].post([this, i] {
      for (auto& instances : instances_)
        instances[i]->force_close();
    });
  }
}

void Server::instance_drained() {
  if (undrained_.fetch_sub(1) == 1) loops_.stop();
}

void Server::note(const std::string& text) const {
  if (notify_) notify_(text);
}

}  // namespace sockit
