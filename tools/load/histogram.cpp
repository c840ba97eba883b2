#include "load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sockit::tools::load {
namespace {

// 2 * 10^3 rounded up to a power of two: the sub-buckets of each power of two that keep
// three significant digits. Values below kSubBuckets are exact; above, bucket b (from 1)
// covers [kSubBuckets << (b - 1), kSubBuckets << b) in steps of 1 << b.
constexpr unsigned kHalfMagnitude = 10;
constexpr std::uint64_t kHalf = std::uint64_t{1} << kHalfMagnitude;  // 1024
constexpr std::uint64_t kSubBuckets = 2 * kHalf;                     // 2048
constexpr std::uint64_t kSubBucketMask = kSubBuckets - 1;

unsigned bucket_of(std::uint64_t value) noexcept {
  return static_cast<unsigned>(64 - kHalfMagnitude - 1 -
                               static_cast<unsigned>(std::countl_zero(value | kSubBucketMask)));
}

std::size_t table_size() noexcept {
  const unsigned buckets = bucket_of(Histogram::kMaxValue) + 1;
  return static_cast<std::size_t>((buckets + 1) * kHalf);
}

}  // namespace

Histogram::Histogram() : counts_(table_size(), 0) {}

std::size_t Histogram::index_of(std::uint64_t value) noexcept {
  const unsigned bucket = bucket_of(value);
  const std::uint64_t sub = value >> bucket;
  return static_cast<std::size_t>(((std::uint64_t{bucket} + 1) << kHalfMagnitude) + sub - kHalf);
}

std::uint64_t Histogram::value_at(std::size_t index) noexcept {
  std::uint64_t bucket = index >> kHalfMagnitude;
  std::uint64_t sub = (index & (kHalf - 1)) + kHalf;
  if (bucket == 0) {
    sub -= kHalf;
  } else {
    --bucket;
  }
  return sub << bucket;
}

std::uint64_t Histogram::lowest_equivalent(std::uint64_t value) noexcept {
  return value_at(index_of(value));
}

std::uint64_t Histogram::highest_equivalent(std::uint64_t value) noexcept {
  return lowest_equivalent(value) + (std::uint64_t{1} << bucket_of(value)) - 1;
}

void Histogram::record(std::uint64_t value, std::uint64_t count) noexcept {
  value = std::min(value, kMaxValue);
  counts_[index_of(value)] += count;
  count_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  const auto v = static_cast<double>(value);
  const auto n = static_cast<double>(count);
  sum_ += v * n;
  sum_of_squares_ += v * v * n;
}

void Histogram::merge(const Histogram& other) noexcept {
  for (std::size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  sum_of_squares_ += other.sum_of_squares_;
}

double Histogram::mean() const noexcept {
  return count_ == 0 ? 0 : sum_ / static_cast<double>(count_);
}

double Histogram::stddev() const noexcept {
  if (count_ == 0) return 0;
  const double m = mean();
  return std::sqrt(std::max(0.0, sum_of_squares_ / static_cast<double>(count_) - m * m));
}

std::uint64_t Histogram::percentile(double percentile) const noexcept {
  if (count_ == 0) return 0;
  const double wanted = std::clamp(percentile, 0.0, 100.0) / 100 * static_cast<double>(count_);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(wanted)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_equivalent(value_at(i)), max_);
  }
  return max_;
}

}  // namespace sockit::tools::load
