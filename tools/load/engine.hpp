// The engine of sockit bench: connections spread over event loops (one per thread), each a
// coroutine that sends a request, reads the whole response and records how long it took.
//
// A run ends after an exact number of requests (claimed from a shared count, so that -n 1000
// sends exactly 1,000) or at a deadline, when every connection is closed where it stands.
// With a rate, each connection sends on a fixed schedule and a request's latency runs from
// when it should have been sent, so a stalled server shows in the percentiles as the wait of
// every request it held up (coordinated omission corrected, as wrk2 does); without one, a
// stall costs only the one request that met it.
//
// A TLS target's connections speak through the library's AsyncTlsStream, one handshake per
// connection (so one per request without keep-alive); with tls_resume a connection offers the
// session of its slot's previous connection, and the report counts the resumed handshakes.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "load/histogram.hpp"
#include "sockit/endpoint.hpp"
#include "sockit/tls.hpp"

namespace sockit::tools::load {

using Seconds = std::chrono::duration<double>;

enum class ErrorKind : std::uint8_t { connect, read, write, timeout, malformed };
inline constexpr std::size_t kErrorKinds = 5;
std::string_view to_string(ErrorKind kind) noexcept;

enum class Protocol : std::uint8_t { http, tcp, udp };

// One place the load goes to, resolved before the run.
struct Target {
  Protocol protocol = Protocol::http;
  std::string name;  // as the user wrote it
  Endpoint endpoint;
  // http: one request, sent as it is; tcp and udp: the payload, echoed back.
  std::string message;
  std::string method = "GET";  // http: how to read the reply (HEAD has no body)
  // http and tcp: a client context to speak TLS with (null: in the clear), and the name the
  // server's certificate must carry.
  std::shared_ptr<const TlsContext> tls;
  std::string server_name;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string authority;             // the Host header's value
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  bool keep_alive = true;
};

// The request's bytes: the request line, Host (unless headers carry one), the headers,
// Content-Length when there is a body (or the method usually has one), and
// "Connection: close" without keep-alive.
std::string build_request(const HttpRequest& request);

struct LoadOptions {
  std::vector<Target> targets;  // connection i goes to targets[i % size]
  std::size_t connections = 10;
  std::size_t threads = 1;
  std::uint64_t requests = 0;  // 0: until the duration ends
  Seconds duration{0};         // 0: until the requests are made
  bool keep_alive = true;      // false: a new connection per request
  std::size_t pipeline = 1;    // requests written at once on a connection (http only)
  double rate = 0;             // requests per second in all; 0: as fast as replies come
  Seconds timeout{10};         // bounds each connect, write and wait for a reply
  Seconds warmup{0};           // load not recorded (nor counted in requests) first
  bool tls_resume = false;     // a connection offers the session of its slot's previous one
};

struct Results {
  void merge(const Results& other);
  std::uint64_t errors() const noexcept;
  // Responses outside 200-399.
  std::uint64_t non_success() const noexcept;

  // From when each request was due (with a rate, its place in the schedule; else the moment
  // its connection was free, so a connect it needed is included, as ab counts it) to its
  // response complete, and to the response's first byte.
  Histogram latency;
  Histogram first_byte;
  Histogram connect;           // connect() to established
  Histogram handshake;         // TLS: established to the handshake done
  std::uint64_t resumed = 0;   // handshakes that resumed a session
  std::uint64_t requests = 0;  // answered with a complete response
  std::uint64_t bytes = 0;     // read, heads included
  std::array<std::uint64_t, 600> statuses{};
  std::array<std::uint64_t, kErrorKinds> error_counts{};
  std::array<std::string, kErrorKinds> first_errors;  // an example of each kind
  std::vector<std::uint64_t> per_second;  // responses completed in each second of the run
  Seconds elapsed{0};                     // the measured part, warmup excluded
};

// What the progress line reads while a run goes on (from another thread).
struct Progress {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
};

// Runs the load to its end. tick runs on the calling thread every tick_every while it does.
Results run_load(const LoadOptions& options,
                 const std::function<void(const Progress&, Seconds)>& tick, Seconds tick_every);

}  // namespace sockit::tools::load
