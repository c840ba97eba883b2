#include "load/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>
#include <stdexcept>

#include "sockit/http/static_files.hpp"

namespace sockit::tools::load {
namespace {

constexpr double kUsPerSecond = 1e6;
constexpr double kUsPerMs = 1e3;

double rate(const Results& results, double count) {
  const double seconds = results.elapsed.count();
  return seconds > 0 ? count / seconds : 0;
}

double requests_per_second(const Results& results) {
  return rate(results, static_cast<double>(results.requests));
}

// Whether any target speaks TLS: only then do the reports show handshakes, so that a plain
// run's reports stay as they were.
bool uses_tls(const LoadOptions& options) {
  return std::any_of(options.targets.begin(), options.targets.end(),
                     [](const Target& target) { return target.tls != nullptr; });
}

// "1000 TLS handshakes, 999 resumed".
std::string handshake_line(const Results& results) {
  return fmt::format("{} TLS handshakes, {} resumed", results.handshake.count(), results.resumed);
}

std::string percentile_label(double percentile) {
  return fmt::format("{}", percentile);
}

std::vector<std::pair<int, std::uint64_t>> status_counts(const Results& results) {
  std::vector<std::pair<int, std::uint64_t>> counts;
  for (std::size_t status = 0; status < results.statuses.size(); ++status)
    if (results.statuses[status] > 0)
      counts.emplace_back(static_cast<int>(status), results.statuses[status]);
  return counts;
}

// "connect 2, timeout 1" or "none".
std::string error_line(const Results& results) {
  std::string line;
  for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
    if (results.error_counts[kind] == 0) continue;
    line += fmt::format("{}{} {}", line.empty() ? "" : ", ",
                        to_string(static_cast<ErrorKind>(kind)), results.error_counts[kind]);
  }
  return line.empty() ? "none" : line;
}

std::string load_line(const ReportContext& context) {
  const auto& options = context.options;
  std::string line = fmt::format("  {} thread{} and {} connection{}", options.threads,
                                 options.threads == 1 ? "" : "s", options.connections,
                                 options.connections == 1 ? "" : "s");
  if (options.rate > 0) line += fmt::format(", {:g} requests/s", options.rate);
  if (!options.keep_alive) line += ", a new connection per request";
  if (options.pipeline > 1) line += fmt::format(", {} pipelined", options.pipeline);
  return line;
}

void write_stats_row(std::ostream& out, std::string_view name, const Histogram& histogram) {
  out << fmt::format("    {:<10}{:>10}{:>10}{:>10}{:>10}\n", name,
                     format_duration(histogram.mean()), format_duration(histogram.stddev()),
                     format_duration(static_cast<double>(histogram.percentile(99))),
                     format_duration(static_cast<double>(histogram.max())));
}

nlohmann::json histogram_json(const Histogram& histogram) {
  nlohmann::json percentiles = nlohmann::json::object();
  for (const double p : kPercentiles)
    percentiles[percentile_label(p)] = histogram.percentile(p);
  return {{"count", histogram.count()},  {"min_us", histogram.min()},
          {"mean_us", histogram.mean()}, {"stddev_us", histogram.stddev()},
          {"max_us", histogram.max()},   {"percentiles_us", percentiles}};
}

double ms(std::uint64_t microseconds) {
  return static_cast<double>(microseconds) / kUsPerMs;
}

void write_ab_times(std::ostream& out, std::string_view name, const Histogram& histogram) {
  out << fmt::format("{:<12}{:>6.0f} {:>4.0f} {:>5.1f} {:>6.0f} {:>7.0f}\n", name,
                     ms(histogram.min()), histogram.mean() / kUsPerMs,
                     histogram.stddev() / kUsPerMs, ms(histogram.percentile(50)),
                     ms(histogram.max()));
}

double parse_number(std::string_view text, std::string_view whole) {
  double value = 0;
  const auto* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || rest != end || !std::isfinite(value)) {
    throw std::invalid_argument("--fail-if '" + std::string(whole) + "': not a number: '" +
                                std::string(text) + "'");
  }
  return value;
}

