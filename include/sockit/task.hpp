// Task<T>: a lazy coroutine. It starts when awaited, hands control back to its awaiter by
// symmetric transfer when it ends, and delivers its value or rethrows its exception there.
//
//   Task<std::size_t> count(Stream& s);
//   Task<> handle(Stream s) { auto n = co_await count(s); ... }
//   spawn(loop, handle(std::move(stream)));  // detached; a failure reaches loop.report()
//
// A task passes its cancellation slot (cancel.hpp) to everything it awaits, so that a
// TaskGroup's cancel reaches the operation its task, or a task that task awaits, waits on.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

#include "sockit/cancel.hpp"
#include "sockit/event_loop.hpp"

namespace sockit {

template <class T = void>
class Task;
class TaskGroup;

namespace detail {

// A task spawned in a TaskGroup: its place in the group's list and its chain's slot.
struct GroupMember {
  CancelSlot slot;
  TaskGroup* group = nullptr;
  GroupMember* prev = nullptr;
  GroupMember* next = nullptr;
};

// Takes a task that has ended out of its group (task_group.cpp).
void leave_group(GroupMember& member) noexcept;

// At the end of a task: hand control to the awaiter, or, for a spawned task that nobody
// awaits, report its failure and free its frame.
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> done) const noexcept {
    auto& promise = done.promise();
    if (EventLoop* loop = promise.detached_on) {
      const std::exception_ptr error = promise.error;
      if (promise.member.group != nullptr) leave_group(promise.member);
      done.destroy();
      if (error) loop->report(error);
      LoopAccess::task_finished(*loop);
      return std::noop_coroutine();
    }
    return promise.continuation ? promise.continuation : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

// An awaiter awaited in place, whether the awaiting code names it (co_await op;) or not
// (co_await s.read_some(buf)): GCC would otherwise await a copy of what await_transform
// returns, and keep both in the coroutine's frame. A temporary operand of co_await lives
// until the end of its full expression, which spans the suspension.
template <class Awaiter>
struct AwaitRef {
  Awaiter* awaiter;
  bool await_ready() { return awaiter->await_ready(); }
  decltype(auto) await_suspend(std::coroutine_handle<> h) { return awaiter->await_suspend(h); }
  decltype(auto) await_resume() { return awaiter->await_resume(); }
};

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr error;
  EventLoop* detached_on = nullptr;  // set by spawn()
  CancelSlot* slot = nullptr;        // the chain's, handed down from the awaiting task
  GroupMember member;                // used when spawned in a TaskGroup

  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }

  template <class Awaitable>
  decltype(auto) await_transform(Awaitable&& awaitable) noexcept {
    if constexpr (requires { awaitable.set_cancel_slot(slot); }) {
      if (slot != nullptr) awaitable.set_cancel_slot(slot);
    }
    if constexpr (requires { awaitable.await_ready(); }) {
      return AwaitRef<std::remove_reference_t<Awaitable>>{&awaitable};
    } else {
      return std::forward<Awaitable>(awaitable);
    }
  }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;

  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() noexcept = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }
  // Gives up the coroutine without destroying it.
  Handle release() noexcept { return std::exchange(handle_, {}); }
  // The awaiting task's slot: a cancel reaches what this task waits on too.
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { handle_.promise().slot = slot; }

  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        handle.promise().continuation = awaiting;
        return handle;
      }
      T await_resume() { return handle.promise().take(); }
    };
    return Awaiter{handle_};
  }

 private:
  Handle handle_;
};

namespace detail {

template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}

inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}

}  // namespace detail

// A task bound to its loop, so that with_timeout and with_cancel bound it as they bound any
// operation: their cancel fails the operation the task waits on at that moment (or, when it
// waits on nothing that can be cancelled, the next one it starts) and the task decides what
// that failure means; a TaskGroup's cancel reaches it as it reaches any task. Operations of
// the library that are coroutines (AsyncTlsStream's) return one.
//
//   auto n = co_await with_timeout(5s, tls.read_some(buffer));
//
// The task starts in await_ready, so that a task that finishes without waiting costs no
// suspension of its awaiter.
template <class T>
class [[nodiscard]] TaskOp {
 public:
  TaskOp(EventLoop& loop, Task<T> task) noexcept : loop_(&loop), handle_(task.release()) {}
  TaskOp(TaskOp&& other) noexcept
      : loop_(other.loop_), handle_(std::exchange(other.handle_, {})), outer_(other.outer_) {}
  TaskOp& operator=(TaskOp&&) = delete;
  ~TaskOp() {
    if (handle_) handle_.destroy();
  }

  EventLoop& loop() const noexcept { return *loop_; }
  void set_cancel_slot(detail::CancelSlot* slot) noexcept { outer_ = slot; }
  void cancel(std::error_code reason) noexcept { slot().interrupt(reason); }

  bool await_ready() {
    handle_.promise().slot = &slot();
    handle_.resume();
    return handle_.done();
  }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
  }
  T await_resume() {
    slot().clear_interrupt();
    return handle_.promise().take();
  }

 private:
  // The awaiting task's slot when it has one, so that its group's cancel reaches this task.
  detail::CancelSlot& slot() noexcept { return outer_ != nullptr ? *outer_ : own_; }

  EventLoop* loop_;
  typename Task<T>::Handle handle_;
  detail::CancelSlot* outer_ = nullptr;
  detail::CancelSlot own_;
};

// Starts task now, on the calling thread (which must be loop's), and lets it run on its own:
// its frame frees itself when it ends, and a failure goes to loop.report(), never lost.
inline void spawn(EventLoop& loop, Task<> task) {
  auto handle = task.release();
  handle.promise().detached_on = &loop;
  detail::LoopAccess::task_started(loop);
  handle.resume();
}

// asyncio.run: runs loop until task completes, then returns its value or rethrows its
// exception. Tasks it spawned that are still running stay on the loop.
template <class T>
T run_until_complete(EventLoop& loop, Task<T> task) {
  std::optional<std::conditional_t<std::is_void_v<T>, bool, T>> result;
  std::exception_ptr error;
  auto body = [&]() -> Task<> {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(task);
        result.emplace(true);
      } else {
        result.emplace(co_await std::move(task));
      }
    } catch (...) {
      error = std::current_exception();
    }
    loop.stop();
  };
  loop.post([&] { spawn(loop, body()); });
  loop.run();
  if (error) std::rethrow_exception(error);
  if (!result) throw std::logic_error("run_until_complete: the loop stopped before the task ended");
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace sockit
