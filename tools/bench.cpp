// sockit bench: an HTTP and HTTPS load generator, ab's exact counts, wrk's speed and wrk2's
// constant rate with coordinated omission corrected, in one tool; tcp:// and udp:// targets
// ping-pong a payload with echo servers (tcp:// over TLS with --ssl).
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.hpp"
#include "common.hpp"
#include "load/engine.hpp"
#include "load/report.hpp"
#include "sockit/http/url.hpp"
#include "sockit/io.hpp"
#include "sockit/resolver.hpp"
#include "sockit/tls.hpp"

namespace sockit::tools {
namespace {

using load::Protocol;
using load::Seconds;

constexpr int kStderr = 2;
constexpr double kTick = 1.0;  // seconds between updates of the progress line
constexpr std::string_view kDefaultDuration = "10s";

struct BenchCliOptions {
  std::vector<std::string> urls;
  std::size_t connections = 10;
  std::uint64_t requests = 0;
  std::string duration;
  std::size_t threads = 1;
  bool no_keepalive = false;
  std::string method = "GET";
  std::vector<std::string> headers;
  std::string body;
  std::string body_file;
  std::string timeout = "10s";
  std::size_t pipeline = 1;
  double rate = 0;
  std::string warmup = "0s";
  std::size_t payload = 64;
  std::string format = "wrk";
  bool json = false;
  std::string html;
  std::vector<std::string> fail_if;
  std::string cacert;
  bool insecure = false;
  bool ssl = false;
  bool tls_resume = false;
};

// The client contexts of a run, made once and shared by every connection: https:// offers
// HTTP/1.1 by ALPN, tcp:// --ssl no protocol.
struct TlsContexts {
  explicit TlsContexts(const BenchCliOptions& options)
      : cafile(options.cacert), verify(!options.insecure) {}

  std::shared_ptr<const TlsContext> get(bool http) {
    auto& context = http ? https : tcp;
    if (!context) {
      TlsClientOptions tls;
      tls.cafile = cafile;
      tls.verify = verify;
      if (!http) tls.alpn.clear();
      context = std::make_shared<const TlsContext>(tls);
    }
    return context;
  }

