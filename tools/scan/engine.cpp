#include "scan/engine.hpp"

#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <csignal>
#include <numeric>
#include <optional>
#include <random>
#include <thread>

#include "sockit/async.hpp"
#include "sockit/io.hpp"
#include "sockit/loop_group.hpp"
#include "sockit/task_group.hpp"

namespace sockit::tools::scan {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

// Descriptors kept for everything but the window: stdio, the loops' own, output files.
constexpr std::size_t kReserve = 64;
// A probe answered within the connect call never suspends, so a slot yields to its loop
// every so many probes to let timers, signals and the other slots run.
constexpr unsigned kYieldEvery = 64;
constexpr std::size_t kStartBatch = 64;
constexpr std::size_t kMaxThreads = 4;
// Scans smaller than this many probes per loop are not worth another thread.
constexpr std::uint64_t kProbesPerThread = 4096;
// A local shortage (no free local port, no buffer) is waited out this long, this many times.
constexpr Seconds kShortageWait{0.01};
constexpr unsigned kShortageTries = 500;
constexpr std::size_t kBannerLimit = 200;
constexpr std::array<std::uint16_t, 5> kHttpPorts = {80, 8000, 8008, 8080, 8888};
// The kernel resends a SYN after this long (TCP_TIMEOUT_INIT): an answer that comes later
// may answer a resent SYN, so it gives no round-trip sample (Karn's rule).
constexpr Seconds kKernelSynTimeout{1.0};

// A host's round-trip estimate as RFC 6298 (and nmap) keep it.
struct HostTiming {
  double srtt = 0;
  double rttvar = 0;
  bool measured = false;
  // The host answered with ICMP errors: silence from it is then the kernel's ICMP rate
  // limit, not loss, and retrying it only waits for the limit.
  bool icmp_seen = false;

  void sample(double rtt) noexcept {
    if (!measured) {
      srtt = rtt;
      rttvar = rtt / 2;
      measured = true;
      return;
    }
    const double delta = rtt - srtt;
    srtt += delta / 8;
    rttvar += (std::abs(delta) - rttvar) / 4;
  }

  Seconds timeout(const Timing& timing) const noexcept {
    if (!measured) return timing.initial_timeout;
    return std::clamp(Seconds(srtt + 4 * rttvar), timing.min_timeout, timing.max_timeout);
  }
};

struct Outcome {
  State state = State::filtered;
  Reason reason = Reason::no_response;
  double latency = 0;  // seconds
  bool abandoned = false;
  std::string banner;
};

Reason icmp_reason(const QueuedError& error) noexcept {
  if (error.offender.family() == Family::inet6) {
    if (error.type != ICMP6_DST_UNREACH) return Reason::icmp_other;
    switch (error.code) {
      case ICMP6_DST_UNREACH_NOROUTE:
        return Reason::net_unreach;
      case ICMP6_DST_UNREACH_ADMIN:
        return Reason::admin_prohibited;
      case ICMP6_DST_UNREACH_ADDR:
        return Reason::host_unreach;
      case ICMP6_DST_UNREACH_NOPORT:
        return Reason::port_unreach;
      default:
        return Reason::icmp_other;
    }
  }
  if (error.type != ICMP_DEST_UNREACH) return Reason::icmp_other;
  switch (error.code) {
    case ICMP_NET_UNREACH:
    case ICMP_NET_UNKNOWN:
      return Reason::net_unreach;
    case ICMP_HOST_UNREACH:
    case ICMP_HOST_UNKNOWN:
      return Reason::host_unreach;
    case ICMP_PORT_UNREACH:
      return Reason::port_unreach;
    case ICMP_NET_ANO:
    case ICMP_HOST_ANO:
    case ICMP_PKT_FILTERED:
      return Reason::admin_prohibited;
    default:
      return Reason::icmp_other;
  }
}

// The state a failed connect stands for: the ICMP error that caused it, when one did (read
// from the error queue unless already read: the kernel reports port unreachable as
// ECONNREFUSED, like a reset), else the error itself.
std::pair<State, Reason> failure_state(Socket& socket, std::error_code code,
                                       const std::optional<QueuedError>& icmp) {
  if (icmp) return {State::filtered, icmp_reason(*icmp)};
  if (auto queued = socket.try_recv_error(); queued && queued->icmp) {
    return {State::filtered, icmp_reason(*queued)};
  }
  if (code == std::errc::connection_refused) return {State::closed, Reason::conn_refused};
  if (code == std::errc::network_unreachable) return {State::filtered, Reason::net_unreach};
  if (code == std::errc::timed_out) return {State::filtered, Reason::no_response};
  return {State::filtered, Reason::host_unreach};
}

// Failures of our own machine rather than answers from the target.
bool local_shortage(std::error_code code) noexcept {
  return code == std::errc::address_not_available || code == std::errc::no_buffer_space ||
         code == std::errc::resource_unavailable_try_again ||
         code == std::errc::too_many_files_open || code == std::errc::too_many_files_open_in_system;
}

// Bytes as one printable line: control characters escaped, cut at kBannerLimit.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (out.size() >= kBannerLimit) break;
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte >= 0x7F) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

