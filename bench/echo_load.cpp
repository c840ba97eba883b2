// echo_load: the load client of bench/echo.sh, written on sockit's own event loop (one loop
// per thread, one coroutine per connection) so that it drives every server alike.
//
//   echo_load pingpong -p PORT -c 50 -d 3s    each connection: a 64-byte message, its echo
//   echo_load stream   -p PORT -c 50 -d 3s    each connection: 64 KiB writes, echo read meanwhile
//   echo_load idle     -p PORT -c 10000       connections that stay open and silent
//
// Every connection sends its own stretch of one random byte sequence and checks each byte
// that comes back, so an echo that is lost, reordered or delivered to the wrong connection
// counts as an error. Connections are open before the clock starts; a run ends at the
// duration or the count (round trips or bytes, shared out over the connections), whichever
// comes first, and prints one line:
//   mode=pingpong conns=50 threads=1 seconds=3.00 roundtrips=123456 rate=41152.0 errors=0
//   mode=stream conns=50 threads=1 seconds=3.00 bytes=2000000000 mb_per_s=666.7 errors=0
//   mode=idle conns=10000 errors=0
// idle prints once every connection is open and has echoed one byte (so the server has
// accepted and served it), then holds them until SIGTERM, SIGINT or --hold ends. conns counts
// the connections that worked; errors the ones that failed. Exit status 1 if any failed.

#include <CLI/CLI.hpp>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "common.hpp"
#include "sockit/async.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/io.hpp"
#include "sockit/options.hpp"
#include "sockit/task.hpp"
#include "sockit/task_group.hpp"

namespace {

using sockit::Duration;
using sockit::EventLoop;
using sockit::Result;
using sockit::SteadyClock;
using sockit::Stream;
using sockit::Task;

enum class Mode { pingpong, stream, idle };

struct Options {
  Mode mode = Mode::pingpong;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t conns = 50;
  std::size_t threads = 1;
  std::string duration = "3s";
  std::uint64_t count = 0;  // 0: the mode's default, far more than a few seconds can reach
  std::size_t size = 64;
  std::size_t chunk = 64 * 1024;
  std::string timeout = "10s";
  std::string hold = "60s";
};

constexpr std::uint64_t kDefaultRoundTrips = 100'000'000;
constexpr std::uint64_t kDefaultBytes = 1'000'000'000'000;
// Connections opened at once per thread: more would overflow the server's accept queue
// while it is busy, and a dropped SYN costs a second before it is sent again.
constexpr std::size_t kConnectors = 64;

// An endless byte sequence: a random table repeated with a prime period, so that the same
// offset of consecutive chunks differs. Each connection starts at its own place in it.
class Pattern {
 public:
  static constexpr std::size_t kPeriod = 65521;
  static constexpr std::uint64_t kConnectionStride = 4099;

  explicit Pattern(std::size_t max_window) : bytes_(kPeriod + max_window) {
    std::mt19937_64 random(862);
    for (std::size_t i = 0; i < kPeriod; ++i)
      bytes_[i] = static_cast<char>(random());
    for (std::size_t i = kPeriod; i < bytes_.size(); ++i)
      bytes_[i] = bytes_[i - kPeriod];
  }

  static std::uint64_t origin(std::uint64_t connection) { return connection * kConnectionStride; }

  // The length bytes at offset; length is at most the max_window of the constructor.
  std::string_view window(std::uint64_t offset, std::size_t length) const {
    return {bytes_.data() + offset % kPeriod, length};
  }

 private:
  std::vector<char> bytes_;
};

struct Tally {
  std::size_t conns = 0;
  std::uint64_t done = 0;  // round trips, or bytes echoed
  std::uint64_t errors = 0;
  std::string first_error;
  SteadyClock::time_point end{};
};

// The start of the timed part: the moment the last thread has its connections up.
struct MarkStart {
  SteadyClock::time_point* start;
  void operator()() const noexcept { *start = SteadyClock::now(); }
};

// What every thread reads; the barrier is also where main waits for the connections.
struct Shared {
  Shared(const Options& opts, std::size_t parties)
      : options(opts),
        pattern(std::max(opts.size, opts.chunk)),
        target(opts.host, opts.port),
        duration(sockit::tools::parse_duration(opts.duration)),
        timeout(sockit::tools::parse_duration(opts.timeout)),
        sync(static_cast<std::ptrdiff_t>(parties), MarkStart{&start}) {}

