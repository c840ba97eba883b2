// deadline_after: durations the clock cannot add saturate instead of wrapping into the past.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "sockit/deadline.hpp"

namespace sockit::test {
namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

TEST(DeadlineAfter, AnOrdinaryDurationIsAdded) {
  const auto now = Clock::now();
  EXPECT_EQ(deadline_after(now, std::chrono::seconds(5)), now + std::chrono::seconds(5));
  EXPECT_EQ(deadline_after(now, Seconds(0.25)), now + std::chrono::milliseconds(250));
}

TEST(DeadlineAfter, DurationsBeyondTheClockSaturate) {
  const auto now = Clock::now();
  for (const double seconds : {1e10, 1e30, std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(deadline_after(now, Seconds(seconds)), Clock::time_point::max()) << seconds;
  }
  EXPECT_EQ(deadline_after(now, std::chrono::hours::max()), Clock::time_point::max());
}

TEST(DeadlineAfter, NothingPositiveMeansNow) {
  const auto now = Clock::now();
  EXPECT_EQ(deadline_after(now, Seconds(0)), now);
  EXPECT_EQ(deadline_after(now, Seconds(-3)), now);
  EXPECT_EQ(deadline_after(now, Seconds(std::nan(""))), now);
}

}  // namespace
}  // namespace sockit::test