void count(Counts& counts, State state) noexcept {
  switch (state) {
    case State::open:
      ++counts.open;
      break;
    case State::closed:
      ++counts.closed;
      break;
    case State::filtered:
      ++counts.filtered;
      break;
  }
}

std::string_view first_line(std::string_view text) {
  const auto end = text.find_first_of("\r\n");
  return end == std::string_view::npos ? text : text.substr(0, end);
}

// "HTTP/1.0 200 OK | Server: name" from the head of an HTTP response.
std::string http_summary(std::string_view head) {
  std::string summary = printable(first_line(head));
  std::size_t at = 0;
  while ((at = head.find('\n', at)) != std::string_view::npos) {
    const auto line = first_line(head.substr(++at));
    if (line.size() > 7 && std::equal(line.begin(), line.begin() + 7, "server:",
                                      [](char a, char b) { return std::tolower(a) == b; })) {
      auto value = line.substr(7);
      value.remove_prefix(std::min(value.find_first_not_of(' '), value.size()));
      summary += " | Server: " + printable(value);
      break;
    }
  }
  return summary;
}

}  // namespace

std::string_view to_string(State state) noexcept {
  switch (state) {
    case State::open:
      return "open";
    case State::closed:
      return "closed";
    case State::filtered:
      return "filtered";
  }
  return "unknown";
}

std::string_view to_string(Reason reason) noexcept {
  switch (reason) {
    case Reason::syn_ack:
      return "syn-ack";
    case Reason::conn_refused:
      return "conn-refused";
    case Reason::self_connect:
      return "self-connect";
    case Reason::no_response:
      return "no-response";
    case Reason::port_unreach:
      return "port-unreach";
    case Reason::host_unreach:
      return "host-unreach";
    case Reason::net_unreach:
      return "net-unreach";
    case Reason::admin_prohibited:
      return "admin-prohibited";
    case Reason::icmp_other:
      return "icmp-error";
  }
  return "unknown";
}

std::size_t default_window() {
  const std::uint64_t limit = raise_open_file_limit();
  if (limit <= kReserve * 2) return 1;
  return static_cast<std::size_t>(std::min<std::uint64_t>(limit - kReserve, kMaxWindow));
}

// The probes' order: probe index -> (host, port). Sequential runs host after host, ports
// ascending; otherwise ports and hosts are shuffled and each port is tried on every host
// in turn, which spreads the load over the hosts.
class ProbeOrder {
 public:
  ProbeOrder(std::size_t hosts, std::size_t ports, bool sequential)
      : sequential_(sequential), hosts_(hosts), ports_(ports) {
    host_order_.resize(hosts);
    std::iota(host_order_.begin(), host_order_.end(), 0u);
    port_order_.resize(ports);
    std::iota(port_order_.begin(), port_order_.end(), 0u);
    if (!sequential) {
      std::mt19937_64 random(std::random_device{}());
      std::shuffle(host_order_.begin(), host_order_.end(), random);
      std::shuffle(port_order_.begin(), port_order_.end(), random);
    }
  }