  // A connection's part of the count.
  std::uint64_t budget(std::uint64_t connection) const {
    const std::uint64_t total = options.count != 0             ? options.count
                                : options.mode == Mode::stream ? kDefaultBytes
                                                               : kDefaultRoundTrips;
    return total / options.conns + (connection < total % options.conns ? 1 : 0);
  }

  const Options& options;
  Pattern pattern;
  sockit::Address target;
  Duration duration;
  Duration timeout;
  SteadyClock::time_point start{};
  std::barrier<MarkStart> sync;
};

// A load generator sends each message at once; the servers are left as they are.
sockit::Result<void> set_no_delay(sockit::Socket& socket) noexcept {
  using NoDelay = sockit::opt::no_delay;
  const auto raw = NoDelay{true}.encode();
  return socket.try_setsockopt(NoDelay::level, NoDelay::name, &raw, sizeof raw);
}

std::string describe(const Result<std::size_t>& read) {
  return read ? "read: the server closed the connection" : "read: " + read.error().message();
}

// One thread's share of the connections, [first, first + wanted), on its own loop.
class Worker {
 public:
  Worker(Shared& shared, std::size_t first, std::size_t wanted)
      : shared_(shared), first_(first), wanted_(wanted) {}

  // The thread's body.
  void run() {
    guarded([this] { open_connections(); });
    shared_.sync.arrive_and_wait();
    if (shared_.options.mode == Mode::idle) {
      shared_.sync.arrive_and_wait();  // main holds the connections open until then
      return;
    }
    guarded([this] { measure(); });
  }

  const Tally& tally() const noexcept { return tally_; }

 private:
  // A failure of the thread itself is one more error: the barrier must still be reached.
  template <class Phase>
  void guarded(Phase phase) {
    try {
      phase();
    } catch (const std::exception& e) {
      count_failure(e.what());
    }
  }

  void count_failure(std::string reason) {
    if (tally_.errors++ == 0) tally_.first_error = std::move(reason);
  }

  // Whether the timed part is over. The clock is read too, not only the alarm's flag: one
  // turn of the loop can run for seconds when every stream has megabytes in flight, and the
  // alarm fires only between turns.
  bool time_up() const { return time_up_ || SteadyClock::now() >= deadline_; }

  // Ends a connection that went wrong. When the clock has run out, or the other half of a
  // stream connection failed first, the connection was closed on purpose: not an error.
  void fail(Stream& stream, std::string reason) {
    if (time_up() || !stream.is_open()) return;
    count_failure(std::move(reason));
    stream.close();
  }

  void start(Task<> task) { tasks_.spawn(counted(std::move(task))); }

  // Runs the loop until the tasks started have ended.
  void run_tasks() {
    sockit::spawn(loop_, stop_when_joined());
    loop_.run();
  }

  Task<> stop_when_joined() {
    co_await tasks_.join();
    loop_.stop();
  }

  Task<> counted(Task<> task) {
    try {
      co_await std::move(task);
    } catch (const std::exception& e) {
      count_failure(e.what());
    }
  }

  void open_connections() {
    streams_.reserve(wanted_);  // never reallocates, so tasks may hold references
    for (std::size_t i = 0; i < std::min(kConnectors, wanted_); ++i)
      start(connect_some());
    run_tasks();
    tally_.conns = streams_.size();
  }

  Task<> connect_some() {
    while (next_ < wanted_) {
      const std::uint64_t id = first_ + next_++;
      auto stream = co_await sockit::connect(loop_, shared_.target, shared_.timeout);
      if (!stream) {
        count_failure("connect: " + stream.error().message());
        continue;
      }
      if (auto set = set_no_delay(stream->socket()); !set) {
        count_failure("TCP_NODELAY: " + set.error().message());
        continue;
      }
      if (shared_.options.mode == Mode::idle && !co_await echo_one_byte(*stream, id)) continue;
      streams_.push_back(std::move(*stream));
    }
  }

