// chat_bench: the load client of bench/chat.sh, for any line-based chat server that
// broadcasts a member's line to the other members of the room (`sockit serve chat`,
// `ncat --chat`). Written on sockit's own event loop: receivers on one loop per thread, one
// coroutine each; the sender on the main thread's loop.
//
//   chat_bench 127.0.0.1 8023 --clients 10000 --rate 10 --messages 100
//   chat_bench 127.0.0.1 8023 --clients 1000 --messages 2000 --flood --json
//
// N receivers connect (--connectors at a time per thread, each counted once the server has
// greeted it) and read everything the server sends. Once all have connected and the
// server's welcome and join notices have stopped for the quiet period, one more connection,
// the sender, sends M lines "@@bench SEQ SEND_NS"
// (SEND_NS: the steady clock, CLOCK_MONOTONIC, in ns) at the rate given, each line due at
// its place in a fixed schedule so that a late send does not slow the ones after it; with
// --flood as fast as the socket takes them. Servers put the sender's name before the line,
// so a receiver looks for the marker anywhere in a line and ignores lines without it; for
// each one it records the latency (arrival - SEND_NS) and checks that it gets every SEQ
// exactly once and in order. Lines stamped before this run started (a room's history of an
// earlier run) are ignored.
//
// Reported: connections made, the server's VmRSS before and after they settled (with
// --server-pid), latency percentiles, deliveries and deliveries/s (deliveries / (last
// arrival - first send)), missing, duplicate, out-of-order and malformed deliveries, and the
// CPU time the driver and the server used while the lines went out. The wait for the last
// deliveries ends when all have arrived or when nothing has for the quiet period. Every phase
// is bounded by --timeout; a phase that runs out is named in timed_out and the run reports
// what arrived.
// Exit status 1 if anything went wrong (a failed connection, a lost or repeated delivery, a
// timeout), 2 for a usage error.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common.hpp"
#include "load/histogram.hpp"
#include "sockit/async.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/io.hpp"
#include "sockit/options.hpp"
#include "sockit/task.hpp"
#include "sockit/task_group.hpp"

