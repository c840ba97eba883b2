// EventLoop: one per thread. epoll (edge-triggered), an eventfd for work handed in from
// other threads, a timer heap, and signals through signalfd.
//
// Operations on descriptors first try their syscall and park only on EAGAIN; an epoll edge
// makes a parked operation try again. Timers are intrusive heap nodes owned by whoever waits
// (often an awaiter inside a coroutine frame), so arming a timeout allocates nothing.
#pragma once

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sockit/fd.hpp"

struct epoll_event;

namespace sockit {

class EventLoop;
class IoOperation;
using SteadyClock = std::chrono::steady_clock;

// A one-shot timer: the loop calls fire() once its deadline has passed.
class TimerNode {
 public:
  TimerNode() = default;
  TimerNode(const TimerNode&) = delete;
  TimerNode& operator=(const TimerNode&) = delete;
  bool armed() const noexcept { return index_ != kNotArmed; }

 protected:
  virtual ~TimerNode() = default;
  virtual void fire() noexcept = 0;

 private:
  friend class EventLoop;
  static constexpr std::size_t kNotArmed = static_cast<std::size_t>(-1);
  SteadyClock::time_point deadline_{};
  std::uint64_t sequence_ = 0;  // orders timers with equal deadlines by arming time
  std::size_t index_ = kNotArmed;
};

// The loop's registration machinery: the library's awaiters use it, nothing else should.
namespace detail {

struct IoHandle;
struct LoopAccess;

// An operation parked on a descriptor until it can make progress.
class IoWaiter {
 public:
  IoWaiter() = default;
  IoWaiter(const IoWaiter&) = delete;
  IoWaiter& operator=(const IoWaiter&) = delete;

  // Retries the syscall; true once the operation has finished (done or failed), false while
  // it would still block.
  virtual bool attempt() noexcept = 0;

 protected:
  virtual ~IoWaiter() = default;

 private:
  friend class sockit::EventLoop;
  friend class sockit::IoOperation;
  std::coroutine_handle<> handle_;
  std::error_code cancelled_;
  IoHandle* parked_on_ = nullptr;
  bool is_writer_ = false;
};

// One descriptor registered with a loop: who waits to read, who waits to write.
struct IoHandle {
  int fd = -1;
  // How many times epoll has reported the descriptor readable: a reader that skips the read
  // after a short one tells by it whether input has come since.
  std::uint32_t read_events = 0;
  IoWaiter* reader = nullptr;
  IoWaiter* writer = nullptr;
  // Set for good once epoll reports the peer's FIN, a hang-up or an error, even when nobody
  // was waiting: a reader that skips a read after a short one must know no edge will follow.
  bool hangup = false;
};

}  // namespace detail

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // The loop running on this thread, or nullptr.
  static EventLoop* current() noexcept;

  // Runs until stop(). While it runs, only its thread may use the loop (except post(),
  // stop() and in_loop_thread()); debug builds assert that in the methods below. While it
  // does not run, one thread at a time may set it up (add sockets, arm timers, spawn).
  void run();
  // Thread-safe: run() returns after the current turn.
  void stop() noexcept;
  bool stopped() const noexcept { return stop_requested_.load(std::memory_order_acquire); }

  // Thread-safe: fn runs on the loop's thread on a later turn.
  void post(std::function<void()> fn);
  // fn runs now when called on the loop's thread, else it is posted.
  void run_in_loop(std::function<void()> fn);
  bool in_loop_thread() const noexcept;

  // Resumes handle on a later turn, never nested inside the caller.
  void schedule(std::coroutine_handle<> handle);
  // Resumes handle once the loop has polled for I/O and run due timers: what a coroutine
  // that would otherwise never suspend awaits now and then to let the rest of the loop run
  // (schedule alone does not, since the ready queue is drained before polling).
  void defer(std::coroutine_handle<> handle);

