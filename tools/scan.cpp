// sockit scan: a TCP connect scanner for hosts and ports, the tutorials' port scanners made
// into the tool one would choose over nmap -sT: every target form, every port list, adaptive
// timeouts, a rate cap, banners, and nmap's output formats.
#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.hpp"
#include "common.hpp"
#include "scan/engine.hpp"
#include "scan/ports.hpp"
#include "scan/report.hpp"
#include "scan/targets.hpp"
#include "sockit/io.hpp"

namespace sockit::tools {
namespace {

using scan::ReportContext;

constexpr int kStderr = 2;
constexpr int kExitInterrupted = 130;
constexpr double kTerminalTick = 0.2;  // seconds between updates of the progress line
constexpr std::size_t kDefaultTopPorts = 1000;

struct ScanCliOptions {
  std::vector<std::string> targets;
  std::vector<std::string> input_list;  // -iL: {"L", FILE}
  std::vector<std::string> excludes;
  bool first_address = false;
  bool force = false;
  bool ipv4_only = false;
  bool ipv6_only = false;
  std::string ports;
  std::size_t top_ports = 0;
  double rate = 0;
  bool sequential = false;
  std::size_t window = 0;
  std::size_t threads = 0;
  unsigned max_retries = 2;
  std::string initial_timeout = "1s";
  std::string min_timeout = "100ms";
  std::string max_timeout = "10s";
  bool banner = false;
  std::string banner_wait = "1s";
  bool json = false;
  std::vector<std::string> outputs;  // -oX FILE, -oG FILE, -oN FILE, -oJ FILE: pairs
  bool show_closed = false;
  std::string stats_every;
};

// The scan as the reports' headers name it.
std::string command_line(const ScanCliOptions& options) {
  std::string line = "sockit scan";
  for (const auto& target : options.targets)
    line += " " + target;
  if (!options.input_list.empty()) line += " -iL " + options.input_list.back();
  if (!options.ports.empty()) line += " -p " + options.ports;
  if (options.top_ports > 0) line += " --top-ports " + std::to_string(options.top_ports);
  return line;
}

std::vector<std::string> all_targets(const ScanCliOptions& options) {
  std::vector<std::string> specs = options.targets;
  if (!options.input_list.empty()) {
    if (options.input_list[0] != "L") {
      throw std::invalid_argument("unknown option -i" + options.input_list[0] +
                                  " (did you mean -iL FILE?)");
    }
    const auto listed = scan::read_target_file(options.input_list[1]);
    specs.insert(specs.end(), listed.begin(), listed.end());
  }
  return specs;
}

std::vector<std::uint16_t> port_list(const ScanCliOptions& options,
                                     const scan::Services& services) {
  if (!options.ports.empty() && options.top_ports > 0) {
    throw std::invalid_argument("-p and --top-ports exclude each other");
  }
  if (!options.ports.empty()) return scan::parse_ports(options.ports, services);
  auto top = services.top(options.top_ports > 0 ? options.top_ports : kDefaultTopPorts);
  std::sort(top.begin(), top.end());
  return top;
}

scan::Timing timing(const ScanCliOptions& options) {
  scan::Timing timing;
  timing.initial_timeout = parse_duration(options.initial_timeout);
  timing.min_timeout = parse_duration(options.min_timeout);
  timing.max_timeout = parse_duration(options.max_timeout);
  timing.max_retries = options.max_retries;
  if (timing.min_timeout > timing.max_timeout) {
    throw std::invalid_argument("--min-rtt-timeout is above --max-rtt-timeout");
  }
  return timing;
}

// Where an -o format goes: a file opened before the scan, so that a bad path fails before
// the scan whose results it would hold, or stdout for "-".
struct Output {
  char format;
  std::string path;
  std::unique_ptr<std::ofstream> file;  // none for stdout

