// The engine of sockit scan: TCP connect probes on event loops (one per core), a bounded
// window of sockets refilled as each probe ends, per-host timeouts that follow the measured
// round trips, retries of unanswered probes, and a rate cap.
//
// A probe ends open (the connect succeeded, and not to itself), closed (refused by a TCP
// reset) or filtered (an ICMP error, or no answer in time). Sockets are reused from probe to
// probe and dissolved with connect(AF_UNSPEC), which resets an open connection: a scan leaves
// no TIME_WAIT behind, however many ports it opens.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "scan/targets.hpp"
#include "sockit/socket.hpp"

namespace sockit::tools::scan {

enum class State : std::uint8_t { open, closed, filtered };

// Why a port is in its state, named as nmap's --reason names it.
enum class Reason : std::uint8_t {
  syn_ack,           // open: the connect succeeded
  conn_refused,      // closed: a TCP reset
  self_connect,      // closed: the connect met itself (TCP simultaneous open), no listener
  no_response,       // filtered: nothing came back, retries included
  port_unreach,      // filtered: ICMP port unreachable
  host_unreach,      // filtered: ICMP host unreachable (or the neighbour did not answer)
  net_unreach,       // filtered: ICMP network unreachable, or no route
  admin_prohibited,  // filtered: ICMP administratively prohibited
  icmp_other,        // filtered: another ICMP error
};

std::string_view to_string(State state) noexcept;
std::string_view to_string(Reason reason) noexcept;

struct Timing {
  using Seconds = std::chrono::duration<double>;
  Seconds initial_timeout{1.0};  // before a host has answered anything
  Seconds min_timeout{0.1};
  Seconds max_timeout{10.0};
  unsigned max_retries = 2;  // for probes that got no answer
};

struct ScanOptions {
  std::vector<std::uint16_t> ports;
  Timing timing;
  double rate = 0;          // connects per second, all loops together; 0: no cap
  bool sequential = false;  // hosts in order, ports ascending; else both shuffled
  std::size_t window = 0;   // sockets in flight, all loops together; 0: from RLIMIT_NOFILE
  std::size_t threads = 0;  // event loops; 0: one per core
  bool banner = false;
  Timing::Seconds banner_wait{1.0};
  // Ports to greet with an HTTP HEAD at once (besides 80, 8000, 8008, 8080, 8888).
  std::function<bool(std::uint16_t)> is_http;
  bool keep_closed = false;  // keep every result, not only the open ports
};

struct PortResult {
  std::uint32_t host = 0;  // index into the scan's hosts
  std::uint16_t port = 0;
  State state = State::filtered;
  Reason reason = Reason::no_response;
  float latency_ms = 0;  // of the connect that decided the state (0 when none did)
  std::string banner;    // --banner: the greeting, or an HTTP status line and Server
};

struct Counts {
  std::uint64_t open = 0;
  std::uint64_t closed = 0;
  std::uint64_t filtered = 0;
  std::uint64_t total() const noexcept { return open + closed + filtered; }
  Counts& operator+=(const Counts& other) noexcept {
    open += other.open;
    closed += other.closed;
    filtered += other.filtered;
    return *this;
  }
};

struct ScanReport {
  std::vector<PortResult> results;  // sorted by host, then port
  Counts counts;
  std::vector<Counts> host_counts;  // per host
  std::uint64_t planned = 0;        // hosts x ports
  std::chrono::duration<double> elapsed{};
  bool interrupted = false;
  // Per host: the smoothed round trip and its variation (seconds), as nmap's <times>.
  std::vector<std::pair<double, double>> round_trips;
};

// What the progress display reads while a scan runs (from another loop's thread).
struct Progress {
  std::atomic<std::uint64_t> done{0};
  std::uint64_t planned = 0;
};

// The window a scan gets when none is asked for: the descriptors RLIMIT_NOFILE allows (the
// soft limit raised to the hard one first), less a reserve, at most kMaxWindow.
inline constexpr std::size_t kMaxWindow = 4096;
std::size_t default_window();

class Scanner {
 public:
  Scanner(const std::vector<Host>& hosts, const ScanOptions& options);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Runs the scan to its end, or until interrupt(). tick runs every tick_every on the first
  // loop's thread while the scan runs (the progress display); on_signal receives SIGINT and
  // SIGTERM there (it should call interrupt()).
  ScanReport run(std::function<void()> tick, std::chrono::duration<double> tick_every,
                 std::function<void(int)> on_signal);
  // Thread-safe: stops issuing probes, abandons the ones in flight; run() returns what ended.
  void interrupt() noexcept;
  const Progress& progress() const noexcept { return progress_; }

 private:
  class Worker;
  struct HostHint;

  const std::vector<Host>& hosts_;
  ScanOptions options_;
  std::unique_ptr<HostHint[]> hints_;
  Progress progress_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<std::uint64_t> next_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace sockit::tools::scan