namespace {

using sockit::Duration;
using sockit::EventLoop;
using sockit::SteadyClock;
using sockit::Stream;
using sockit::Task;
using sockit::tools::load::Histogram;

struct Options {
  std::string host;
  std::uint16_t port = 0;
  std::size_t clients = 1000;
  double rate = 10;
  std::size_t messages = 100;
  bool flood = false;
  std::size_t threads = 1;
  // Receivers that never read (with a small receive buffer): the slow members a server must
  // not let hold up the others. They count in clients, not in the deliveries expected.
  std::size_t stalled = 0;
  // Connects in flight at once per thread. More than the server's accept queue holds (ncat's
  // holds 10) and a dropped SYN costs a second before it is sent again.
  std::size_t connectors = 64;
  std::string quiet = "1s";
  std::string timeout = "60s";
  int server_pid = 0;
  bool json = false;
};

constexpr std::string_view kMarker = "@@bench ";
// One read's worth, shared by every receiver of a loop: a receiver handles what it read
// before it waits again, so an idle one holds no buffer.
constexpr std::size_t kReadBuffer = 64 * 1024;
// A line longer than this without a newline is not a chat line.
constexpr std::size_t kMaxLine = 64 * 1024;
constexpr auto kPoll = std::chrono::milliseconds(5);

// The steady clock (CLOCK_MONOTONIC) in nanoseconds: what SEND_NS carries.
std::int64_t now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

double seconds_between(std::int64_t from_ns, std::int64_t to_ns) noexcept {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

// What every thread reads; nothing in it changes during the run.
struct Shared {
  explicit Shared(const Options& opts)
      : options(opts),
        target(opts.host, opts.port),
        timeout(sockit::tools::parse_duration(opts.timeout)),
        epoch_ns(now_ns()) {}

  const Options& options;
  sockit::Address target;
  Duration timeout;
  std::int64_t epoch_ns;  // before the first connect: lines stamped earlier are stale
};

// What one thread's receivers saw; read once the thread has ended.
struct Tally {
  std::size_t connected = 0;  // receivers that read
  std::size_t stalled = 0;    // receivers that never read
  std::size_t connect_failed = 0;
  std::size_t disconnected = 0;  // connections the server ended before the run did
  std::uint64_t deliveries = 0;  // first arrivals of a SEQ at a receiver
  std::uint64_t duplicates = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t malformed = 0;
  std::uint64_t stale = 0;
  std::int64_t last_delivery_ns = 0;
  Histogram latency_us;
  std::string first_error;

  void note_error(std::string reason) {
    if (first_error.empty()) first_error = std::move(reason);
  }
  Tally& operator+=(const Tally& other);
};

Tally& Tally::operator+=(const Tally& other) {
  connected += other.connected;
  stalled += other.stalled;
  connect_failed += other.connect_failed;
  disconnected += other.disconnected;
  deliveries += other.deliveries;
  duplicates += other.duplicates;
  out_of_order += other.out_of_order;
  malformed += other.malformed;
  stale += other.stale;
  last_delivery_ns = std::max(last_delivery_ns, other.last_delivery_ns);
  latency_us.merge(other.latency_us);
  if (first_error.empty()) first_error = other.first_error;
  return *this;
}

// One receiver's view of the sequence: which SEQs it has had, and the line it is in the
// middle of.
struct Receiver {
  explicit Receiver(std::size_t messages) : seen((messages + 63) / 64) {}

  std::vector<std::uint64_t> seen;  // one bit per SEQ
  std::uint64_t next = 0;           // one past the highest SEQ so far
  std::string partial;              // a line not yet complete
};

struct Member {
  Member(Stream s, std::size_t messages) : stream(std::move(s)), receiver(messages) {}

  Stream stream;
  Receiver receiver;
};

// "SEQ SEND_NS" (a "\r" after it is allowed); nullopt when it is not that.
std::optional<std::pair<std::uint64_t, std::int64_t>> parse_mark(std::string_view text) {
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  const char* end = text.data() + text.size();
  std::uint64_t seq = 0;
  std::int64_t sent = 0;
  auto [after_seq, seq_error] = std::from_chars(text.data(), end, seq);
  if (seq_error != std::errc() || after_seq == end || *after_seq != ' ') return std::nullopt;
  auto [after_sent, sent_error] = std::from_chars(after_seq + 1, end, sent);
  if (sent_error != std::errc() || after_sent != end) return std::nullopt;
  return std::pair{seq, sent};
}

// One thread's share of the receivers, on its own loop. The control thread reads its
// progress through the atomics while it runs, and its tally once it has ended.
class Worker {
 public:
  Worker(const Shared& shared, std::size_t wanted, std::size_t stalled)
      : shared_(shared), wanted_(wanted), stalled_wanted_(stalled), buffer_(kReadBuffer) {
    members_.reserve(wanted);  // never reallocates, so receivers may hold references
  }

  // The thread's body: returns once finish() has been called and every task has ended.
  void run() {
    for (std::size_t i = 0; i < std::min(shared_.options.connectors, wanted_); ++i)
      start(connect_some());
    loop_.run();
  }

  // Thread-safe: closes every connection, which ends the receivers and then run().
  void finish() {
    loop_.post([this] {
      stopping_ = true;
      for (auto& member : members_)
        member.stream.close();
      sockit::spawn(loop_, stop_when_joined());
    });
  }

  std::size_t connects_done() const noexcept {
    return connects_done_.load(std::memory_order_acquire);
  }
  std::size_t connected() const noexcept { return connected_.load(std::memory_order_acquire); }
  std::uint64_t delivered() const noexcept { return delivered_.load(std::memory_order_relaxed); }
  std::int64_t last_read_ns() const noexcept {
    return last_read_ns_.load(std::memory_order_relaxed);
  }
  const Tally& tally() const noexcept { return tally_; }

 private:
  void start(Task<> task) { tasks_.spawn(guarded(std::move(task))); }

  Task<> stop_when_joined() {
    co_await tasks_.join();
    loop_.stop();
  }

  Task<> guarded(Task<> task) {
    try {
      co_await std::move(task);
    } catch (const std::exception& e) {
      tally_.note_error(e.what());
    }
  }

  // Connects receivers one after the other. A receiver counts as connected once the server
  // has greeted it (our welcome, ncat's announcement): until then the server may not have
  // accepted it, and connecting more would overflow its accept queue (ncat's holds 10).
  Task<> connect_some() {
    while (next_ < wanted_ && !stopping_) {
      ++next_;
      auto stream = co_await sockit::connect(loop_, shared_.target, shared_.timeout);
      if (stopping_) break;
      if (!stream) {
        ++tally_.connect_failed;
        tally_.note_error("connect: " + stream.error().message());
      } else {
        // Other connectors add members while this one waits: keep a reference, not back().
        Member& member = members_.emplace_back(std::move(*stream), shared_.options.messages);
        if (!co_await greeted(member)) {
          ++tally_.connect_failed;
        } else if (tally_.stalled < stalled_wanted_) {
          // The window it advertises stops growing: the server's sends to it soon block.
          member.stream.socket().set(sockit::opt::receive_buffer{4096});
          ++tally_.stalled;
        } else {
          ++tally_.connected;
          connected_.fetch_add(1, std::memory_order_release);
          start(receive(member));
        }
      }
      connects_done_.fetch_add(1, std::memory_order_release);
    }
  }

  Task<bool> greeted(Member& member) {
    auto got = co_await sockit::with_timeout(shared_.timeout, member.stream.read_some(buffer_));
    if (!got || *got == 0) {
      if (!stopping_) {
        tally_.note_error(got ? "the server closed a connection before it sent anything"
                              : "waiting for the server's greeting: " + got.error().message());
      }
      member.stream.close();
      co_return false;
    }
    arrived(member.receiver, *got);
    co_return true;
  }

  // Reads until the connection closes. After a short read it waits for the next edge
  // without another read, which would only say it would block.
  Task<> receive(Member& member) {
    Stream& stream = member.stream;
    for (;;) {
      auto got = co_await stream.read_some(buffer_);
      if (!got || *got == 0) {
        if (!stopping_) {
          ++tally_.disconnected;
          tally_.note_error(got ? "the server closed a connection"
                                : "read: " + got.error().message());
        }
        co_return;
      }
      arrived(member.receiver, *got);
      if (*got < buffer_.size() && !stream.hangup_seen()) {
        if (!co_await stream.wait_readable()) co_return;  // closed by finish()
      }
    }
  }

  // The size bytes at the start of buffer_ arrived for receiver.
  void arrived(Receiver& receiver, std::size_t size) {
    const std::int64_t now = now_ns();
    last_read_ns_.store(now, std::memory_order_relaxed);
    take(receiver, std::string_view(buffer_.data(), size), now);
  }

  // Handles the complete lines of data (the receiver's partial line first) and keeps the
  // rest for the next read.
  void take(Receiver& receiver, std::string_view data, std::int64_t now) {
    const std::uint64_t before = tally_.deliveries;
    if (!receiver.partial.empty()) {
      const auto newline = data.find('\n');
      receiver.partial.append(data.substr(0, newline));
      if (newline == std::string_view::npos) {
        if (receiver.partial.size() > kMaxLine) {
          ++tally_.malformed;
          receiver.partial.clear();
        }
        return;
      }
      scan(receiver, receiver.partial, now);
      receiver.partial.clear();
      data.remove_prefix(newline + 1);
    }
    const auto last_newline = data.rfind('\n');
    const std::size_t complete = last_newline == std::string_view::npos ? 0 : last_newline + 1;
    scan(receiver, data.substr(0, complete), now);
    receiver.partial.assign(data.substr(complete));
    if (tally_.deliveries != before) {
      tally_.last_delivery_ns = now;
      delivered_.store(tally_.deliveries, std::memory_order_relaxed);
    }
  }

  // Every marked line of lines (complete lines, the last newline left out or not).
  void scan(Receiver& receiver, std::string_view lines, std::int64_t now) {
    for (auto at = lines.find(kMarker); at != std::string_view::npos;
         at = lines.find(kMarker, at)) {
      at += kMarker.size();
      const auto end = std::min(lines.find('\n', at), lines.size());
      mark(receiver, lines.substr(at, end - at), now);
      at = end;
    }
  }

  void mark(Receiver& receiver, std::string_view text, std::int64_t now) {
    const auto parsed = parse_mark(text);
    if (!parsed) {
      ++tally_.malformed;
      return;
    }
    const auto [seq, sent] = *parsed;
    if (sent < shared_.epoch_ns) {
      ++tally_.stale;
      return;
    }
    if (seq >= shared_.options.messages) {
      ++tally_.malformed;
      return;
    }
    std::uint64_t& word = receiver.seen[seq / 64];
    const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
    if ((word & bit) != 0) {
      ++tally_.duplicates;
      return;
    }
    word |= bit;
    if (seq < receiver.next) {
      ++tally_.out_of_order;
    } else {
      receiver.next = seq + 1;
    }
    ++tally_.deliveries;
    tally_.latency_us.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - sent)) /
                             1000);
  }

  const Shared& shared_;
  std::size_t wanted_;
  std::size_t stalled_wanted_;
  std::size_t next_ = 0;
  bool stopping_ = false;
  std::vector<char> buffer_;
  std::atomic<std::size_t> connects_done_{0};
  std::atomic<std::size_t> connected_{0};
  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::int64_t> last_read_ns_{0};
  EventLoop loop_;
  sockit::TaskGroup tasks_{loop_};
  std::vector<Member> members_;  // declared after loop_: they close before it goes
  Tally tally_;
};

