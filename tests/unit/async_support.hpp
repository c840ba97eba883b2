// Helpers of the async tests: a bounded run of one task, socket pairs on a loop, and a count
// of this process's open descriptors.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <utility>

#include "sockit/async.hpp"

namespace sockit::test {

// Runs body on loop until it ends; fails the test instead of hanging if it has not ended
// within limit.
inline void run_task(EventLoop& loop, Task<> body,
                     std::chrono::duration<double> limit = std::chrono::seconds(10)) {
  bool ended = false;
  auto wrapper = [&loop, &ended](Task<> inner) -> Task<> {
    co_await std::move(inner);
    ended = true;
    loop.stop();
  };
  const auto guard = loop.call_later(limit, [&loop] {
    ADD_FAILURE() << "task still running after the test's time limit";
    loop.stop();
  });
  spawn(loop, wrapper(std::move(body)));
  loop.run();
  loop.cancel(guard);
  EXPECT_TRUE(ended);
}

inline std::pair<Stream, Stream> stream_pair(EventLoop& loop) {
  auto [a, b] = Socket::socketpair(Family::local, Type::stream);
  return {Stream(loop, std::move(a)), Stream(loop, std::move(b))};
}

inline std::size_t open_fds() {
  std::size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (readdir(dir) != nullptr)
    ++count;
  closedir(dir);
  return count;
}

}  // namespace sockit::test