  Task<bool> echo_one_byte(Stream& stream, std::uint64_t id) {
    const std::string_view probe = shared_.pattern.window(Pattern::origin(id), 1);
    auto sent = co_await sockit::with_timeout(shared_.timeout, stream.write_all(probe));
    if (!sent) {
      fail(stream, "write: " + sent.error().message());
      co_return false;
    }
    char reply = 0;
    auto received = co_await sockit::with_timeout(shared_.timeout, stream.read_some({&reply, 1}));
    if (!received || *received == 0) {
      fail(stream, describe(received));
      co_return false;
    }
    if (reply != probe.front()) {
      fail(stream, "the echo differs from what was sent");
      co_return false;
    }
    co_return true;
  }

  // The timed part: at the deadline every connection closes, which ends its tasks.
  void measure() {
    deadline_ = shared_.start + std::chrono::duration_cast<SteadyClock::duration>(shared_.duration);
    const auto alarm = loop_.call_later(deadline_ - SteadyClock::now(), [this] {
      time_up_ = true;
      for (auto& stream : streams_)
        stream.close();
    });
    for (std::size_t i = 0; i < streams_.size(); ++i) {
      const std::uint64_t id = first_ + i;
      if (shared_.options.mode == Mode::pingpong) {
        start(ping_pong(streams_[i], id, shared_.budget(id)));
      } else {
        start(write_stream(streams_[i], id, shared_.budget(id)));
        start(read_stream(streams_[i], id, shared_.budget(id)));
      }
    }
    run_tasks();
    loop_.cancel(alarm);
    tally_.end = SteadyClock::now();
  }

  Task<> ping_pong(Stream& stream, std::uint64_t id, std::uint64_t budget) {
    const std::size_t size = shared_.options.size;
    std::vector<char> reply(size);
    for (std::uint64_t round = 0; round < budget && !time_up(); ++round) {
      const auto message = shared_.pattern.window(Pattern::origin(id) + round * size, size);
      auto sent = co_await stream.write_all(message);
      if (!sent) {
        fail(stream, "write: " + sent.error().message());
        co_return;
      }
      for (std::size_t got = 0; got < size;) {
        auto received = co_await stream.read_some(std::span(reply).subspan(got));
        if (!received || *received == 0) {
          fail(stream, describe(received));
          co_return;
        }
        got += *received;
      }
      if (!std::equal(reply.begin(), reply.end(), message.begin())) {
        fail(stream, "the echo differs from what was sent");
        co_return;
      }
      ++tally_.done;
    }
  }

  Task<> write_stream(Stream& stream, std::uint64_t id, std::uint64_t budget) {
    for (std::uint64_t sent = 0; sent < budget && !time_up();) {
      const std::size_t length = std::min<std::uint64_t>(shared_.options.chunk, budget - sent);
      auto written =
          co_await stream.write_all(shared_.pattern.window(Pattern::origin(id) + sent, length));
      if (!written) {
        fail(stream, "write: " + written.error().message());
        co_return;
      }
      sent += length;
    }
  }

  Task<> read_stream(Stream& stream, std::uint64_t id, std::uint64_t budget) {
    std::vector<char> buffer(shared_.options.chunk);
    for (std::uint64_t received = 0; received < budget && !time_up();) {
      const std::size_t room = std::min<std::uint64_t>(buffer.size(), budget - received);
      auto got = co_await stream.read_some(std::span(buffer).first(room));
      if (!got || *got == 0) {
        fail(stream, describe(got));
        co_return;
      }
      const auto expected = shared_.pattern.window(Pattern::origin(id) + received, *got);
      const auto [differs, _] = std::mismatch(expected.begin(), expected.end(), buffer.begin());
      if (differs != expected.end()) {
        const auto at = received + static_cast<std::uint64_t>(differs - expected.begin());
        fail(stream, "the echo differs from what was sent at byte " + std::to_string(at));
        co_return;
      }
      received += *got;
      tally_.done += *got;
    }
  }

