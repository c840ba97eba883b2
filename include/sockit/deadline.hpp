// Deadlines from durations that may be larger than the clock can add: `--idle-timeout 1e10s`
// must mean "never", not wrap around into the past (which fires at once, forever).
#pragma once

#include <chrono>

namespace sockit {

// now + duration, saturated at the clock's last time point; a duration that is not positive
// (or NaN) gives now.
template <class Clock, class ClockDuration, class Rep, class Period>
std::chrono::time_point<Clock, ClockDuration> deadline_after(
    std::chrono::time_point<Clock, ClockDuration> now,
    std::chrono::duration<Rep, Period> duration) noexcept {
  using TimePoint = std::chrono::time_point<Clock, ClockDuration>;
  using Seconds = std::chrono::duration<double>;
  const Seconds wanted = std::chrono::duration_cast<Seconds>(duration);
  if (!(wanted.count() > 0)) return now;
  const Seconds room = std::chrono::duration_cast<Seconds>(TimePoint::max() - now);
  // The margin keeps the double's rounding from carrying the sum past max().
  if (wanted >= room * 0.999) return TimePoint::max();
  return now + std::chrono::duration_cast<ClockDuration>(wanted);
}

// The same from the steady clock's present.
template <class Rep, class Period>
std::chrono::steady_clock::time_point deadline_after(
    std::chrono::duration<Rep, Period> duration) noexcept {
  return deadline_after(std::chrono::steady_clock::now(), duration);
}

}  // namespace sockit
