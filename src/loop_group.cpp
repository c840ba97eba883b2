#include "sockit/loop_group.hpp"

#include <exception>
#include <mutex>

namespace sockit {

LoopGroup::LoopGroup(std::size_t count) {
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  loops_.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    loops_.push_back(std::make_unique<EventLoop>());
}

LoopGroup::~LoopGroup() {
  stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void LoopGroup::run() {
  std::mutex failure_mutex;
  std::exception_ptr failure;
  auto run_loop = [&](EventLoop& loop) {
    try {
      loop.run();
    } catch (...) {
      {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
      stop();
    }
  };
  for (std::size_t i = 1; i < loops_.size(); ++i) {
    threads_.emplace_back(run_loop, std::ref(*loops_[i]));
  }
  run_loop(*loops_[0]);
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
  if (failure) std::rethrow_exception(failure);
}

void LoopGroup::stop() noexcept {
  for (auto& loop : loops_)
    loop->stop();
}

}  // namespace sockit
