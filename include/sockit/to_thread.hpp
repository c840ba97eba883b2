// to_thread (asyncio.to_thread): runs a blocking function on a worker thread and resumes the
// awaiting task on its loop with the result, so that the loop never blocks.
//
//   auto found = co_await with_timeout(5s, to_thread(loop, [name] { return lookup(name); }));
//
// The function returns a Result<T>; a timeout, with_cancel or a TaskGroup's cancel fails the
// await with that Result's error and lets the function's eventual result go: nothing calls
// back into a frame that has moved on, and a function still queued never runs. A running
// function cannot be stopped; it finishes on its thread. An exception it throws is rethrown
// at the co_await. The loop must outlive the await: the answer is posted to it.
//
// The threads (at most four, started when work waits, shared by every loop of the process)
// live until the process ends, so a function still blocked then does not hold up exit.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>

#include "sockit/cancel.hpp"
#include "sockit/event_loop.hpp"

namespace sockit {
namespace detail {

// Work shared by a worker thread and its awaiter, so that either may be done first.
class ThreadJob : public std::enable_shared_from_this<ThreadJob> {
 public:
  explicit ThreadJob(EventLoop& loop) noexcept : loop_(&loop) {}
  ThreadJob(const ThreadJob&) = delete;
  ThreadJob& operator=(const ThreadJob&) = delete;
  virtual ~ThreadJob() = default;

  // On a worker thread: does the work unless it was abandoned, then resumes the waiter on
  // its loop's thread.
  void run() noexcept;
  // On the loop's thread: the waiter stops waiting; a result that comes is dropped.
  void abandon() noexcept;

  std::coroutine_handle<> waiter;  // touched on the loop's thread only

 private:
  virtual void work() noexcept = 0;

  std::mutex mutex_;
  EventLoop* loop_;  // null once abandoned
};

// Queues job for the worker threads.
void submit(std::shared_ptr<ThreadJob> job);

}  // namespace detail

template <class R>
class ToThread {
 public:
  // A result known at once: nothing goes to a thread.
  ToThread(EventLoop& loop, R ready) : loop_(&loop), ready_(std::move(ready)) {}
  ToThread(EventLoop& loop, std::function<R()> fn) : loop_(&loop), fn_(std::move(fn)) {}
  ToThread(ToThread&& other) noexcept
      : loop_(other.loop_),
        fn_(std::move(other.fn_)),
        ready_(std::move(other.ready_)),
        slot_(other.slot_) {}
  ~ToThread() {
    if (job_) job_->abandon();
  }

  bool await_ready() noexcept {
    if (slot_ != nullptr && slot_->cancelled()) ready_.emplace(slot_->refusal());
    return ready_.has_value();
  }
  void await_suspend(std::coroutine_handle<> h) {
    job_ = std::make_shared<Job>(*loop_, std::move(fn_));
    job_->waiter = h;
    detail::submit(job_);
    if (slot_ != nullptr) slot_->park(*this);
  }
  R await_resume() {
    if (slot_ != nullptr) slot_->unpark(this);
    if (ready_) return std::move(*ready_);
    if (job_->error) std::rethrow_exception(job_->error);
    return std::move(*job_->result);
  }

  EventLoop& loop() const noexcept { return *loop_; }
  // Stops waiting: the await fails with reason on a later turn.
  void cancel(std::error_code reason) noexcept {
    if (!job_ || !job_->waiter) return;
    const auto h = job_->waiter;
    job_->abandon();
    ready_.emplace(reason);
    loop_->schedule(h);
  }
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { slot_ = slot; }

 private:
  struct Job final : detail::ThreadJob {
    Job(EventLoop& loop, std::function<R()> f) : ThreadJob(loop), fn(std::move(f)) {}
    void work() noexcept override {
      try {
        result.emplace(fn());
      } catch (...) {
        error = std::current_exception();
      }
    }
    std::function<R()> fn;
    std::optional<R> result;
    std::exception_ptr error;
  };

  EventLoop* loop_;
  std::function<R()> fn_;
  std::optional<R> ready_;
  std::shared_ptr<Job> job_;
  detail::CancelSlot* slot_ = nullptr;
};

// fn returns a Result<T> (or anything constructible from a std::error_code).
template <class Fn>
auto to_thread(EventLoop& loop, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  return ToThread<R>(loop, std::function<R()>(std::move(fn)));
}

}  // namespace sockit
