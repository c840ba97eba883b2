#include "load/engine.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "sockit/async.hpp"
#include "sockit/async_tls.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/http/response_reader.hpp"
#include "sockit/options.hpp"
#include "sockit/task.hpp"
#include "sockit/task_group.hpp"

namespace sockit::tools::load {
namespace {

using Clock = SteadyClock;
using sockit::http::ReadBuffer;
using sockit::http::ResponseReader;

// Room for the largest head the parser accepts (64 KiB) and a read after it.
constexpr std::size_t kBufferSize = 96 * 1024;
constexpr std::size_t kStatusSlots = 600;

std::uint64_t microseconds(Clock::duration elapsed) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

ErrorKind kind_of(std::error_code error, ErrorKind otherwise) {
  return error == std::errc::timed_out ? ErrorKind::timeout : otherwise;
}

// What every thread reads, and the count of requests they share.
struct Shared {
  explicit Shared(const LoadOptions& opts)
      : options(opts),
        start(Clock::now()),
        measure_start(start + std::chrono::duration_cast<Clock::duration>(opts.warmup)),
        deadline(opts.duration.count() > 0
                     ? measure_start + std::chrono::duration_cast<Clock::duration>(opts.duration)
                     : Clock::time_point::max()) {}

  const LoadOptions& options;
  Clock::time_point start;          // the load begins, warmup included
  Clock::time_point measure_start;  // recording begins
  Clock::time_point deadline;
  std::atomic<std::uint64_t> claimed{0};
  Progress progress;
};

// One thread's connections, [first, first + count) of the run's, on its own loop.
class Worker {
 public:
  Worker(Shared& shared, std::size_t first, std::size_t count)
      : shared_(shared),
        options_(shared.options),
        first_(first),
        streams_(count),
        tls_(count),
        sessions_(count),
        datagrams_(count) {}

  void run() {
    TaskGroup connections(loop_);
    try {
      if (shared_.deadline != Clock::time_point::max()) {
        loop_.call_later(shared_.deadline - Clock::now(), [this] { stop_all(); });
      }
      for (std::size_t i = 0; i < streams_.size(); ++i)
        connections.spawn(recorded(connection(i)));
    } catch (const std::exception& e) {
      record_error(ErrorKind::connect, e.what(), shared_.measure_start, 1);
    }
    sockit::spawn(loop_, stop_after(connections));
    loop_.run();
    const auto end = std::min(Clock::now(), shared_.deadline);
    results_.elapsed = std::max(Seconds(0), Seconds(end - shared_.measure_start));
  }

  const Results& results() const noexcept { return results_; }

 private:
  void stop_all() noexcept {
    time_up_ = true;
    for (auto& stream : streams_)
      if (stream) stream->close();
    for (auto& datagram : datagrams_)
      if (datagram) datagram->close();
  }

  bool time_up(Clock::time_point now) const noexcept { return time_up_ || now >= shared_.deadline; }

  // A connection's task, with a failure counted as an error of the run rather than reported.
  Task<> recorded(Task<> task) {
    try {
      co_await std::move(task);
    } catch (const std::exception& e) {
      record_error(ErrorKind::connect, e.what(), Clock::now(), 1);
    }
  }

  // The loop runs until every connection has ended.
  Task<> stop_after(TaskGroup& connections) {
    co_await connections.join();
    loop_.stop();
  }

  // How many of up to wanted requests a connection may send now; 0 once the run is over.
  // Warmup requests do not count against the total.
  std::size_t claim(std::size_t wanted, Clock::time_point now) {
    if (time_up(now)) return 0;
    const std::uint64_t total = options_.requests;
    if (total == 0 || now < shared_.measure_start) return wanted;
    std::uint64_t seen = shared_.claimed.load(std::memory_order_relaxed);
    std::uint64_t take = 0;
    do {
      if (seen >= total) return 0;
      take = std::min<std::uint64_t>(wanted, total - seen);
    } while (!shared_.claimed.compare_exchange_weak(seen, seen + take, std::memory_order_relaxed));
    return static_cast<std::size_t>(take);
  }