  // (host index, port index) of probe index.
  std::pair<std::uint32_t, std::uint32_t> operator[](std::uint64_t index) const noexcept {
    if (sequential_) {
      return {static_cast<std::uint32_t>(index / ports_),
              static_cast<std::uint32_t>(index % ports_)};
    }
    return {host_order_[index % hosts_], port_order_[index / hosts_]};
  }

 private:
  bool sequential_;
  std::uint64_t hosts_;
  std::uint64_t ports_;
  std::vector<std::uint32_t> host_order_;
  std::vector<std::uint32_t> port_order_;
};

// What the loops tell each other about a host: a first round trip for loops that have not
// measured one, and that the host answers with ICMP errors (so its silence is rate limiting).
struct Scanner::HostHint {
  std::atomic<double> srtt{0};
  std::atomic<bool> icmp_seen{false};
};

// One loop's share of the scan: its slots (one socket each, reused from probe to probe), its
// own estimates of every host's round trip, its share of the rate, and its results.
class Scanner::Worker {
 public:
  Worker(Scanner& scanner, EventLoop& loop, const ProbeOrder& order, std::size_t slots, double rate)
      : scanner_(scanner),
        loop_(loop),
        order_(order),
        options_(scanner.options_),
        slots_(slots),
        interval_(rate > 0 ? 1.0 / rate : 0),
        tasks_(loop) {
    timing.resize(scanner.hosts_.size());
    host_counts.resize(scanner.hosts_.size());
  }

  // On the loop's thread: starts every slot. finished runs there once all have ended.
  void start(std::function<void()> finished) { spawn(loop_, run_slots(std::move(finished))); }

  // On the loop's thread: fails whatever a slot waits on, so that each ends at once.
  void abandon() noexcept { tasks_.cancel(); }

  EventLoop& loop() const noexcept { return loop_; }

  std::vector<PortResult> results;
  Counts counts;
  std::vector<HostTiming> timing;
  std::vector<Counts> host_counts;
  std::error_code failure;

 private:
  struct Slot {
    std::optional<Stream> stream;
  };

  // Starts the slots a batch per loop turn, so that the first answers are read (and the
  // round trips measured) while the window fills, not after thousands of connects.
  Task<> run_slots(std::function<void()> finished) {
    std::size_t started = 0;
    for (auto& slot : slots_) {
      tasks_.spawn(run_slot(slot));
      if (++started % kStartBatch == 0) co_await yield_now(loop_);
    }
    co_await tasks_.join();
    finished();
  }

  Task<> run_slot(Slot& slot) {
    unsigned since_yield = 0;
    while (!scanner_.stopping_.load(std::memory_order_relaxed)) {
      const std::uint64_t index = scanner_.next_.fetch_add(1, std::memory_order_relaxed);
      if (index >= scanner_.progress_.planned) break;
      const auto [host, port_index] = order_[index];
      const std::uint16_t port = options_.ports[port_index];
      const Outcome outcome = co_await probe_with_retries(slot, host, port);
      if (outcome.abandoned) break;
      record(host, port, outcome);
      if (++since_yield == kYieldEvery) {
        since_yield = 0;
        co_await yield_now(loop_);
      }
    }
  }

  Task<Outcome> probe_with_retries(Slot& slot, std::uint32_t host, std::uint16_t port) {
    Endpoint target = scanner_.hosts_[host].address;
    target.set_port(port);
    HostTiming& host_timing = timing_of(host);
    for (unsigned tries = 0;; ++tries) {
      if (interval_ > 0 && !co_await pace()) co_return abandoned();
      Outcome outcome = co_await probe(slot, target, host_timing);
      learn(host, outcome);
      const bool rate_limited =
          host_timing.icmp_seen || scanner_.hints_[host].icmp_seen.load(std::memory_order_relaxed);
      const unsigned allowed = rate_limited ? 0 : options_.timing.max_retries;
      if (outcome.abandoned || outcome.reason != Reason::no_response || tries >= allowed) {
        co_return outcome;
      }
    }
  }

  // Waits for this loop's next turn to connect under --rate; false when abandoned.
  Task<bool> pace() {
    const auto now = Clock::now();
    const auto interval = std::chrono::duration_cast<Clock::duration>(Seconds(interval_));
    next_send_ = std::max(next_send_, now);
    const auto wait = next_send_ - now;
    next_send_ += interval;
    if (wait <= Clock::duration::zero()) co_return true;
    co_return (co_await sleep(loop_, wait)).ok();
  }