  std::string cafile;
  bool verify;
  std::shared_ptr<const TlsContext> https;
  std::shared_ptr<const TlsContext> tcp;
};

Endpoint resolve_first(const std::string& host, std::uint16_t port, Type type) {
  auto endpoints = try_resolve(Address(host, port), Family::unspec, type);
  if (!endpoints) throw std::runtime_error(host + ": " + endpoints.error().message());
  return endpoints->front();
}

// tcp://host:port or udp://host:port: the payload, echoed back.
load::Target echo_target(const std::string& url, Protocol protocol, std::size_t payload) {
  const auto rest = std::string_view(url).substr(url.find("://") + 3);
  auto address = Address::parse(rest);
  if (!address || address->local) {
    throw std::invalid_argument(url + ": expected " + url.substr(0, 3) + "://HOST:PORT");
  }
  load::Target target;
  target.protocol = protocol;
  target.name = url;
  target.endpoint = resolve_first(address->host, address->port,
                                  protocol == Protocol::udp ? Type::dgram : Type::stream);
  target.server_name = address->host;
  for (std::size_t i = 0; i < payload; ++i)
    target.message += static_cast<char>('a' + i % 26);
  return target;
}

load::Target http_target(const std::string& text, const BenchCliOptions& options,
                         const std::string& body, TlsContexts& tls) {
  auto url = http::Url::parse(text);
  if (!url) throw std::invalid_argument(text + ": " + url.error().message());
  load::HttpRequest request;
  request.method = options.method;
  request.target = url->target;
  request.authority = url->authority();
  request.headers = options.headers;
  request.body = body;
  request.keep_alive = !options.no_keepalive;
  load::Target target;
  target.name = url->to_string();
  target.endpoint = resolve_first(url->host, url->port, Type::stream);
  target.message = load::build_request(request);
  target.method = options.method;
  target.server_name = url->host;
  if (url->is_https()) target.tls = tls.get(true);
  return target;
}

std::string request_body(const BenchCliOptions& options) {
  if (options.body_file.empty()) return options.body;
  std::ifstream file = open_input(options.body_file, "body file");
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

load::LoadOptions load_options(const BenchCliOptions& options) {
  if (options.rate > 0 && options.pipeline > 1) {
    throw std::invalid_argument("--rate and --pipeline do not go together");
  }
  load::LoadOptions load;
  const std::string body = request_body(options);
  TlsContexts tls(options);
  bool ssl_used = false;
  for (const auto& url : options.urls) {
    if (url.starts_with("tcp://")) {
      load.targets.push_back(echo_target(url, Protocol::tcp, options.payload));
      if (options.ssl) load.targets.back().tls = tls.get(false);
      ssl_used = ssl_used || options.ssl;
    } else if (url.starts_with("udp://")) {
      load.targets.push_back(echo_target(url, Protocol::udp, options.payload));
    } else {
      load.targets.push_back(http_target(url, options, body, tls));
    }
  }
  if (options.ssl && !ssl_used) throw std::invalid_argument("--ssl applies to tcp:// targets");
  if (options.tls_resume && !tls.https && !tls.tcp) {
    throw std::invalid_argument("--tls-resume needs an https:// target, or tcp:// with --ssl");
  }
  load.tls_resume = options.tls_resume;
  load.connections = options.connections;
  load.threads = std::min(options.threads, options.connections);
  load.requests = options.requests;
  const bool by_count = options.requests > 0 && options.duration.empty();
  load.duration =
      by_count ? Seconds(0)
               : parse_duration(options.duration.empty() ? kDefaultDuration : options.duration);
  load.keep_alive = !options.no_keepalive;
  load.pipeline = options.pipeline;
  load.rate = options.rate;
  load.timeout = parse_duration(options.timeout);
  load.warmup = parse_duration(options.warmup);
  return load;
}

// "  3s  41235 requests/s  0 errors" on stderr, rewritten in place.
class ProgressLine {
 public:
  void tick(const load::Progress& progress, Seconds elapsed) {
    const auto requests = progress.requests.load(std::memory_order_relaxed);
    const auto errors = progress.errors.load(std::memory_order_relaxed);
    const double span = (elapsed - last_elapsed_).count();
    const double rate = span > 0 ? static_cast<double>(requests - last_requests_) / span : 0;
    std::cerr << fmt::format("\r  {:.0f}s  {:.0f} requests/s  {} errors\x1b[K", elapsed.count(),
                             rate, errors)
              << std::flush;
    last_requests_ = requests;
    last_elapsed_ = elapsed;
    shown_ = true;
  }
  void clear() const {
    if (shown_) std::cerr << "\r\x1b[K" << std::flush;
  }

 private:
  std::uint64_t last_requests_ = 0;
  Seconds last_elapsed_{0};
  bool shown_ = false;
};

// Every connection is a descriptor: -c beyond the open-file limit (raised to its hard limit
// first) could only fail connections, so it is refused with the numbers.
void check_open_file_limit(const load::LoadOptions& load) {
  // Besides the connections: each loop's epoll and wake-up descriptors, stdio and a few
  // files (the HTML report, the resolver's).
  constexpr std::uint64_t kSpareDescriptors = 16;
  const std::uint64_t needed = load.connections + 2 * load.threads + kSpareDescriptors;
  const std::uint64_t limit = raise_open_file_limit();
  if (needed > limit) {
    throw std::invalid_argument(
        fmt::format("-c {} needs {} open files, and the limit is {} (ulimit -n)", load.connections,
                    needed, limit));
  }
}

// "; first: TLS handshake: certificate verify failed: ...": why a run that completed nothing
// failed, so that it shows without the report; empty without errors.
std::string first_error(const load::Results& results) {
  for (const auto& error : results.first_errors)
    if (!error.empty()) return "; first: " + error;
  return {};
}

int run_bench(const BenchCliOptions& options) {
  std::vector<load::Threshold> thresholds;
  for (const auto& text : options.fail_if)
    thresholds.push_back(load::Threshold::parse(text));
  const auto load_opts = load_options(options);
  check_open_file_limit(load_opts);
  std::ofstream html;
  if (!options.html.empty()) html = open_output(options.html);

  ProgressLine progress;
  const bool terminal = is_terminal(kStderr);
  const auto results = load::run_load(
      load_opts,
      [&](const load::Progress& now, Seconds elapsed) {
        if (terminal) progress.tick(now, elapsed);
      },
      Seconds(kTick));
  progress.clear();

  std::vector<std::string> urls;
  for (const auto& target : load_opts.targets)
    urls.push_back(target.name);
  const load::ReportContext context{results, load_opts, urls};
  if (options.json) {
    load::write_json(std::cout, context);
  } else if (options.format == "ab") {
    load::write_ab(std::cout, context);
  } else {
    load::write_summary(std::cout, context);
  }
  check_written(std::cout, "stdout");
  if (!options.html.empty()) {
    load::write_html(html, context);
    check_written(html, options.html);
  }

  int status = 0;
  if (results.requests == 0) {
    print_error("bench", fmt::format("no request completed ({} errors{})", results.errors(),
                                     first_error(results)));
    status = 1;
  }
  for (const auto& threshold : thresholds) {
    if (!threshold.crossed(results)) continue;
    const double value = threshold.measure(results);
    const bool is_count = threshold.metric == "rps" || threshold.metric == "errors" ||
                          threshold.metric == "non2xx" || threshold.metric == "requests";
    print_error("bench",
                fmt::format("--fail-if '{}' failed: {} is {}", threshold.text, threshold.metric,
                            is_count ? fmt::format("{:g}", value) : load::format_duration(value)));
    status = 1;
  }
  return status;
}

}  // namespace

Run setup_bench(CLI::App& app) {
  auto options = std::make_shared<BenchCliOptions>();
  app.add_option("urls", options->urls,
                 "http[s]://host[:port]/path, tcp://host:port or udp://host:port (several are "
                 "spread over the connections)")
      ->required();
  app.add_option("-c,--connections", options->connections, "Connections kept open (default 10)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  app.add_option("-n,--requests", options->requests, "Exactly this many requests in all")
      ->check(CLI::PositiveNumber);
  app.add_option("-d,--duration", options->duration,
                 "How long to run (default 10s, unless -n is given)")
      ->check(positive_duration_validator());
  app.add_option("-t,--threads", options->threads, "Threads, each with its own event loop")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}));
  app.add_flag("--no-keepalive", options->no_keepalive,
               "A new connection for every request (as ab without -k)");
  app.add_option("-m,--method", options->method, "HTTP method (default GET)");
  app.add_option("-H,--header", options->headers, "An extra header, 'Name: value' (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  auto* body = app.add_option("--body", options->body, "The request body");
  app.add_option("--body-file", options->body_file, "The request body, from a file")
      ->excludes(body);
  app.add_option("--timeout", options->timeout,
                 "Bounds each connect, write and wait for a reply (default 10s)")
      ->check(positive_duration_validator());
  app.add_option("--pipeline", options->pipeline, "Requests written at once per connection")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1024}));
  app.add_option("-R,--rate", options->rate,
                 "Constant requests/s in all; latency counts from when each request was due")
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", options->warmup, "Load first for this long without recording it")
      ->check(duration_validator());
  app.add_option("--payload", options->payload, "tcp:// and udp://: bytes per ping (default 64)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{65000}));
  app.add_option("--format", options->format, "Summary layout: wrk (default) or ab")
      ->check(CLI::IsMember({"wrk", "ab"}));
  app.add_flag("--json", options->json, "The results as JSON on stdout");
  app.add_option("--html", options->html, "Also write a self-contained HTML report to FILE");
  app.add_option(
         "--fail-if", options->fail_if,
         "Exit 1 when a threshold is crossed: 'p99>10ms', 'errors>0', 'non2xx>0', 'rps<5000'")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--cacert", options->cacert, "Trust the CA certificates in this PEM file")
      ->check(CLI::ExistingFile);
  app.add_flag("-k,--insecure", options->insecure,
               "Accept any certificate and host name (no verification)");
  app.add_flag("--ssl", options->ssl, "tcp://: speak TLS (the server's name is verified)");
  app.add_flag("--tls-resume", options->tls_resume,
               "Resume each connection's TLS session on the next (with --no-keepalive, every "
               "request's handshake but the first resumes)");
  return [options] { return run_bench(*options); };
}

}  // namespace sockit::tools