  // first_byte and end: when the reply's first and last bytes were read. status: the HTTP
  // status; 0 for echo targets, which have none.
  void record_success(Clock::time_point due, Clock::time_point first_byte, Clock::time_point end,
                      int status) {
    shared_.progress.requests.fetch_add(1, std::memory_order_relaxed);
    // A reply that lands after the deadline is left out, as the requests still in flight are.
    if (due < shared_.measure_start || end >= shared_.deadline) return;
    results_.latency.record(microseconds(end - due));
    results_.first_byte.record(microseconds(first_byte - due));
    ++results_.requests;
    if (status > 0)
      ++results_.statuses[std::min(static_cast<std::size_t>(status), kStatusSlots - 1)];
    const auto second = static_cast<std::size_t>(
        std::chrono::duration_cast<std::chrono::seconds>(end - shared_.measure_start).count());
    if (second >= results_.per_second.size()) results_.per_second.resize(second + 1, 0);
    ++results_.per_second[second];
  }

  void record_error(ErrorKind kind, std::string_view why, Clock::time_point due,
                    std::uint64_t count) {
    shared_.progress.errors.fetch_add(count, std::memory_order_relaxed);
    if (due < shared_.measure_start) return;
    const auto index = static_cast<std::size_t>(kind);
    results_.error_counts[index] += count;
    if (results_.first_errors[index].empty()) results_.first_errors[index] = why;
  }

  // Counts bytes read at read_at, unless the warm-up was still on then.
  void record_bytes(std::size_t count, Clock::time_point read_at) {
    if (read_at >= shared_.measure_start) results_.bytes += count;
  }

  // When a connection's request is due: now, or on its schedule with a rate (each
  // connection sends every connections/rate seconds, the connections staggered).
  struct Schedule {
    Clock::time_point next;
    Clock::duration interval;
  };

  Schedule schedule_of(std::size_t slot) const {
    const double rate = options_.rate;
    if (rate <= 0) return {};
    const auto global = static_cast<double>(first_ + slot);
    return {shared_.start + std::chrono::duration_cast<Clock::duration>(Seconds(global / rate)),
            std::chrono::duration_cast<Clock::duration>(
                Seconds(static_cast<double>(options_.connections) / rate))};
  }

  // Sleeps until the connection's next request is due (at once without a rate, and never past
  // the deadline); due is when it is.
  Sleep pace(Schedule& schedule, Clock::time_point& due) {
    const auto now = Clock::now();
    due = now;
    if (options_.rate <= 0) return sockit::sleep(loop_, Seconds(0));
    due = schedule.next;
    schedule.next += schedule.interval;
    return sockit::sleep(loop_, std::min(due, shared_.deadline) - now);
  }

  const Target& target_of(std::size_t slot) const {
    return options_.targets[(first_ + slot) % options_.targets.size()];
  }

  // Why open() failed: the step, and the error.
  struct OpenFailure {
    std::string_view step;
    std::error_code error;
    explicit operator bool() const noexcept { return static_cast<bool>(error); }
  };