  // Arms timer (re-arming it if armed) to fire at deadline. O(log n).
  void arm(TimerNode& timer, SteadyClock::time_point deadline);
  // Disarms timer if armed. O(log n).
  void disarm(TimerNode& timer) noexcept;
  // A one-shot callback; returns an id for cancel(). Allocates: not for per-operation use.
  std::uint64_t call_later(std::chrono::duration<double> delay, std::function<void()> fn);
  bool cancel(std::uint64_t id) noexcept;

  // Delivers the signals to handler on this loop's thread. Blocks them in the calling
  // thread: call before starting other threads so they inherit the mask.
  void on_signals(std::initializer_list<int> signals, std::function<void(int)> handler);

  // Where failures of detached tasks go; by default one line on stderr.
  void set_error_handler(std::function<void(std::exception_ptr)> handler);
  void report(std::exception_ptr error) noexcept;

 private:
  friend struct detail::LoopAccess;

  // Registers fd for edge-triggered read and write readiness. Throws sockit::Error.
  detail::IoHandle* add(int fd);
  // Deregisters before the descriptor closes; waiters resume with operation_canceled.
  void remove(detail::IoHandle* handle) noexcept;
  // Parks waiter until handle's descriptor is readable (or writable).
  void park(detail::IoHandle* handle, bool writer, detail::IoWaiter& waiter,
            std::coroutine_handle<> h) noexcept;
  // Unparks waiter and resumes it on a later turn, failing its operation with reason.
  void cancel(detail::IoWaiter& waiter, std::error_code reason) noexcept;

  // Debug builds: the calling thread may use the loop (see run()).
  void assert_owner() const noexcept;
  class CallbackTimer;

  void run_ready();
  void run_posted();
  void run_timers();
  void dispatch(const epoll_event& event);
  int next_timeout_ms() const noexcept;
  bool timer_before(std::size_t a, std::size_t b) const noexcept;
  void sift_up(std::size_t index) noexcept;
  void sift_down(std::size_t index) noexcept;
  void swap_timers(std::size_t a, std::size_t b) noexcept;
  void remove_timer_at(std::size_t index) noexcept;

  Fd epoll_;
  Fd wakeup_;
  Fd signals_;
  std::function<void(int)> signal_handler_;
  std::function<void(std::exception_ptr)> error_handler_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> owner_{};
  std::atomic<bool> running_{false};

  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
  std::vector<std::function<void()>> posted_running_;
  std::vector<std::coroutine_handle<>> ready_;
  std::vector<std::coroutine_handle<>> ready_running_;
  std::vector<std::coroutine_handle<>> deferred_;

  std::vector<TimerNode*> timers_;
  std::uint64_t timer_sequence_ = 0;
  std::uint64_t next_callback_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<CallbackTimer>> callbacks_;

  // Registrations removed during a turn stay allocated until the turn ends, since events
  // already fetched in the same batch may still point at them; then they are reused. A live
  // registration belongs to whoever called add() until it calls remove().
  std::vector<std::unique_ptr<detail::IoHandle>> retired_;
  std::vector<std::unique_ptr<detail::IoHandle>> free_handles_;

  std::size_t live_tasks_ = 0;  // detached tasks started with spawn() not finished yet
};

namespace detail {

// The library's awaiters and Task machinery reach the loop's internals through here.
struct LoopAccess {
  static IoHandle* add(EventLoop& loop, int fd) { return loop.add(fd); }
  static void remove(EventLoop& loop, IoHandle* handle) noexcept { loop.remove(handle); }
  static void park(EventLoop& loop, IoHandle* handle, bool writer, IoWaiter& waiter,
                   std::coroutine_handle<> h) noexcept {
    loop.park(handle, writer, waiter, h);
  }
  static void cancel(EventLoop& loop, IoWaiter& waiter, std::error_code reason) noexcept {
    loop.cancel(waiter, reason);
  }
  // Detached tasks started with spawn() that have not finished yet.
  static std::size_t live_tasks(const EventLoop& loop) noexcept { return loop.live_tasks_; }
  static void task_started(EventLoop& loop) noexcept { ++loop.live_tasks_; }
  static void task_finished(EventLoop& loop) noexcept { --loop.live_tasks_; }
};

}  // namespace detail
}  // namespace sockit
