#include "sockit/to_thread.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <thread>

namespace sockit::detail {
namespace {

// At most this many functions block at once; more wait in the queue. Name lookups mostly
// wait on the network, so a few threads serve many loops.
constexpr std::size_t kMaxThreads = 4;

class WorkerThreads {
 public:
  void submit(std::shared_ptr<ThreadJob> job) {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
    if (idle_ < queue_.size() && threads_ < kMaxThreads) {
      ++threads_;
      std::thread([this] { work(); }).detach();
    } else {
      ready_.notify_one();
    }
  }

 private:
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      ++idle_;
      ready_.wait(lock, [this] { return !queue_.empty(); });
      --idle_;
      auto job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job->run();
      job.reset();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<ThreadJob>> queue_;
  std::size_t threads_ = 0;
  std::size_t idle_ = 0;
};

// Never destroyed: its threads outlive main() and static destruction.
WorkerThreads& worker_threads() {
  static auto* threads = new WorkerThreads;
  return *threads;
}

}  // namespace

void ThreadJob::run() noexcept {
  {
    std::lock_guard lock(mutex_);
    if (loop_ == nullptr) return;
  }
  work();
  std::lock_guard lock(mutex_);
  // Under the lock: the waiter cannot give up, and so its loop cannot go, during the post.
  if (loop_ == nullptr) return;
  loop_->post([job = shared_from_this()] {
    if (auto h = std::exchange(job->waiter, {})) h.resume();
  });
}

void ThreadJob::abandon() noexcept {
  {
    std::lock_guard lock(mutex_);
    loop_ = nullptr;
  }
  waiter = {};
}

void submit(std::shared_ptr<ThreadJob> job) {
  worker_threads().submit(std::move(job));
}

}  // namespace sockit::detail