// A duration limit in microseconds: "10ms", "1.5s", "800us", "2m"; a bare number is ms.
double parse_limit_duration(std::string_view text, std::string_view whole) {
  struct Unit {
    std::string_view suffix;
    double scale;
  };
  constexpr Unit kUnits[] = {
      {"us", 1}, {"ms", kUsPerMs}, {"s", kUsPerSecond}, {"m", 60 * kUsPerSecond}};
  for (const auto& unit : kUnits) {
    if (text.ends_with(unit.suffix)) {
      return parse_number(text.substr(0, text.size() - unit.suffix.size()), whole) * unit.scale;
    }
  }
  return parse_number(text, whole) * kUsPerMs;
}

// The charts of the HTML report: inline SVG, drawn here, so the page needs no script.
constexpr double kChartWidth = 640;
constexpr double kChartHeight = 280;
constexpr double kMargin = 40;
constexpr double kLeftMargin = 80;  // room for the value labels
constexpr int kCurveDecades = 5;    // the percentile curve runs to 99.999%
constexpr int kCurveStepsPerDecade = 20;

struct Point {
  double x;  // 0 to 1 across the plot
  double y;  // 0 to 1 up the plot
};

double plot_x(double x) {
  return kLeftMargin + x * (kChartWidth - kLeftMargin - kMargin);
}

double plot_y(double y) {
  return kChartHeight - kMargin - y * (kChartHeight - 2 * kMargin);
}

// An SVG line chart: axes, the labels given at their places (0 to 1), and the points.
std::string svg_chart(std::string_view id, const std::vector<Point>& points,
                      const std::vector<std::pair<double, std::string>>& x_labels,
                      const std::vector<std::pair<double, std::string>>& y_labels) {
  std::string svg = fmt::format(
      R"(<svg id="{}" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">)"
      "\n",
      id, kChartWidth, kChartHeight, kChartWidth, kChartHeight);
  svg += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" class="frame"/>)"
                     "\n",
                     plot_x(0), plot_y(1), plot_x(1) - plot_x(0), plot_y(0) - plot_y(1));
  for (const auto& [x, label] : x_labels) {
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" class="grid"/>)"
                       R"(<text x="{0:.1f}" y="{3:.1f}" text-anchor="middle">{4}</text>)"
                       "\n",
                       plot_x(x), plot_y(0), plot_y(1), plot_y(0) + 18,
                       sockit::http::html_escape(label));
  }
  for (const auto& [y, label] : y_labels) {
    svg += fmt::format(R"(<line x1="{0:.1f}" y1="{2:.1f}" x2="{1:.1f}" y2="{2:.1f}" class="grid"/>)"
                       R"(<text x="{3:.1f}" y="{4:.1f}" text-anchor="end">{5}</text>)"
                       "\n",
                       plot_x(0), plot_x(1), plot_y(y), plot_x(0) - 6, plot_y(y) + 4,
                       sockit::http::html_escape(label));
  }
  std::string path;
  for (const auto& point : points)
    path +=
        fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", plot_x(point.x), plot_y(point.y));
  svg += fmt::format(R"(<polyline points="{}" class="line"/>)"
                     "\n</svg>\n",
                     path);
  return svg;
}

// Five labels from 0 to top.
std::vector<std::pair<double, std::string>> value_labels(double top,
                                                         std::string (*format)(double)) {
  std::vector<std::pair<double, std::string>> labels;
  for (int i = 0; i <= 4; ++i)
    labels.emplace_back(i / 4.0, format(top * i / 4));
  return labels;
}

std::string count_text(double value) {
  return fmt::format("{:.0f}", value);
}

// Latency against percentile, the percentile on a log scale of 1/(1-p) as HdrHistogram
// plots it: 0%, 90%, 99%, 99.9%... equally spaced.
std::string percentile_chart(const Histogram& latency) {
  std::vector<Point> points;
  const double top = std::max(1.0, static_cast<double>(latency.max()));
  constexpr int kSteps = kCurveDecades * kCurveStepsPerDecade;
  for (int step = 0; step <= kSteps; ++step) {
    const double decades = static_cast<double>(step) / kCurveStepsPerDecade;
    const double p = 100 * (1 - std::pow(10.0, -decades));
    points.push_back({decades / kCurveDecades, static_cast<double>(latency.percentile(p)) / top});
  }
  std::vector<std::pair<double, std::string>> x_labels;
  for (int decade = 0; decade <= kCurveDecades; ++decade) {
    x_labels.emplace_back(static_cast<double>(decade) / kCurveDecades,
                          fmt::format("{:g}%", 100 * (1 - std::pow(10.0, -decade))));
  }
  return svg_chart("percentiles", points, x_labels, value_labels(top, format_duration));
}