// User and system CPU seconds.
struct CpuTime {
  double user = 0;
  double system = 0;

  double total() const noexcept { return user + system; }
  CpuTime operator-(const CpuTime& earlier) const noexcept {
    return {user - earlier.user, system - earlier.system};
  }
};

// The figures of /proc/PID of the server, when one is named.
class ServerProcess {
 public:
  explicit ServerProcess(int pid) : pid_(pid) {}

  // VmRSS in KiB.
  std::optional<std::uint64_t> rss_kib() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string key;
    std::uint64_t value = 0;
    while (pid_ > 0 && status >> key) {
      if (key == "VmRSS:" && status >> value) return value;
      status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return std::nullopt;
  }

  // The CPU time of all its threads so far.
  std::optional<CpuTime> cpu_time() const {
    std::ifstream file("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat;
    if (pid_ <= 0 || !std::getline(file, stat)) return std::nullopt;
    // After the command name, which may hold spaces: state is field 3, utime 14, stime 15.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int field = 3; field < 14; ++field)
      fields >> skip;
    double user = 0;
    double system = 0;
    if (!(fields >> user >> system)) return std::nullopt;
    const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return CpuTime{user / ticks, system / ticks};
  }

 private:
  int pid_;
};

// The CPU time of this process, every thread together.
CpuTime own_cpu_time() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

// What the run found, beyond the receivers' tallies.
struct Report {
  double connect_seconds = 0;
  double settle_seconds = 0;
  bool settled = false;
  std::optional<std::uint64_t> rss_before_kib;
  std::optional<std::uint64_t> rss_after_kib;
  std::size_t sent = 0;
  std::int64_t first_send_ns = 0;
  std::int64_t last_send_ns = 0;
  CpuTime driver_cpu;
  std::optional<CpuTime> server_cpu;
  double window_seconds = 0;  // from the first send to the end of the wait for deliveries
  std::string timed_out;      // the first phase that ran out of time
  std::string sender_error;
  Tally total;
};

// The run, on the main thread's loop: it watches the workers and is the sender.
class Bench {
 public:
  Bench(const Shared& shared, std::vector<std::unique_ptr<Worker>>& workers)
      : shared_(shared),
        workers_(workers),
        server_(shared.options.server_pid),
        quiet_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(
                      sockit::tools::parse_duration(shared.options.quiet))
                      .count()) {}