  // The slot's socket, made (or remade for the other family) when needed.
  Stream* stream_for(Slot& slot, Family family) {
    if (slot.stream && slot.stream->is_open() && slot.stream->socket().family() == family) {
      return &*slot.stream;
    }
    slot.stream.reset();
    auto socket = Socket::try_create(family, Type::stream);
    if (!socket) {
      failure = socket.error();
      return nullptr;
    }
    try {
      // ICMP errors queued, so that a port unreachable is told apart from a reset.
      if (family == Family::inet6) {
        socket->set(opt::ipv6_receive_errors{true});
      } else {
        socket->set(opt::ip_receive_errors{true});
      }
      slot.stream.emplace(loop_, std::move(*socket));
    } catch (const std::system_error& e) {
      failure = e.code();
      return nullptr;
    }
    return &*slot.stream;
  }

  Task<Outcome> probe(Slot& slot, const Endpoint& target, HostTiming& host_timing) {
    for (unsigned shortage = 0;; ++shortage) {
      if (scanner_.stopping_.load(std::memory_order_relaxed)) co_return abandoned();
      Stream* stream = stream_for(slot, target.family());
      if (!stream) co_return abandon_scan();
      Socket& socket = stream->socket();
      const auto started = Clock::now();
      std::error_code code = socket.try_connect(target).error();
      std::optional<QueuedError> icmp;
      if (code == std::errc::operation_in_progress) {
        code = co_await finish_connect(*stream, target, started, host_timing, icmp);
        if (code == std::errc::operation_canceled) co_return abandoned();
      } else if (code) {
        static_cast<void>(socket.try_disconnect());
      }
      if (local_shortage(code)) {
        if (shortage == kShortageTries) {
          failure = code;
          co_return abandon_scan();
        }
        if (!co_await Sleep(loop_, kShortageWait)) co_return abandoned();
        continue;
      }
      co_return co_await conclude(*stream, target, code, icmp, started);
    }
  }