  std::ostream& stream() { return file ? *file : std::cout; }
  std::string name() const { return file ? path : "stdout"; }
};

std::vector<Output> outputs(const ScanCliOptions& options) {
  std::vector<Output> list;
  for (std::size_t i = 0; i + 1 < options.outputs.size(); i += 2) {
    const std::string& format = options.outputs[i];
    if (format != "X" && format != "G" && format != "N" && format != "J") {
      throw std::invalid_argument("unknown output -o" + format +
                                  " (use -oN, -oX, -oG or -oJ FILE)");
    }
    const std::string& path = options.outputs[i + 1];
    list.push_back(
        Output{format[0], path,
               path == "-" ? nullptr : std::make_unique<std::ofstream>(open_output(path))});
  }
  return list;
}

void write_format(char format, std::ostream& out, const ReportContext& context) {
  switch (format) {
    case 'X':
      scan::write_xml(out, context);
      break;
    case 'G':
      scan::write_grepable(out, context);
      break;
    case 'J':
      scan::write_json(out, context);
      break;
    default:
      scan::write_table(out, context);
  }
}

// The progress line: rewritten in place on a terminal, one line per period otherwise.
class ProgressDisplay {
 public:
  ProgressDisplay(const scan::Scanner& scanner, bool terminal)
      : scanner_(scanner), terminal_(terminal), started_(std::chrono::steady_clock::now()) {}

  void tick() {
    const auto& progress = scanner_.progress();
    const double done = static_cast<double>(progress.done.load(std::memory_order_relaxed));
    const double planned = static_cast<double>(std::max<std::uint64_t>(progress.planned, 1));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    const double rate = seconds > 0 ? done / seconds : 0;
    const double eta = rate > 0 ? (planned - done) / rate : 0;
    const std::string line =
        fmt::format("sockit scan: {:.1f}% done, {:.0f}/{:.0f} ports, {:.0f} ports/s, ETA {}:{:02}",
                    100 * done / planned, done, planned, rate, static_cast<long>(eta) / 60,
                    static_cast<long>(eta) % 60);
    static_cast<void>(write_all(kStderr, terminal_ ? "\r\033[K" + line : line + "\n"));
    shown_ = true;
  }

  // Clears a terminal's progress line before the results follow.
  void clear() {
    if (terminal_ && shown_) static_cast<void>(write_all(kStderr, "\r\033[K"));
  }