  Shared& shared_;
  std::size_t first_;
  std::size_t wanted_;
  std::size_t next_ = 0;
  bool time_up_ = false;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  EventLoop loop_;
  sockit::TaskGroup tasks_{loop_};
  std::vector<Stream> streams_;  // declared after loop_: they close before it goes
  Tally tally_;
};

// The threads' tallies added up; end is the latest.
Tally sum(const std::vector<std::unique_ptr<Worker>>& workers) {
  Tally total;
  for (const auto& worker : workers) {
    const Tally& tally = worker->tally();
    total.conns += tally.conns;
    total.done += tally.done;
    total.errors += tally.errors;
    if (total.first_error.empty()) total.first_error = tally.first_error;
    total.end = std::max(total.end, tally.end);
  }
  return total;
}

void print_result(const Options& options, std::size_t threads, const Tally& total,
                  SteadyClock::time_point start) {
  const double seconds = std::max(0.0, std::chrono::duration<double>(total.end - start).count());
  const double rate = seconds > 0 ? static_cast<double>(total.done) / seconds : 0;
  std::cout << std::fixed;
  if (options.mode == Mode::pingpong) {
    std::cout << "mode=pingpong conns=" << total.conns << " threads=" << threads
              << std::setprecision(2) << " seconds=" << seconds << " roundtrips=" << total.done
              << std::setprecision(1) << " rate=" << rate;
  } else {
    std::cout << "mode=stream conns=" << total.conns << " threads=" << threads
              << std::setprecision(2) << " seconds=" << seconds << " bytes=" << total.done
              << std::setprecision(1) << " mb_per_s=" << rate / 1e6;
  }
  std::cout << " errors=" << total.errors << std::endl;
}

void print_idle(const Tally& total) {
  std::cout << "mode=idle conns=" << total.conns << " errors=" << total.errors << std::endl;
}

// Holds the idle connections open until SIGTERM, SIGINT or the hold time.
void hold(EventLoop& holder, Duration limit) {
  holder.call_later(limit, [&holder] { holder.stop(); });
  holder.run();
}

int run(const Options& options) {
  const std::size_t threads = std::min(options.threads, options.conns);
  Shared shared(options, threads + 1);
  std::optional<EventLoop> holder;
  if (options.mode == Mode::idle) {
    // Before any thread starts, so that all of them inherit the blocked signals.
    holder.emplace();
    holder->on_signals({SIGTERM, SIGINT}, [&holder](int) { holder->stop(); });
  }
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    const std::size_t first = options.conns * t / threads;
    const std::size_t last = options.conns * (t + 1) / threads;
    workers.push_back(std::make_unique<Worker>(shared, first, last - first));
  }
  {
    std::vector<std::jthread> running;
    for (auto& worker : workers)
      running.emplace_back([&worker] { worker->run(); });
    shared.sync.arrive_and_wait();
    if (holder) {
      print_idle(sum(workers));
      hold(*holder, sockit::tools::parse_duration(options.hold));
      shared.sync.arrive_and_wait();
    }
  }
  const Tally total = sum(workers);
  if (!holder) print_result(options, threads, total, shared.start);
  if (total.errors > 0) std::cerr << "echo_load: first error: " << total.first_error << '\n';
  return total.errors > 0 ? 1 : 0;
}

void declare(CLI::App& app, Options& options) {
  app.add_option_function<std::string>(
         "mode",
         [&options](const std::string& name) {
           options.mode = name == "stream" ? Mode::stream
                          : name == "idle" ? Mode::idle
                                           : Mode::pingpong;
         },
         "What each connection does")
      ->required()
      ->check(CLI::IsMember({"pingpong", "stream", "idle"}));
  app.add_option("--host", options.host, "Server address")->capture_default_str();
  app.add_option("-p,--port", options.port, "Server port")->required();
  app.add_option("-c,--conns", options.conns, "Connections")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("-t,--threads", options.threads, "Threads, each with its own event loop")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
      ->capture_default_str();
  app.add_option("-d,--duration", options.duration, "How long pingpong and stream run")
      ->check(sockit::tools::duration_validator())
      ->capture_default_str();
  app.add_option("-n,--count", options.count,
                 "Most round trips (pingpong) or bytes echoed (stream) in all")
      ->check(CLI::PositiveNumber);
  app.add_option("--size", options.size, "pingpong message bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--chunk", options.chunk, "stream write bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option("--timeout", options.timeout, "Bounds each connect and idle's one-byte echo")
      ->check(sockit::tools::duration_validator())
      ->capture_default_str();
  app.add_option("--hold", options.hold, "Most time idle holds its connections")
      ->check(sockit::tools::duration_validator())
      ->capture_default_str();
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"echo_load: load for an echo server, for bench/echo.sh", "echo_load"};
  declare(app, options);
  return sockit::tools::run_main(app, argc, argv, [&] {
    // Ten thousand idle connections need more descriptors than the usual soft limit of 1024.
    sockit::raise_open_file_limit();
    return run(options);
  });
}
