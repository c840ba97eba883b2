#include "servers/service.hpp"

#include <iomanip>
#include <sstream>

#include "sockit/io.hpp"

namespace sockit::servers {
namespace {

constexpr std::size_t kScratchSize = 64 * 1024;
// How long a closing connection keeps reading what its peer still sends: closing with
// unread input would send a reset, which can destroy the reply the peer has not read yet.
constexpr std::chrono::seconds kLinger{2};

}  // namespace

Stats& Stats::operator+=(const Stats& other) noexcept {
  connections += other.connections;
  rejected += other.rejected;
  bytes_in += other.bytes_in;
  bytes_out += other.bytes_out;
  datagrams += other.datagrams;
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

std::error_code RequestWait::await_resume() noexcept {
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
    line << std::fixed << std::setprecision(3) << service_.name_ << " tcp " << peer_.to_string()
         << " closed after " << lasted.count() << " s, " << bytes_in_ << " bytes in, " << bytes_out_
         << " bytes out";
    service_.log(line.str());
  }
}

void Connection::arm_idle_timer(SteadyClock::time_point from) noexcept {
  const auto limit = service_.limits_.idle_timeout;
  if (limit.count() <= 0) return;
  service_.loop().arm(idle_timer_, from + std::chrono::duration_cast<SteadyClock::duration>(limit));
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

Service::Service(EventLoop& loop, std::string_view name, Limits& limits)
    : loop_(loop), name_(name), limits_(limits), scratch_(kScratchSize) {}

Service::~Service() {
  force_close();
}

void Service::add_listener(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void Service::add_datagram(DatagramSocket socket) {
  datagrams_.push_back(std::move(socket));
}

void Service::start() {
  for (auto& listener : listeners_)
    spawn(loop_, accept_loop(listener));
  for (auto& socket : datagrams_)
    spawn(loop_, receive_loop(socket));
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
  for (Connection* c = connections_; c; c = c->next_) {
    // Ending the wait, not closing: the handler returns and the close stays graceful, so a
    // request that arrived unread cannot turn it into a reset.
    if (c->waiting_) c->waiting_->cancel(std::make_error_code(std::errc::operation_canceled));
  }
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
  write_all(2, text);
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

Task<> Service::accept_loop(Listener& listener) {
  for (;;) {
    auto accepted = co_await listener.accept();
    if (!accepted) {
      if (!listener.is_open() || accepted.error() == std::errc::operation_canceled) co_return;
      // EMFILE and the like: back off briefly rather than spin, then keep serving.
      if (limits_.verbose) log(name_ + " accept: " + accepted.error().message());
      co_await sleep(loop_, std::chrono::milliseconds(50));
      continue;
    }
    if (!admit(accepted->peer, "tcp")) continue;
    const std::size_t open = limits_.open_connections.fetch_add(1, std::memory_order_relaxed);
    if (limits_.max_connections != 0 && open >= limits_.max_connections) {
      limits_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      ++stats_.rejected;
      if (limits_.verbose)
        log(name_ + " tcp " + accepted->peer.to_string() + " refused: --max-conns reached");
      continue;
    }
    ++stats_.connections;
    spawn(loop_, run_connection(std::move(accepted->stream), std::move(accepted->peer)));
  }
}

Task<> Service::run_connection(Stream stream, Endpoint peer) {
  Connection connection(*this, stream, peer);
  co_await serve(connection);
  if (connection.linger_) co_await close_gracefully(connection.stream());
}

Task<> Service::close_gracefully(Stream& stream) {
  if (!stream.is_open() || stream.shutdown(Shut::wr)) co_return;
  const auto deadline = SteadyClock::now() + kLinger;
  for (;;) {
    auto n = stream.socket().try_recv_into(scratch_);
    if (n && *n > 0) continue;
    if (n || !would_block(n.error())) co_return;
    const auto left = deadline - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) co_return;
    if (co_await with_timeout(left, stream.wait_readable())) co_return;
  }
}

Task<> Service::receive_loop(DatagramSocket& socket) {
  std::vector<char> request(64 * 1024);
  Endpoint from;
  for (;;) {
    auto received = co_await socket.recvfrom(request, from);
    if (!received) {
      if (!socket.is_open() || received.error() == std::errc::operation_canceled) co_return;
      continue;  // an ICMP error from an earlier reply's peer: not this service's problem
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

}  // namespace sockit::servers