// Responses completed in each second of the run.
std::string throughput_chart(const std::vector<std::uint64_t>& per_second) {
  std::vector<Point> points;
  const double top = std::max<double>(
      1, static_cast<double>(
             per_second.empty() ? 0 : *std::max_element(per_second.begin(), per_second.end())));
  const double span = std::max<double>(1, static_cast<double>(per_second.size()));
  for (std::size_t second = 0; second < per_second.size(); ++second) {
    points.push_back(
        {static_cast<double>(second) / span, static_cast<double>(per_second[second]) / top});
    points.push_back(
        {static_cast<double>(second + 1) / span, static_cast<double>(per_second[second]) / top});
  }
  std::vector<std::pair<double, std::string>> x_labels;
  for (int i = 0; i <= 4; ++i)
    x_labels.emplace_back(i / 4.0, fmt::format("{:.0f}s", span * i / 4));
  return svg_chart("throughput", points, x_labels, value_labels(top, count_text));
}

constexpr std::string_view kStyle = R"(
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { padding: 2px 12px; text-align: right; border-bottom: 1px solid #ddd; }
th:first-child, td:first-child { text-align: left; }
svg text { font-size: 12px; fill: #444; }
.frame { fill: none; stroke: #888; }
.grid { stroke: #e4e4e4; }
.line { fill: none; stroke: #1f6feb; stroke-width: 2; }
)";

}  // namespace

std::string format_duration(double microseconds) {
  if (microseconds < kUsPerMs) return fmt::format("{:.0f}us", microseconds);
  if (microseconds < kUsPerSecond) return fmt::format("{:.2f}ms", microseconds / kUsPerMs);
  return fmt::format("{:.2f}s", microseconds / kUsPerSecond);
}

std::string format_bytes(double bytes) {
  constexpr const char* kUnits[] = {"B", "KB", "MB", "GB", "TB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f}B", bytes) : fmt::format("{:.2f}{}", bytes, kUnits[unit]);
}

void write_summary(std::ostream& out, const ReportContext& context) {
  const Results& results = context.results;
  const auto& options = context.options;
  const std::string run = options.duration.count() > 0
                              ? fmt::format("{:g}s test", options.duration.count())
                              : fmt::format("{} requests", options.requests);
  out << fmt::format("Running {} @ {}\n", run, fmt::join(context.urls, ", "));
  out << load_line(context) << '\n';
  out << fmt::format("    {:<10}{:>10}{:>10}{:>10}{:>10}\n", "", "Avg", "Stdev", "p99", "Max");
  write_stats_row(out, "Latency", results.latency);
  write_stats_row(out, "Connect", results.connect);
  if (uses_tls(options)) write_stats_row(out, "Handshake", results.handshake);
  write_stats_row(out, "TTFB", results.first_byte);
  out << "  Latency Distribution\n";
  for (const double p : kPercentiles) {
    out << fmt::format("  {:>7}%  {}\n", percentile_label(p),
                       format_duration(static_cast<double>(results.latency.percentile(p))));
  }
  out << fmt::format("  {} requests in {:.2f}s, {} read\n", results.requests,
                     results.elapsed.count(), format_bytes(static_cast<double>(results.bytes)));
  if (uses_tls(options)) out << "  " << handshake_line(results) << '\n';
  std::string statuses;
  for (const auto& [status, count] : status_counts(results))
    statuses += fmt::format("{}{}: {}", statuses.empty() ? "" : ", ", status, count);
  if (!statuses.empty()) out << "  Status codes: " << statuses << '\n';
  // wrk's line, which a failing server's run must not hide among the status codes.
  if (const auto failed = results.non_success(); failed > 0)
    out << fmt::format("  Non-2xx or 3xx responses: {}\n", failed);
  out << "  Errors: " << error_line(results) << '\n';
  for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
    if (!results.first_errors[kind].empty())
      out << "    first " << results.first_errors[kind] << '\n';
  }
  out << fmt::format("Requests/sec: {:>10.2f}\n", requests_per_second(results));
  out << fmt::format("Transfer/sec: {:>10}\n",
                     format_bytes(rate(results, static_cast<double>(results.bytes))));
}

void write_ab(std::ostream& out, const ReportContext& context) {
  const Results& results = context.results;
  const auto& options = context.options;
  const double seconds = results.elapsed.count();
  const double rps = requests_per_second(results);
  out << fmt::format("Document Path:          {}\n", fmt::join(context.urls, ", "));
  out << fmt::format("Concurrency Level:      {}\n", options.connections);
  out << fmt::format("Time taken for tests:   {:.3f} seconds\n", seconds);
  out << fmt::format("Complete requests:      {}\n", results.requests);
  out << fmt::format("Failed requests:        {}\n", results.errors());
  for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
    if (results.error_counts[kind] == 0) continue;
    out << fmt::format("   ({}: {})\n", to_string(static_cast<ErrorKind>(kind)),
                       results.error_counts[kind]);
  }
  if (options.keep_alive) out << fmt::format("Keep-Alive requests:    {}\n", results.requests);
  if (uses_tls(options)) {
    out << fmt::format("TLS handshakes:         {} ({} resumed)\n", results.handshake.count(),
                       results.resumed);
  }
  if (results.non_success() > 0)
    out << fmt::format("Non-2xx responses:      {}\n", results.non_success());
  out << fmt::format("Total transferred:      {} bytes\n", results.bytes);
  out << fmt::format("Requests per second:    {:.2f} [#/sec] (mean)\n", rps);
  out << fmt::format("Time per request:       {:.3f} [ms] (mean)\n",
                     rps > 0 ? static_cast<double>(options.connections) * 1000 / rps : 0);
  out << fmt::format("Time per request:       {:.3f} [ms] (mean, across all concurrent requests)\n",
                     rps > 0 ? 1000 / rps : 0);
  out << fmt::format("Transfer rate:          {:.2f} [Kbytes/sec] received\n\n",
                     rate(results, static_cast<double>(results.bytes)) / 1024);
  out << "Connection Times (ms)\n";
  out << "              min  mean[+/-sd] median   max\n";
  write_ab_times(out, "Connect:", results.connect);
  if (uses_tls(options)) write_ab_times(out, "Handshake:", results.handshake);
  write_ab_times(out, "Waiting:", results.first_byte);
  write_ab_times(out, "Total:", results.latency);
  out << "\nPercentage of the requests served within a certain time (ms)\n";
  for (const double p : {50.0, 66.0, 75.0, 80.0, 90.0, 95.0, 98.0, 99.0}) {
    out << fmt::format("  {:>3}%  {:>6.0f}\n", p, ms(results.latency.percentile(p)));
  }
  out << fmt::format("  100%  {:>6.0f} (longest request)\n", ms(results.latency.max()));
}

void write_json(std::ostream& out, const ReportContext& context) {
  const Results& results = context.results;
  const auto& options = context.options;
  nlohmann::json statuses = nlohmann::json::object();
  for (const auto& [status, count] : status_counts(results))
    statuses[std::to_string(status)] = count;
  nlohmann::json errors = nlohmann::json::object();
  nlohmann::json first_errors = nlohmann::json::object();
  for (std::size_t kind = 0; kind < kErrorKinds; ++kind) {
    const std::string name(to_string(static_cast<ErrorKind>(kind)));
    errors[name] = results.error_counts[kind];
    if (!results.first_errors[kind].empty()) first_errors[name] = results.first_errors[kind];
  }
  nlohmann::json report = {
      {"urls", context.urls},
      {"connections", options.connections},
      {"threads", options.threads},
      {"keep_alive", options.keep_alive},
      {"pipeline", options.pipeline},
      {"rate", options.rate},
      {"seconds", results.elapsed.count()},
      {"requests", results.requests},
      {"bytes", results.bytes},
      {"requests_per_second", requests_per_second(results)},
      {"bytes_per_second", rate(results, static_cast<double>(results.bytes))},
      {"latency", histogram_json(results.latency)},
      {"connect", histogram_json(results.connect)},
      {"first_byte", histogram_json(results.first_byte)},
      {"status_codes", statuses},
      {"errors", errors},
      {"error_total", results.errors()},
      {"first_errors", first_errors},
      {"per_second", results.per_second},
  };
  if (uses_tls(options)) {
    report["handshake"] = histogram_json(results.handshake);
    report["tls_resumed"] = results.resumed;
  }
  out << report.dump(2) << '\n';
}

void write_html(std::ostream& out, const ReportContext& context) {
  const Results& results = context.results;
  const std::string title = fmt::format("sockit bench {}", fmt::join(context.urls, " "));
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
      << sockit::http::html_escape(title) << "</title>\n<style>" << kStyle
      << "</style>\n</head>\n<body>\n";
  out << "<h1>" << sockit::http::html_escape(title) << "</h1>\n<p>"
      << sockit::http::html_escape(load_line(context)) << "</p>\n";
  out << "<table id=\"summary\">\n";
  const auto row = [&out](std::string_view name, const std::string& value) {
    out << "<tr><td>" << name << "</td><td>" << sockit::http::html_escape(value) << "</td></tr>\n";
  };
  row("Requests", std::to_string(results.requests));
  row("Duration", fmt::format("{:.2f}s", results.elapsed.count()));
  row("Requests/s", fmt::format("{:.2f}", requests_per_second(results)));
  row("Transfer/s", format_bytes(rate(results, static_cast<double>(results.bytes))));
  row("Errors", error_line(results));
  if (uses_tls(context.options)) row("TLS", handshake_line(results));
  for (const double p : kPercentiles) {
    row("p" + percentile_label(p),
        format_duration(static_cast<double>(results.latency.percentile(p))));
  }
  row("Max", format_duration(static_cast<double>(results.latency.max())));
  row("Mean", format_duration(results.latency.mean()));
  row("Stdev", format_duration(results.latency.stddev()));
  out << "</table>\n<h2>Latency by percentile</h2>\n" << percentile_chart(results.latency);
  out << "<h2>Requests per second over time</h2>\n" << throughput_chart(results.per_second);
  out << "</body>\n</html>\n";
}

Threshold Threshold::parse(std::string_view text) {
  const auto at = text.find_first_of("<>");
  if (at == std::string_view::npos || at == 0) {
    throw std::invalid_argument("--fail-if '" + std::string(text) +
                                "': expected METRIC<VALUE or METRIC>VALUE, as 'p99>10ms'");
  }
  Threshold threshold;
  threshold.text = std::string(text);
  threshold.metric = std::string(text.substr(0, at));
  const std::size_t op_size = at + 1 < text.size() && text[at + 1] == '=' ? 2 : 1;
  threshold.op = std::string(text.substr(at, op_size));
  const auto value = text.substr(at + op_size);
  constexpr std::string_view kCounts[] = {"rps", "errors", "non2xx", "requests"};
  constexpr std::string_view kDurations[] = {"p50",    "p75", "p90",  "p99",   "p99.9",
                                             "p99.99", "max", "mean", "stddev"};
  if (std::find(std::begin(kDurations), std::end(kDurations), threshold.metric) !=
      std::end(kDurations)) {
    threshold.limit = parse_limit_duration(value, text);
  } else if (std::find(std::begin(kCounts), std::end(kCounts), threshold.metric) !=
             std::end(kCounts)) {
    threshold.limit = parse_number(value, text);
  } else {
    throw std::invalid_argument("--fail-if '" + std::string(text) + "': unknown metric '" +
                                threshold.metric +
                                "' (p50 p75 p90 p99 p99.9 p99.99 max mean stddev rps errors "
                                "non2xx requests)");
  }
  return threshold;
}

double Threshold::measure(const Results& results) const {
  if (metric == "rps") return requests_per_second(results);
  if (metric == "errors") return static_cast<double>(results.errors());
  if (metric == "non2xx") return static_cast<double>(results.non_success());
  if (metric == "requests") return static_cast<double>(results.requests);
  if (metric == "max") return static_cast<double>(results.latency.max());
  if (metric == "mean") return results.latency.mean();
  if (metric == "stddev") return results.latency.stddev();
  return static_cast<double>(results.latency.percentile(parse_number(metric.substr(1), text)));
}

bool Threshold::crossed(const Results& results) const {
  const double value = measure(results);
  if (op == ">") return value > limit;
  if (op == ">=") return value >= limit;
  if (op == "<") return value < limit;
  return value <= limit;
}

}  // namespace sockit::tools::load