  Report run() {
    report_.rss_before_kib = server_.rss_kib();
    std::exception_ptr failure;
    {
      std::vector<std::jthread> threads;
      for (auto& worker : workers_)
        threads.emplace_back([&worker] { worker->run(); });
      try {
        sockit::run_until_complete(loop_, phases());
      } catch (...) {
        failure = std::current_exception();  // the threads must still be ended
      }
      for (auto& worker : workers_)
        worker->finish();
    }
    if (failure) std::rethrow_exception(failure);
    for (const auto& worker : workers_)
      report_.total += worker->tally();
    return std::move(report_);
  }

 private:
  const Options& options() const noexcept { return shared_.options; }

  Task<> phases() {
    auto start = now_ns();
    const bool connected =
        co_await wait_until([this] { return connects_done() == options().clients; });
    if (!connected) time_out("connect");
    report_.connect_seconds = seconds_between(start, now_ns());
    start = now_ns();
    report_.settled = co_await quiet();
    if (!report_.settled) time_out("settle");
    report_.settle_seconds = seconds_between(start, now_ns());
    report_.rss_after_kib = server_.rss_kib();
    if (options().messages > 0) co_await send_and_collect();
  }

  Task<> send_and_collect() {
    auto sender = co_await sockit::connect(loop_, shared_.target, shared_.timeout);
    if (!sender) {
      report_.sender_error = "sender: connect: " + sender.error().message();
      co_return;
    }
    const auto no_delay = sockit::opt::no_delay{true}.encode();
    if (auto set = sender->socket().try_setsockopt(
            sockit::opt::no_delay::level, sockit::opt::no_delay::name, &no_delay, sizeof no_delay);
        !set) {
      report_.sender_error = "sender: TCP_NODELAY: " + set.error().message();
      co_return;
    }
    sockit::spawn(loop_, discard(*sender));
    // The receivers hear the sender join: let that pass too.
    if (!co_await quiet()) time_out("settle");
    const CpuTime cpu_before = own_cpu_time();
    const auto server_cpu_before = server_.cpu_time();
    co_await send(*sender);
    // Lines a server lost never come: silence after the last send ends the wait too.
    const bool done = co_await wait_until([this] {
      return delivered() >= expected_deliveries() || silent_since(report_.last_send_ns);
    });
    if (!done) time_out("deliver");
    report_.window_seconds = seconds_between(report_.first_send_ns, now_ns());
    report_.driver_cpu = own_cpu_time() - cpu_before;
    if (const auto server_cpu = server_.cpu_time(); server_cpu && server_cpu_before)
      report_.server_cpu = *server_cpu - *server_cpu_before;
    sender->close();
    while (discarding_)
      co_await sockit::yield_now(loop_);
  }