  // Ends a connect in progress by connecting again, which costs one syscall where reading
  // SO_ERROR and then dissolving the failed socket cost two: the repeated connect says
  // EALREADY while the handshake runs, succeeds (or EISCONN) once it is done, and returns
  // the failure, leaving the socket reset for the next probe, once it has failed. On loopback
  // and veth the answer is there at once. Otherwise it waits for writability until the
  // host's timeout, read again every min_timeout so that probes sent before the host's first
  // answer do not wait out the initial timeout; then it returns timed_out.
  //
  // An ICMP error that arrives while a connect call holds the socket is only queued (the
  // handshake goes on as if it were lost), so after a wake-up, and before giving up, the
  // error queue is read too; what it holds goes to icmp.
  Task<std::error_code> finish_connect(Stream& stream, const Endpoint& target,
                                       Clock::time_point started, const HostTiming& host_timing,
                                       std::optional<QueuedError>& icmp) {
    Socket& socket = stream.socket();
    bool woken = false;
    for (;;) {
      const std::error_code code = socket.try_connect(target).error();
      if (code == std::errc::already_connected) co_return std::error_code();
      if (code != std::errc::connection_already_in_progress) co_return code;
      const auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                          host_timing.timeout(options_.timing));
      const Seconds left = deadline - Clock::now();
      if (woken || left <= Seconds::zero()) {
        if (auto queued = socket.try_recv_error(); queued && queued->icmp) {
          icmp = *queued;
          static_cast<void>(socket.try_disconnect());
          co_return queued->error ? queued->error
                                  : std::make_error_code(std::errc::host_unreachable);
        }
      }
      if (left <= Seconds::zero()) {
        static_cast<void>(socket.try_disconnect());
        co_return std::make_error_code(std::errc::timed_out);
      }
      const auto waited = co_await with_timeout(std::min(left, options_.timing.min_timeout),
                                                stream.wait_writable());
      if (waited.error() == std::errc::operation_canceled) co_return waited.error();
      woken = waited.ok();
    }
  }

  Task<Outcome> conclude(Stream& stream, const Endpoint& target, std::error_code code,
                         const std::optional<QueuedError>& icmp, Clock::time_point started) {
    Socket& socket = stream.socket();
    Outcome outcome;
    outcome.latency = Seconds(Clock::now() - started).count();
    if (code == std::errc::timed_out) {
      outcome.latency = 0;
    } else if (code) {
      std::tie(outcome.state, outcome.reason) = failure_state(socket, code, icmp);
    } else if (auto self = socket.try_getsockname(); self && *self == target) {
      // The connect chose target's own port as its local one and met itself: nobody listens.
      outcome.state = State::closed;
      outcome.reason = Reason::self_connect;
    } else {
      outcome.state = State::open;
      outcome.reason = Reason::syn_ack;
      if (options_.banner) outcome.banner = co_await grab_banner(stream, target.port());
    }
    // Resets a connection (no TIME_WAIT) and readies the socket for the next probe; a failed
    // connect has been reset by the connect that reported it.
    if (!code) static_cast<void>(socket.try_disconnect());
    co_return outcome;
  }

  Task<std::string> grab_banner(Stream& stream, std::uint16_t port) {
    std::array<char, 2048> buffer;
    const bool http = (options_.is_http && options_.is_http(port)) ||
                      std::find(kHttpPorts.begin(), kHttpPorts.end(), port) != kHttpPorts.end();
    if (!http) {
      auto greeting = co_await with_timeout(options_.banner_wait, stream.read_some(buffer));
      if (greeting && *greeting > 0) co_return printable(first_line({buffer.data(), *greeting}));
      if (greeting || greeting.error() != std::errc::timed_out) co_return std::string();
    }
    // Silent, or an HTTP port: ask as a browser would.
    constexpr std::string_view kHead = "HEAD / HTTP/1.0\r\n\r\n";
    if (auto sent = co_await with_timeout(options_.banner_wait, stream.write_all(kHead)); !sent) {
      co_return std::string();
    }
    std::size_t got = 0;
    while (got < buffer.size()) {
      auto n = co_await with_timeout(options_.banner_wait,
                                     stream.read_some(std::span(buffer).subspan(got)));
      if (!n || *n == 0) break;
      got += *n;
      if (std::string_view(buffer.data(), got).find("\r\n\r\n") != std::string_view::npos) break;
    }
    const std::string_view reply(buffer.data(), got);
    if (reply.starts_with("HTTP/")) co_return http_summary(reply);
    co_return printable(first_line(reply));
  }

  // The host's estimate here, started from another loop's first measurement if this loop has
  // none of its own yet.
  HostTiming& timing_of(std::uint32_t host) {
    HostTiming& local = timing[host];
    if (!local.measured) {
      const double shared = scanner_.hints_[host].srtt.load(std::memory_order_relaxed);
      if (shared > 0) local.sample(shared);
    }
    return local;
  }

  // What an answer teaches about its host, shared with the other loops where it matters.
  void learn(std::uint32_t host, const Outcome& outcome) {
    HostTiming& local = timing[host];
    HostHint& hint = scanner_.hints_[host];
    const bool answered = outcome.latency > 0 && outcome.reason != Reason::self_connect;
    if (answered && Seconds(outcome.latency) < kKernelSynTimeout) {
      local.sample(outcome.latency);
      if (hint.srtt.load(std::memory_order_relaxed) == 0) {
        hint.srtt.store(local.srtt, std::memory_order_relaxed);
      }
    }
    const bool icmp = outcome.state == State::filtered && outcome.reason != Reason::no_response &&
                      outcome.reason != Reason::host_unreach &&
                      outcome.reason != Reason::net_unreach;
    if (icmp && !local.icmp_seen) {
      local.icmp_seen = true;
      hint.icmp_seen.store(true, std::memory_order_relaxed);
    }
  }

  void record(std::uint32_t host, std::uint16_t port, const Outcome& outcome) {
    count(counts, outcome.state);
    count(host_counts[host], outcome.state);
    scanner_.progress_.done.fetch_add(1, std::memory_order_relaxed);
    if (outcome.state == State::open || options_.keep_closed) {
      results.push_back(PortResult{host, port, outcome.state, outcome.reason,
                                   static_cast<float>(outcome.latency * 1000), outcome.banner});
    }
  }

  static Outcome abandoned() {
    Outcome outcome;
    outcome.abandoned = true;
    return outcome;
  }

  Outcome abandon_scan() {
    scanner_.interrupt();
    return abandoned();
  }

  Scanner& scanner_;
  EventLoop& loop_;
  const ProbeOrder& order_;
  const ScanOptions& options_;
  std::vector<Slot> slots_;
  Clock::time_point next_send_{};
  double interval_;
  TaskGroup tasks_;  // the slots' tasks; last, so that they are let go before the rest goes
};

