// A log-linear histogram of durations in microseconds, HdrHistogram's layout: each power of
// two is split into 2048 sub-buckets, so every recorded value is kept to three significant
// digits, from 1 us to an hour, in a fixed table of counts (recording never allocates).
// Threads record into histograms of their own and merge them at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sockit::tools::load {

class Histogram {
 public:
  static constexpr std::uint64_t kMaxValue = 3'600'000'000;  // an hour, in microseconds

  Histogram();

  // Values above kMaxValue are recorded as kMaxValue.
  void record(std::uint64_t value, std::uint64_t count = 1) noexcept;
  void merge(const Histogram& other) noexcept;

  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t min() const noexcept { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const noexcept { return max_; }
  // Mean and standard deviation of the exact values recorded (not of their buckets).
  double mean() const noexcept;
  double stddev() const noexcept;
  // The smallest value that percentile (0 to 100) of the recorded values are at or below, as
  // the highest value of its bucket (never above max()); 0 when nothing was recorded.
  std::uint64_t percentile(double percentile) const noexcept;

  // Every value of one bucket counts as the same: the range [lowest, highest] value holds.
  static std::uint64_t lowest_equivalent(std::uint64_t value) noexcept;
  static std::uint64_t highest_equivalent(std::uint64_t value) noexcept;

 private:
  static std::size_t index_of(std::uint64_t value) noexcept;
  static std::uint64_t value_at(std::size_t index) noexcept;

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  double sum_ = 0;
  double sum_of_squares_ = 0;
};

}  // namespace sockit::tools::load