  // Sends the lines, each due at its place in the schedule (or at once with --flood).
  Task<> send(Stream& sender) {
    const auto start = SteadyClock::now();
    const auto period = std::chrono::duration<double>(options().flood ? 0.0 : 1.0 / options().rate);
    const auto limit =
        start + std::chrono::duration_cast<SteadyClock::duration>(
                    period * static_cast<double>(options().messages) + shared_.timeout);
    char line[64];
    for (std::size_t seq = 0; seq < options().messages; ++seq) {
      const auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                                   period * static_cast<double>(seq));
      if (const auto now = SteadyClock::now(); due > now) {
        static_cast<void>(co_await sockit::sleep(loop_, due - now));
      }
      if (SteadyClock::now() >= limit) {
        time_out("send");
        co_return;
      }
      const std::int64_t stamp = now_ns();
      const std::size_t length = format_line(line, seq, stamp);
      auto sent = co_await sockit::with_timeout(shared_.timeout,
                                                sender.write_all(std::string_view(line, length)));
      if (!sent) {
        report_.sender_error = "sender: write: " + sent.error().message();
        co_return;
      }
      if (seq == 0) report_.first_send_ns = stamp;
      report_.last_send_ns = stamp;
      ++report_.sent;
    }
  }

  static std::size_t format_line(std::span<char, 64> line, std::size_t seq, std::int64_t stamp) {
    char* out = std::copy(kMarker.begin(), kMarker.end(), line.data());
    out = std::to_chars(out, line.data() + line.size(), seq).ptr;
    *out++ = ' ';
    out = std::to_chars(out, line.data() + line.size(), stamp).ptr;
    *out++ = '\n';
    return static_cast<std::size_t>(out - line.data());
  }

  // Reads and drops what the server sends the sender, so that it never has to queue it.
  Task<> discard(Stream& sender) {
    discarding_ = true;
    std::vector<char> buffer(4096);
    for (;;) {
      auto got = co_await sender.read_some(buffer);
      if (!got || *got == 0) break;
    }
    discarding_ = false;
  }

  // Waits until done() or the timeout; false on the timeout.
  Task<bool> wait_until(std::function<bool()> done) {
    const auto limit =
        SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(shared_.timeout);
    while (!done()) {
      if (SteadyClock::now() >= limit) co_return false;
      static_cast<void>(co_await sockit::sleep(loop_, kPoll));
    }
    co_return true;
  }

  // Waits until the receivers have been silent for the quiet period; false when the
  // timeout came first.
  Task<bool> quiet() {
    const std::int64_t start = now_ns();
    co_return co_await wait_until([this, start] { return silent_since(start); });
  }

  // Whether no receiver has read anything for the quiet period, nor since start.
  bool silent_since(std::int64_t start) const {
    return now_ns() - std::max(start, last_read_ns()) >= quiet_ns_;
  }

  std::size_t connects_done() const {
    std::size_t done = 0;
    for (const auto& worker : workers_)
      done += worker->connects_done();
    return done;
  }

  std::uint64_t delivered() const {
    std::uint64_t done = 0;
    for (const auto& worker : workers_)
      done += worker->delivered();
    return done;
  }

  std::size_t connected() const {
    std::size_t done = 0;
    for (const auto& worker : workers_)
      done += worker->connected();
    return done;
  }

  // Every line sent, to every receiver that connected.
  std::uint64_t expected_deliveries() const { return connected() * report_.sent; }

  std::int64_t last_read_ns() const {
    std::int64_t last = 0;
    for (const auto& worker : workers_)
      last = std::max(last, worker->last_read_ns());
    return last;
  }

  void time_out(std::string_view phase) {
    if (report_.timed_out.empty()) report_.timed_out = phase;
  }

  const Shared& shared_;
  std::vector<std::unique_ptr<Worker>>& workers_;
  ServerProcess server_;
  std::int64_t quiet_ns_;
  EventLoop loop_;
  bool discarding_ = false;
  Report report_;
};