  // Connects streams_[slot] to the target, and completes the TLS handshake when it speaks
  // TLS; records the connect and handshake times.
  Task<OpenFailure> open(std::size_t slot, const Target& target) {
    const Endpoint& endpoint = target.endpoint;
    auto socket = Socket::try_create_nonblocking(endpoint.family(), Type::stream);
    if (!socket) co_return OpenFailure{"connect", socket.error()};
    const bool tcp = endpoint.family() != Family::local;
    // Every target here speaks first, at once: the handshake's last ACK rides on the first
    // request, one segment fewer for both ends per connection.
    if (tcp) {
      if (auto set = socket->try_set(opt::defer_accept{std::chrono::seconds(1)}); !set) {
        co_return OpenFailure{"connect", set.error()};
      }
    }
    auto& stream = streams_[slot];
    stream.emplace(loop_, std::move(*socket));
    const auto begin = Clock::now();
    if (auto connected = co_await with_timeout(options_.timeout, stream->connect(endpoint));
        !connected) {
      stream->close();
      co_return OpenFailure{"connect", connected.error()};
    }
    // Pipelined requests go out as soon as a reply frees their place; Nagle would hold them
    // back. One request at a time meets no unacknowledged data, so it goes out regardless.
    if (options_.pipeline > 1 && tcp) {
      if (auto set = stream->socket().try_set(opt::no_delay{true}); !set) {
        stream->close();
        co_return OpenFailure{"connect", set.error()};
      }
    }
    const auto connected_at = Clock::now();
    if (begin >= shared_.measure_start) results_.connect.record(microseconds(connected_at - begin));
    if (target.tls) co_return co_await handshake(slot, target, connected_at);
    co_return OpenFailure{};
  }

  Task<OpenFailure> handshake(std::size_t slot, const Target& target, Clock::time_point begin) {
    auto& tls = tls_[slot];
    tls.emplace(*streams_[slot], *target.tls, target.server_name);
    if (options_.tls_resume) tls->engine().set_session(sessions_[slot]);
    if (auto done = co_await with_timeout(options_.timeout, tls->handshake()); !done) {
      close(slot);
      co_return OpenFailure{"TLS handshake", done.error()};
    }
    if (begin >= shared_.measure_start) {
      results_.handshake.record(microseconds(Clock::now() - begin));
      if (tls->engine().session_reused()) ++results_.resumed;
    }
    co_return OpenFailure{};
  }

  // Ends the slot's connection. A TLS session that was established says close_notify (without
  // waiting for the answer), which also keeps it resumable, and is kept for the slot's next
  // connection when sessions are resumed.
  void close(std::size_t slot) {
    auto& stream = streams_[slot];
    if (auto& tls = tls_[slot]) {
      // A stream that stop_all closed has no descriptor any more (its number may be another's).
      if (stream->is_open() && tls->engine().handshake_done()) {
        static_cast<void>(tls->engine().shutdown());
        if (options_.tls_resume) {
          if (auto session = tls->engine().session()) sessions_[slot] = std::move(session);
        }
      }
      tls.reset();
    }
    if (stream) stream->close();
  }

  // A connection's reads and writes, bounded by the timeout, through its TLS session when its
  // target speaks TLS. Each connection's code is made for its transport, so the plain path
  // awaits its stream directly, as it did before TLS.
  template <bool secure>
  auto read_some(std::size_t slot, std::span<char> buffer) {
    if constexpr (secure) {
      return with_timeout(options_.timeout, tls_[slot]->read_some(buffer));
    } else {
      return with_timeout(options_.timeout, streams_[slot]->read_some(buffer));
    }
  }

  template <bool secure>
  auto write_all(std::size_t slot, std::string_view data) {
    if constexpr (secure) {
      return with_timeout(options_.timeout, tls_[slot]->write_all(data));
    } else {
      return with_timeout(options_.timeout, streams_[slot]->write_all(data));
    }
  }

  // open() for a request due at due: false when it failed (counted for each of the batch's
  // requests unless the run is over).
  Task<bool> reconnect(std::size_t slot, const Target& target, Clock::time_point due,
                       std::size_t batch) {
    const auto failed = co_await open(slot, target);
    if (failed && !time_up_) {
      record_error(kind_of(failed.error, ErrorKind::connect),
                   std::string(failed.step) + ": " + failed.error.message(), due, batch);
    }
    co_return !failed;
  }

