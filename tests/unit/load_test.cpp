// sockit bench's engine parts that need no peer: the log-linear histogram, the request it
// sends, the --fail-if thresholds and what the reports show of TLS.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "load/engine.hpp"
#include "load/histogram.hpp"
#include "load/report.hpp"
#include "sockit/tls.hpp"

namespace {

using namespace sockit::tools::load;

TEST(Histogram, SmallValuesAreExact) {
  Histogram histogram;
  for (std::uint64_t v = 1; v <= 2000; ++v)
    histogram.record(v);
  EXPECT_EQ(histogram.count(), 2000u);
  EXPECT_EQ(histogram.min(), 1u);
  EXPECT_EQ(histogram.max(), 2000u);
  EXPECT_EQ(histogram.percentile(50), 1000u);
  EXPECT_EQ(histogram.percentile(100), 2000u);
  EXPECT_DOUBLE_EQ(histogram.mean(), 1000.5);
}

TEST(Histogram, KeepsThreeSignificantDigitsUpToAnHour) {
  for (std::uint64_t v = 1; v <= Histogram::kMaxValue; v = v * 3 + 7) {
    const auto low = Histogram::lowest_equivalent(v);
    const auto high = Histogram::highest_equivalent(v);
    EXPECT_LE(low, v);
    EXPECT_GE(high, v);
    EXPECT_LE(static_cast<double>(high - low), static_cast<double>(v) / 1000) << v;
  }
}

TEST(Histogram, PercentilesOfAKnownDistribution) {
  Histogram histogram;
  std::vector<std::uint64_t> values;
  std::mt19937_64 random(7);
  for (int i = 0; i < 100'000; ++i)
    values.push_back(1 + random() % 10'000'000);
  for (const auto v : values)
    histogram.record(v);
  std::sort(values.begin(), values.end());
  for (const double p : {50.0, 90.0, 99.0, 99.9, 99.99}) {
    const auto rank = static_cast<std::size_t>(p / 100 * static_cast<double>(values.size()));
    const auto exact = static_cast<double>(values[rank - 1]);
    EXPECT_NEAR(static_cast<double>(histogram.percentile(p)), exact, exact / 1000 + 1) << p;
  }
  EXPECT_EQ(histogram.percentile(100), values.back());
}

TEST(Histogram, MergeEqualsRecordingTogether) {
  Histogram a;
  Histogram b;
  Histogram both;
  for (std::uint64_t v = 1; v < 1'000'000; v += 997) {
    (v % 2 ? a : b).record(v);
    both.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.min(), both.min());
  EXPECT_EQ(a.max(), both.max());
  EXPECT_DOUBLE_EQ(a.mean(), both.mean());
  EXPECT_NEAR(a.stddev(), both.stddev(), 1e-6 * both.stddev());
  for (const double p : kPercentiles)
    EXPECT_EQ(a.percentile(p), both.percentile(p));
}

TEST(Histogram, ClampsAboveTheRangeAndEmptyIsZero) {
  Histogram histogram;
  EXPECT_EQ(histogram.percentile(99), 0u);
  EXPECT_EQ(histogram.min(), 0u);
  histogram.record(Histogram::kMaxValue * 10);
  EXPECT_EQ(histogram.max(), Histogram::kMaxValue);
}

TEST(Histogram, StddevOfTwoValues) {
  Histogram histogram;
  histogram.record(10, 5);
  histogram.record(30, 5);
  EXPECT_DOUBLE_EQ(histogram.mean(), 20);
  EXPECT_DOUBLE_EQ(histogram.stddev(), 10);
}

TEST(BuildRequest, HostLengthAndClose) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/x?y=1";
  request.authority = "127.0.0.1:8080";
  request.headers = {"X-A: b"};
  request.body = "data";
  request.keep_alive = false;
  EXPECT_EQ(build_request(request),
            "POST /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nX-A: b\r\nContent-Length: 4\r\n"
            "Connection: close\r\n\r\ndata");
  request.headers = {"host: other"};
  request.body.clear();
  request.method = "GET";
  request.keep_alive = true;
  EXPECT_EQ(build_request(request), "GET /x?y=1 HTTP/1.1\r\nhost: other\r\n\r\n");
}

TEST(Threshold, ParsesMetricsOperatorsAndUnits) {
  const auto p99 = Threshold::parse("p99>10ms");
  EXPECT_EQ(p99.metric, "p99");
  EXPECT_EQ(p99.op, ">");
  EXPECT_DOUBLE_EQ(p99.limit, 10'000);
  EXPECT_DOUBLE_EQ(Threshold::parse("p99.9>=1.5s").limit, 1'500'000);
  EXPECT_DOUBLE_EQ(Threshold::parse("max<250us").limit, 250);
  EXPECT_DOUBLE_EQ(Threshold::parse("mean<3").limit, 3'000);
  EXPECT_EQ(Threshold::parse("rps<5000").limit, 5000);
  EXPECT_EQ(Threshold::parse("errors>0").op, ">");
  EXPECT_THROW(Threshold::parse("p99"), std::invalid_argument);
  EXPECT_THROW(Threshold::parse("latency>1ms"), std::invalid_argument);
  EXPECT_THROW(Threshold::parse("p99>fast"), std::invalid_argument);
  EXPECT_THROW(Threshold::parse(">5"), std::invalid_argument);
}

TEST(Threshold, ComparesAgainstResults) {
  Results results;
  results.elapsed = Seconds(2);
  results.requests = 10'000;
  for (int i = 0; i < 100; ++i)
    results.latency.record(20'000);
  results.error_counts[static_cast<std::size_t>(ErrorKind::timeout)] = 1;
  EXPECT_TRUE(Threshold::parse("p99>10ms").crossed(results));
  EXPECT_FALSE(Threshold::parse("p99>30ms").crossed(results));
  EXPECT_TRUE(Threshold::parse("errors>0").crossed(results));
  EXPECT_TRUE(Threshold::parse("rps<6000").crossed(results));
  EXPECT_FALSE(Threshold::parse("rps<5000").crossed(results));
}

TEST(Format, DurationsAndBytes) {
  EXPECT_EQ(format_duration(850), "850us");
  EXPECT_EQ(format_duration(10'020), "10.02ms");
  EXPECT_EQ(format_duration(1'500'000), "1.50s");
  EXPECT_EQ(format_bytes(512), "512B");
  EXPECT_EQ(format_bytes(1.5 * 1024 * 1024), "1.50MB");
}

TEST(Results, MergeAddsHandshakesAndResumedOnes) {
  Results a;
  Results b;
  a.handshake.record(900);
  b.handshake.record(300);
  b.handshake.record(400);
  b.resumed = 2;
  a.merge(b);
  EXPECT_EQ(a.handshake.count(), 3u);
  EXPECT_EQ(a.handshake.max(), 900u);
  EXPECT_EQ(a.resumed, 2u);
}

// Handshakes show only when a target speaks TLS: a plain run's reports stay as they were.
TEST(Report, ShowsHandshakesForTlsTargetsOnly) {
  Results results;
  results.requests = 3;
  results.elapsed = Seconds(1);
  for (const std::uint64_t us : {1500u, 300u, 310u})
    results.handshake.record(us);
  results.resumed = 2;
  LoadOptions options;
  options.targets.emplace_back();
  const auto write = [&](auto writer) {
    std::ostringstream out;
    writer(out, ReportContext{results, options, {"https://127.0.0.1/"}});
    return out.str();
  };
  for (const std::string& plain : {write(write_json), write(write_summary), write(write_ab)}) {
    EXPECT_EQ(plain.find("andshake"), std::string::npos) << plain;
  }
  options.targets.back().tls = std::make_shared<const sockit::TlsContext>();
  const std::string json = write(write_json);
  EXPECT_NE(json.find("\"tls_resumed\": 2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"handshake\": {\n    \"count\": 3"), std::string::npos) << json;
  const std::string summary = write(write_summary);
  EXPECT_NE(summary.find("\n    Handshake "), std::string::npos) << summary;
  EXPECT_NE(summary.find("\n  3 TLS handshakes, 2 resumed\n"), std::string::npos) << summary;
  EXPECT_NE(write(write_ab).find("\nTLS handshakes:         3 (2 resumed)\n"), std::string::npos);
}

}  // namespace