// The figures of a run, as both outputs give them.
struct Figures {
  Figures(const Options& options, const Report& report) : total(report.total) {
    expected = total.connected * report.sent;
    missing = expected > total.deliveries ? expected - total.deliveries : 0;
    if (total.deliveries > 0 && total.last_delivery_ns > report.first_send_ns) {
      delivery_seconds = seconds_between(report.first_send_ns, total.last_delivery_ns);
      deliveries_per_second = static_cast<double>(total.deliveries) / delivery_seconds;
    }
    if (report.rss_before_kib && report.rss_after_kib && total.connected > 0) {
      rss_per_client_kib = (static_cast<double>(*report.rss_after_kib) -
                            static_cast<double>(*report.rss_before_kib)) /
                           static_cast<double>(total.connected);
    }
    ok = total.connected + total.stalled == options.clients && total.disconnected == 0 &&
         missing == 0 && total.duplicates == 0 && total.out_of_order == 0 && total.malformed == 0 &&
         report.timed_out.empty() && report.sender_error.empty() && report.sent == options.messages;
  }

  double latency_ms(double percentile) const {
    return static_cast<double>(total.latency_us.percentile(percentile)) / 1000;
  }

  const Tally& total;
  std::uint64_t expected = 0;
  std::uint64_t missing = 0;
  double delivery_seconds = 0;
  double deliveries_per_second = 0;
  std::optional<double> rss_per_client_kib;
  bool ok = false;
};

constexpr double kPercentiles[] = {50, 90, 99};

template <class T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