  Task<> connection(std::size_t slot) {
    const Target& target = target_of(slot);
    const bool secure = target.tls != nullptr;
    switch (target.protocol) {
      case Protocol::http:
        if (secure) {
          co_await http_connection<true>(slot, target);
        } else {
          co_await http_connection<false>(slot, target);
        }
        break;
      case Protocol::tcp:
        if (secure) {
          co_await stream_echo_connection<true>(slot, target);
        } else {
          co_await stream_echo_connection<false>(slot, target);
        }
        break;
      case Protocol::udp:
        co_await datagram_echo_connection(slot, target);
        break;
    }
  }

  // tcp://: the payload, and its echo read back whole and compared.
  template <bool secure>
  Task<> stream_echo_connection(std::size_t slot, const Target& target) {
    auto& stream = streams_[slot];
    const std::string_view message = target.message;
    std::vector<char> reply(message.size());
    Schedule schedule = schedule_of(slot);
    for (;;) {
      Clock::time_point due;
      static_cast<void>(co_await pace(schedule, due));
      if (claim(1, Clock::now()) == 0) break;
      if ((!stream || !stream->is_open()) && !co_await reconnect(slot, target, due, 1)) continue;
      auto sent = co_await write_all<secure>(slot, message);
      if (!sent) {
        if (time_up_) break;
        record_error(kind_of(sent.error(), ErrorKind::write), "write: " + sent.error().message(),
                     due, 1);
        close(slot);
        continue;
      }
      Clock::time_point first_byte{};
      Clock::time_point last_byte{};
      std::size_t got = 0;
      Result<std::size_t> received{std::size_t{0}};
      while (got < reply.size()) {
        received = co_await read_some<secure>(slot, std::span(reply).subspan(got));
        if (!received || *received == 0) break;
        last_byte = Clock::now();
        if (got == 0) first_byte = last_byte;
        got += *received;
        record_bytes(*received, last_byte);
      }
      if (got == reply.size() && std::equal(reply.begin(), reply.end(), message.begin())) {
        record_success(due, first_byte, last_byte, 0);
        if (!options_.keep_alive) close(slot);
        continue;
      }
      if (time_up_) break;
      if (got == reply.size()) {
        record_error(ErrorKind::malformed, "malformed response: the echo differs", due, 1);
      } else if (!received) {
        record_error(kind_of(received.error(), ErrorKind::read),
                     "read: " + received.error().message(), due, 1);
      } else {
        record_error(ErrorKind::read, "read: the server closed the connection mid-echo", due, 1);
      }
      close(slot);
    }
    close(slot);
  }

  // udp://: the payload, stamped with a sequence number so that a late echo of an earlier
  // datagram is told apart and skipped, and the echo compared.
  Task<> datagram_echo_connection(std::size_t slot, const Target& target) {
    auto& datagram = datagrams_[slot];
    auto socket = Socket::try_create(target.endpoint.family(), Type::dgram);
    std::error_code failed = socket ? socket->try_connect(target.endpoint).error() : socket.error();
    if (failed) {
      record_error(ErrorKind::connect, "connect: " + failed.message(), Clock::now(), 1);
      co_return;
    }
    datagram.emplace(loop_, std::move(*socket));
    std::string message = target.message;
    std::vector<char> reply(message.size() + 1);
    Endpoint from;
    const std::size_t stamp = std::min(sizeof(std::uint64_t), message.size());
    Schedule schedule = schedule_of(slot);
    for (std::uint64_t sequence = 0;; ++sequence) {
      Clock::time_point due;
      static_cast<void>(co_await pace(schedule, due));
      if (claim(1, Clock::now()) == 0) break;
      for (std::size_t i = 0; i < stamp; ++i)
        message[i] = static_cast<char>(sequence >> (8 * i));
      const auto sent_at = Clock::now();
      auto sent =
          co_await with_timeout(options_.timeout, datagram->sendto(message, target.endpoint));
      if (!sent) {
        if (time_up_) break;
        record_error(kind_of(sent.error(), ErrorKind::write), "write: " + sent.error().message(),
                     due, 1);
        continue;
      }
      for (;;) {
        const auto left = options_.timeout - Seconds(Clock::now() - sent_at);
        auto received = co_await with_timeout(left, datagram->recvfrom(reply, from));
        if (!received) {
          if (!time_up_) {
            record_error(kind_of(received.error(), ErrorKind::read),
                         "read: " + received.error().message(), due, 1);
          }
          break;
        }
        const auto received_at = Clock::now();
        record_bytes(*received, received_at);
        const std::string_view echo(reply.data(), *received);
        if (echo == message) {
          record_success(due, received_at, received_at, 0);
          break;
        }
        const bool earlier = echo.size() == message.size() &&
                             echo.substr(stamp) == std::string_view(message).substr(stamp);
        if (earlier) continue;
        record_error(ErrorKind::malformed, "malformed response: the echo differs", due, 1);
        break;
      }
    }
    datagram->close();
  }