 private:
  const scan::Scanner& scanner_;
  bool terminal_;
  std::chrono::steady_clock::time_point started_;
  bool shown_ = false;
};

int run_scan(const ScanCliOptions& options) {
  const scan::Services services = scan::Services::load();
  const auto ports = port_list(options, services);
  auto output_list = outputs(options);
  scan::TargetOptions target_options;
  target_options.first_address = options.first_address;
  target_options.force = options.force;
  target_options.family = options.ipv4_only   ? Family::inet
                          : options.ipv6_only ? Family::inet6
                                              : Family::unspec;
  std::vector<std::string> excludes;
  for (const auto& list : options.excludes) {
    const auto items = scan::split_list(list);
    excludes.insert(excludes.end(), items.begin(), items.end());
  }
  const auto hosts = scan::expand_targets(all_targets(options), excludes, target_options);

  scan::ScanOptions scan_options;
  scan_options.ports = ports;
  scan_options.timing = timing(options);
  scan_options.rate = options.rate;
  scan_options.sequential = options.sequential;
  scan_options.window = options.window;
  scan_options.threads = options.threads;
  scan_options.banner = options.banner;
  scan_options.banner_wait = parse_duration(options.banner_wait);
  scan_options.keep_closed = options.show_closed;
  scan_options.is_http = [&services](std::uint16_t port) {
    return services.name(port).starts_with("http");
  };
  if (options.window > 0) scan_options.window = std::min(options.window, scan::default_window());

  const bool terminal = is_terminal(kStderr);
  const double stats_every =
      options.stats_every.empty() ? 0 : parse_duration(options.stats_every).count();
  const bool ticking = terminal || stats_every > 0;
  const std::time_t started = std::time(nullptr);

  scan::Scanner scanner(hosts, scan_options);
  ProgressDisplay display(scanner, terminal);
  const auto report = scanner.run(
      [&] {
        if (ticking) display.tick();
      },
      std::chrono::duration<double>(terminal ? kTerminalTick
                                             : (stats_every > 0 ? stats_every : 3600)),
      [&](int) { scanner.interrupt(); });
  display.clear();

  const ReportContext context{
      hosts,         ports, services, report, command_line(options), started, options.show_closed,
      options.banner};
  bool stdout_taken = false;
  for (auto& output : output_list) {
    write_format(output.format, output.stream(), context);
    check_written(output.stream(), output.name());
    stdout_taken = stdout_taken || !output.file;
  }
  if (!stdout_taken) write_format(options.json ? 'J' : 'N', std::cout, context);
  check_written(std::cout, "stdout");
  return report.interrupted ? kExitInterrupted : 0;
}

}  // namespace

Run setup_scan(CLI::App& app) {
  auto options = std::make_shared<ScanCliOptions>();
  app.add_option("targets", options->targets,
                 "Hosts: addresses, names, CIDR blocks (v4 and v6), ranges like 10.0.0.1-50");
  app.add_option("-i", options->input_list, "-iL FILE: read targets from FILE (- for stdin)")
      ->type_size(2)
      ->allow_extra_args(false);
  app.add_option("--exclude", options->excludes, "Targets to leave out (comma-separated)");
  app.add_flag("--first-address", options->first_address,
               "Scan only the first address of each name, not all of them");
  app.add_flag("--force", options->force, "Allow blocks of more than 65,536 hosts");
  app.add_flag("-4", options->ipv4_only, "IPv4 targets only");
  app.add_flag("-6", options->ipv6_only, "IPv6 targets only");
  app.add_option("-p,--ports", options->ports,
                 "Ports: 22,80,1000-2000, - for all, service names (http,ssh)")
      ->check(non_empty("PORTS"));
  app.add_option("--top-ports", options->top_ports, "The N most often open ports")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65535}));
  app.add_option("--rate", options->rate, "At most this many connects per second (0: no cap)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("-r,--sequential", options->sequential,
               "Scan hosts in order and ports ascending (default: random order)");
  app.add_option("--max-parallel", options->window,
                 "Connects in flight at once (default: from the open-file limit, at most 4096)")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options->threads, "Event loops (default: one per core)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}));
  app.add_option("--max-retries", options->max_retries,
                 "Retries of a probe that got no answer (default 2)")
      ->check(CLI::Range(0u, 20u));
  app.add_option("--initial-rtt-timeout", options->initial_timeout,
                 "Timeout before a host's round trip is known (default 1s)")
      ->check(positive_duration_validator());
  app.add_option("--min-rtt-timeout", options->min_timeout, "Shortest timeout (default 100ms)")
      ->check(positive_duration_validator());
  app.add_option("--max-rtt-timeout", options->max_timeout, "Longest timeout (default 10s)")
      ->check(positive_duration_validator());
  app.add_flag("--banner", options->banner,
               "Read what open ports say first; HTTP ports get a HEAD (status and Server)");
  app.add_option("--banner-wait", options->banner_wait,
                 "How long to wait for a banner (default 1s)")
      ->check(positive_duration_validator());
  app.add_flag("--json", options->json,
               "JSON Lines on stdout: one object per port, then a summary");
  app.add_option("-o", options->outputs,
                 "-oN/-oX/-oG/-oJ FILE: table, nmap XML, grepable or JSON Lines to FILE (- stdout)")
      ->type_size(2)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_flag("--show-closed", options->show_closed, "List closed and filtered ports too");
  app.add_option("--stats-every", options->stats_every,
                 "A progress line every DURATION when stderr is not a terminal")
      ->check(positive_duration_validator());
  return [options] { return run_scan(*options); };
}

}  // namespace sockit::tools