void print_json(const Options& options, const Report& report, const Figures& figures) {
  const Tally& total = report.total;
  nlohmann::json latency = nlohmann::json::object();
  if (total.deliveries > 0) {
    for (const double p : kPercentiles)
      latency["p" + std::to_string(static_cast<int>(p))] = figures.latency_ms(p);
    latency["max"] = static_cast<double>(total.latency_us.max()) / 1000;
  }
  const nlohmann::json out = {
      {"clients", options.clients},
      {"threads", options.threads},
      {"connected", total.connected},
      {"stalled", total.stalled},
      {"connect_failed", total.connect_failed},
      {"connect_seconds", report.connect_seconds},
      {"settled", report.settled},
      {"settle_seconds", report.settle_seconds},
      {"rss_before_kib", or_null(report.rss_before_kib)},
      {"rss_after_kib", or_null(report.rss_after_kib)},
      {"rss_per_client_kib", or_null(figures.rss_per_client_kib)},
      {"messages", options.messages},
      {"flood", options.flood},
      {"rate", options.flood ? nlohmann::json(nullptr) : nlohmann::json(options.rate)},
      {"sent", report.sent},
      {"send_seconds", seconds_between(report.first_send_ns, report.last_send_ns)},
      {"deliveries", total.deliveries},
      {"expected", figures.expected},
      {"delivery_seconds", figures.delivery_seconds},
      {"deliveries_per_second", figures.deliveries_per_second},
      {"latency_ms", latency},
      {"missing", figures.missing},
      {"duplicates", total.duplicates},
      {"out_of_order", total.out_of_order},
      {"malformed", total.malformed},
      {"stale", total.stale},
      {"disconnected", total.disconnected},
      {"timed_out",
       report.timed_out.empty() ? nlohmann::json(nullptr) : nlohmann::json(report.timed_out)},
      {"window_seconds", report.window_seconds},
      {"driver_cpu_seconds", report.driver_cpu.total()},
      {"driver_system_seconds", report.driver_cpu.system},
      {"server_cpu_seconds",
       report.server_cpu ? nlohmann::json(report.server_cpu->total()) : nlohmann::json(nullptr)},
      {"server_system_seconds",
       report.server_cpu ? nlohmann::json(report.server_cpu->system) : nlohmann::json(nullptr)},
      {"first_error", report.sender_error.empty() ? total.first_error : report.sender_error},
      {"ok", figures.ok},
  };
  std::cout << out.dump() << std::endl;
}

// The sending and what arrived, in print_text.
void print_deliveries(const Options& options, const Report& report, const Figures& figures) {
  const Tally& total = report.total;
  std::cout << "sent " << report.sent << " of " << options.messages << " lines";
  if (options.flood) {
    std::cout << " as fast as the socket took them";
  } else {
    std::cout << " at " << options.rate << " lines/s";
  }
  std::cout << " in " << seconds_between(report.first_send_ns, report.last_send_ns) << " s\n";
  std::cout << "deliveries " << total.deliveries << " of " << figures.expected << " in "
            << figures.delivery_seconds << " s: " << std::setprecision(0)
            << figures.deliveries_per_second << " /s\n"
            << std::setprecision(3);
  if (total.deliveries > 0) {
    std::cout << "latency ms:";
    for (const double p : kPercentiles)
      std::cout << " p" << static_cast<int>(p) << " " << figures.latency_ms(p);
    std::cout << " max " << static_cast<double>(total.latency_us.max()) / 1000 << "\n";
  }
}

