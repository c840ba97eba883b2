// LoopGroup: N event loops, one per thread, for multi-core servers. Each loop gets its own
// SO_REUSEPORT listeners, so nothing is shared between loops on the hot path.
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "sockit/event_loop.hpp"

namespace sockit {

class LoopGroup {
 public:
  // count 0 means one loop per core.
  explicit LoopGroup(std::size_t count);
  ~LoopGroup();
  LoopGroup(const LoopGroup&) = delete;
  LoopGroup& operator=(const LoopGroup&) = delete;

  std::size_t size() const noexcept { return loops_.size(); }
  EventLoop& operator[](std::size_t index) noexcept { return *loops_[index]; }

  // Runs loop 0 on the calling thread and every other loop on a thread of its own; returns
  // once all of them have stopped. An exception escaping a loop stops the group and is
  // rethrown here.
  void run();
  // Thread-safe: stops every loop.
  void stop() noexcept;

 private:
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::thread> threads_;
};

}  // namespace sockit