  // Requests one after another (or pipeline at a time) on a connection kept open, or on a
  // new connection each without keep-alive.
  template <bool secure>
  Task<> http_connection(std::size_t slot, const Target& target) {
    auto& stream = streams_[slot];
    ReadBuffer buffer(kBufferSize);
    ResponseReader reader(target.method);
    std::string batch_bytes;
    for (std::size_t i = 0; i < options_.pipeline; ++i)
      batch_bytes += target.message;
    Schedule schedule = schedule_of(slot);
    for (;;) {
      Clock::time_point due;
      static_cast<void>(co_await pace(schedule, due));
      const std::size_t batch = claim(options_.pipeline, Clock::now());
      if (batch == 0) break;
      if (!stream || !stream->is_open()) {
        buffer.clear();
        reader.reset();
        if (!co_await reconnect(slot, target, due, batch)) continue;
      }
      auto sent = co_await write_all<secure>(
          slot, std::string_view(batch_bytes).substr(0, batch * target.message.size()));
      if (!sent) {
        if (time_up_) break;
        record_error(kind_of(sent.error(), ErrorKind::write), "write: " + sent.error().message(),
                     due, batch);
        close(slot);
        continue;
      }
      bool reusable = options_.keep_alive;
      for (std::size_t answered = 0; answered < batch; ++answered) {
        // When the reply's first and last bytes came; a pipelined reply may be here already.
        Clock::time_point first_byte =
            buffer.pending().empty() ? Clock::time_point{} : Clock::now();
        Clock::time_point last_byte = first_byte;
        std::error_code failure;
        bool closed = false;
        auto step = reader.advance(buffer);
        while (step == ResponseReader::Step::more) {
          const auto space = buffer.space();
          auto got = co_await read_some<secure>(slot, space);
          if (!got) {
            failure = got.error();
            break;
          }
          last_byte = Clock::now();
          if (*got == 0) {
            closed = true;
            step =
                reader.finish_at_close() ? ResponseReader::Step::done : ResponseReader::Step::more;
            break;
          }
          if (first_byte == Clock::time_point{}) first_byte = last_byte;
          buffer.commit(*got);
          record_bytes(*got, last_byte);
          step = reader.advance(buffer);
        }
        if (step == ResponseReader::Step::done) {
          record_success(due, first_byte, last_byte, reader.status());
          reusable = reusable && reader.keep_alive() && !closed;
          reader.reset();
          continue;
        }
        if (time_up_) co_return;
        const auto left = batch - answered;
        if (step == ResponseReader::Step::error) {
          record_error(ErrorKind::malformed,
                       "malformed response: " + std::string(http::describe(reader.error())), due,
                       left);
        } else if (failure) {
          record_error(kind_of(failure, ErrorKind::read), "read: " + failure.message(), due, left);
        } else {
          record_error(ErrorKind::read, "read: the server closed the connection mid-response", due,
                       left);
        }
        reusable = false;
        break;
      }
      if (!reusable) close(slot);
    }
    close(slot);
  }