void print_text(const Options& options, const Report& report, const Figures& figures) {
  const Tally& total = report.total;
  std::cout << std::fixed << std::setprecision(2);
  std::cout << "clients " << total.connected + total.stalled << " of " << options.clients
            << " connected (" << total.stalled << " never reading) in " << report.connect_seconds
            << " s (" << total.connect_failed << " failed); "
            << (report.settled ? "quiet after " : "still not quiet after ") << report.settle_seconds
            << " s\n";
  if (report.rss_before_kib && report.rss_after_kib && figures.rss_per_client_kib) {
    std::cout << "server VmRSS " << *report.rss_before_kib << " KiB before, "
              << *report.rss_after_kib << " KiB after: " << std::setprecision(3)
              << *figures.rss_per_client_kib << " KiB per client\n"
              << std::setprecision(2);
  }
  if (options.messages > 0) print_deliveries(options, report, figures);
  std::cout << std::setprecision(2) << "errors: connect_failed " << total.connect_failed
            << " disconnected " << total.disconnected << " missing " << figures.missing
            << " duplicates " << total.duplicates << " out_of_order " << total.out_of_order
            << " malformed " << total.malformed << " timed_out "
            << (report.timed_out.empty() ? "none" : report.timed_out) << "\n";
  if (total.stale > 0) std::cout << "ignored " << total.stale << " lines of an earlier run\n";
  if (report.window_seconds > 0) {
    std::cout << "CPU while sending and delivering (" << report.window_seconds << " s): driver "
              << report.driver_cpu.total() << " s (system " << report.driver_cpu.system << ")";
    if (report.server_cpu) {
      std::cout << ", server " << report.server_cpu->total() << " s (system "
                << report.server_cpu->system << ")";
    }
    std::cout << "\n";
  }
  std::cout << std::flush;
}

int run(const Options& options) {
  // The receivers, the sender and a few descriptors of the loops themselves.
  const std::uint64_t needed = options.clients + 16 + 4 * options.threads;
  if (const std::uint64_t limit = sockit::raise_open_file_limit(); limit < needed) {
    std::cerr << "chat_bench: " << options.clients << " clients need " << needed
              << " descriptors; RLIMIT_NOFILE allows " << limit << '\n';
    return 1;
  }
  const Shared shared(options);
  const std::size_t threads = std::max<std::size_t>(1, std::min(options.threads, options.clients));
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    const std::size_t first = options.clients * t / threads;
    const std::size_t last = options.clients * (t + 1) / threads;
    // The first thread's first receivers are the stalled ones.
    workers.push_back(std::make_unique<Worker>(shared, last - first, t == 0 ? options.stalled : 0));
  }
  const Report report = Bench(shared, workers).run();
  const Figures figures(options, report);
  if (options.json) {
    print_json(options, report, figures);
  } else {
    print_text(options, report, figures);
  }
  const std::string& error =
      report.sender_error.empty() ? report.total.first_error : report.sender_error;
  if (!error.empty()) std::cerr << "chat_bench: first error: " << error << '\n';
  return figures.ok ? 0 : 1;
}

void declare(CLI::App& app, Options& options) {
  app.add_option("host", options.host, "Server address")->required();
  app.add_option("port", options.port, "Server port")->required();
  app.add_option("-c,--clients", options.clients, "Receiving connections")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("-r,--rate", options.rate, "Lines the sender sends per second")
      ->check(CLI::Range(0.001, 1e9))
      ->capture_default_str();
  app.add_option("-n,--messages", options.messages,
                 "Lines the sender sends (0: connect, settle and report the server's memory)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100'000'000}))
      ->capture_default_str();
  app.add_flag("--flood", options.flood, "Send the lines as fast as the socket takes them");
  app.add_option("--stalled", options.stalled,
                 "Of the clients, this many never read (slow members; not counted as "
                 "receivers)");
  app.add_option("-t,--threads", options.threads, "Receiver threads, each with its own event loop")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  app.add_option("--connectors", options.connectors, "Connects in flight at once per thread")
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}))
      ->capture_default_str();
  app.add_option("--quiet", options.quiet,
                 "Silence from the server that counts as settled, after the receivers and "
                 "again after the sender connect")
      ->check(sockit::tools::positive_duration_validator())
      ->capture_default_str();
  app.add_option("--timeout", options.timeout,
                 "Bounds each connect and each phase: connecting, settling, sending (beyond "
                 "its schedule) and the wait for the last deliveries")
      ->check(sockit::tools::positive_duration_validator())
      ->capture_default_str();
  app.add_option("--server-pid", options.server_pid,
                 "The server's process: report its VmRSS per client and its CPU time")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", options.json, "One JSON object instead of text");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{
      "chat_bench: broadcast latency and deliveries/s of a chat server, for "
      "bench/chat.sh",
      "chat_bench"};
  declare(app, options);
  return sockit::tools::run_main(app, argc, argv, [&] {
    sockit::ignore_sigpipe();
    return run(options);
  });
}