Scanner::Scanner(const std::vector<Host>& hosts, const ScanOptions& options)
    : hosts_(hosts), options_(options), hints_(std::make_unique<HostHint[]>(hosts.size())) {
  progress_.planned = static_cast<std::uint64_t>(hosts.size()) * options.ports.size();
}

Scanner::~Scanner() = default;

void Scanner::interrupt() noexcept {
  if (stopping_.exchange(true)) return;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().post([w] { w->abandon(); });
  }
}

ScanReport Scanner::run(std::function<void()> tick, std::chrono::duration<double> tick_every,
                        std::function<void(int)> on_signal) {
  const std::uint64_t planned = progress_.planned;
  const std::size_t window = std::max<std::size_t>(
      1, std::min(
             options_.window ? options_.window : default_window(),
             static_cast<std::size_t>(std::min<std::uint64_t>(planned, kMaxWindow * kMaxThreads))));
  std::size_t threads = options_.threads;
  if (threads == 0) {
    threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, kMaxThreads);
    threads = std::min<std::size_t>(threads, 1 + planned / kProbesPerThread);
  }
  threads = std::min(threads, window);
  const ProbeOrder order(hosts_.size(), options_.ports.size(), options_.sequential);

  LoopGroup group(threads);
  for (std::size_t i = 0; i < threads; ++i) {
    const std::size_t slots = window / threads + (i < window % threads ? 1 : 0);
    workers_.push_back(std::make_unique<Worker>(*this, group[i], order, slots,
                                                options_.rate / static_cast<double>(threads)));
  }
  group[0].on_signals({SIGINT, SIGTERM}, std::move(on_signal));

  std::atomic<std::size_t> running{threads};
  bool all_done = false;
  CancelSource ticker_stop;
  auto all_finished = [&] {
    all_done = true;
    ticker_stop.cancel();
  };
  auto ticker = [&]() -> Task<> {
    while (!all_done) {
      static_cast<void>(co_await with_cancel(ticker_stop.token(), sleep(group[0], tick_every)));
      if (!all_done && tick) tick();
    }
    group.stop();
  };
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->loop().post([&, w] {
      w->start([&] {
        if (running.fetch_sub(1) == 1) group[0].post(all_finished);
      });
    });
  }
  group[0].post([&] { spawn(group[0], ticker()); });

  const auto started = Clock::now();
  group.run();

  ScanReport report;
  report.elapsed = Clock::now() - started;
  report.planned = planned;
  report.interrupted = stopping_.load();
  for (auto& worker : workers_) {
    if (worker->failure) throw Error(worker->failure, "scan");
    report.counts += worker->counts;
    std::move(worker->results.begin(), worker->results.end(), std::back_inserter(report.results));
  }
  std::sort(report.results.begin(), report.results.end(), [](const auto& a, const auto& b) {
    return a.host != b.host ? a.host < b.host : a.port < b.port;
  });
  for (std::size_t host = 0; host < hosts_.size(); ++host) {
    Counts counts;
    for (auto& worker : workers_)
      counts += worker->host_counts[host];
    report.host_counts.push_back(counts);
    std::pair<double, double> best{0, 0};
    for (auto& worker : workers_) {
      const auto& t = worker->timing[host];
      if (t.measured) best = {t.srtt, t.rttvar};
    }
    report.round_trips.push_back(best);
  }
  workers_.clear();
  return report;
}

}  // namespace sockit::tools::scan
