// The results of sockit bench as people and programs read them: a wrk-like summary, ab's
// layout, JSON, and a self-contained HTML report; and the thresholds of --fail-if.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "load/engine.hpp"

namespace sockit::tools::load {

struct ReportContext {
  const Results& results;
  const LoadOptions& options;
  std::vector<std::string> urls;
};

// The percentiles every report lists.
inline constexpr double kPercentiles[] = {50, 75, 90, 99, 99.9, 99.99};

void write_summary(std::ostream& out, const ReportContext& context);
void write_ab(std::ostream& out, const ReportContext& context);
void write_json(std::ostream& out, const ReportContext& context);
void write_html(std::ostream& out, const ReportContext& context);

// "850us", "10.02ms", "1.50s": a duration in microseconds, three significant digits.
std::string format_duration(double microseconds);
// "512B", "1.21MB": a byte count.
std::string format_bytes(double bytes);

// One --fail-if: "p99>10ms", "errors>0", "rps<5000". Durations take us, ms, s or m (ms
// without a unit).
struct Threshold {
  std::string text;    // as given, for the message that names it
  std::string metric;  // p50 p75 p90 p99 p99.9 p99.99 max mean stddev rps errors non2xx requests
  std::string op;      // > >= < <=
  double limit = 0;    // durations in microseconds

  // Throws std::invalid_argument for anything malformed.
  static Threshold parse(std::string_view text);
  // The metric's value in the results (durations in microseconds).
  double measure(const Results& results) const;
  bool crossed(const Results& results) const;
};

}  // namespace sockit::tools::load