  Shared& shared_;
  const LoadOptions& options_;
  std::size_t first_;
  bool time_up_ = false;
  EventLoop loop_;
  // After loop_: they close before it goes.
  std::vector<std::optional<Stream>> streams_;
  // After streams_: a session goes before its stream.
  std::vector<std::optional<AsyncTlsStream>> tls_;
  std::vector<std::shared_ptr<ssl_session_st>> sessions_;  // the last of each slot, to resume
  std::vector<std::optional<DatagramSocket>> datagrams_;
  Results results_;
};

}  // namespace

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::connect:
      return "connect";
    case ErrorKind::read:
      return "read";
    case ErrorKind::write:
      return "write";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::malformed:
      return "malformed";
  }
  return "?";
}

std::string build_request(const HttpRequest& request) {
  std::string out = request.method + " " + request.target + " HTTP/1.1\r\n";
  bool has_host = false;
  for (const auto& header : request.headers)
    has_host = has_host || http::iequals(header.substr(0, header.find(':')), "host");
  if (!has_host) out += "Host: " + request.authority + "\r\n";
  for (const auto& header : request.headers)
    out += header + "\r\n";
  const bool takes_body =
      request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (!request.body.empty() || takes_body) {
    out += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  if (!request.keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += request.body;
  return out;
}

void Results::merge(const Results& other) {
  latency.merge(other.latency);
  connect.merge(other.connect);
  handshake.merge(other.handshake);
  resumed += other.resumed;
  first_byte.merge(other.first_byte);
  requests += other.requests;
  bytes += other.bytes;
  for (std::size_t i = 0; i < statuses.size(); ++i)
    statuses[i] += other.statuses[i];
  for (std::size_t i = 0; i < kErrorKinds; ++i) {
    error_counts[i] += other.error_counts[i];
    if (first_errors[i].empty()) first_errors[i] = other.first_errors[i];
  }
  if (other.per_second.size() > per_second.size()) per_second.resize(other.per_second.size(), 0);
  for (std::size_t i = 0; i < other.per_second.size(); ++i)
    per_second[i] += other.per_second[i];
  elapsed = std::max(elapsed, other.elapsed);
}

std::uint64_t Results::errors() const noexcept {
  std::uint64_t total = 0;
  for (const auto count : error_counts)
    total += count;
  return total;
}

std::uint64_t Results::non_success() const noexcept {
  std::uint64_t total = 0;
  for (std::size_t status = 0; status < statuses.size(); ++status)
    if (status < 200 || status >= 400) total += statuses[status];
  return total;
}

Results run_load(const LoadOptions& options,
                 const std::function<void(const Progress&, Seconds)>& tick, Seconds tick_every) {
  Shared shared(options);
  const std::size_t threads =
      std::max<std::size_t>(1, std::min(options.threads, options.connections));
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    const std::size_t first = options.connections * t / threads;
    const std::size_t last = options.connections * (t + 1) / threads;
    workers.push_back(std::make_unique<Worker>(shared, first, last - first));
  }
  std::mutex mutex;
  std::condition_variable done;
  std::size_t finished = 0;
  {
    std::vector<std::jthread> running;
    for (auto& worker : workers) {
      running.emplace_back([&worker, &mutex, &done, &finished] {
        worker->run();
        const std::lock_guard lock(mutex);
        ++finished;
        done.notify_one();
      });
    }
    std::unique_lock lock(mutex);
    while (!done.wait_for(lock, tick_every, [&] { return finished == threads; })) {
      lock.unlock();
      if (tick) tick(shared.progress, Clock::now() - shared.start);
      lock.lock();
    }
  }
  Results total;
  for (const auto& worker : workers)
    total.merge(worker->results());
  return total;
}

}  // namespace sockit::tools::load
