// TaskGroup: tasks started together, joined together and cancelled together (asyncio's
// TaskGroup, without its cancel-on-first-failure).
//
//   TaskGroup group(loop);
//   for (auto& peer : peers) group.spawn(probe(peer));
//   co_await group.join();  // every task has ended
//
// spawn() starts a task at once, as spawn(loop, task) does: its frame frees itself when it
// ends and a failure (exception) goes to loop.report(). join() resumes its awaiter once the
// group has no task left, woken by the last task's end (no polling). cancel() fails every
// operation that the group's tasks wait on (reads, writes, accepts, connects, waits, sleeps,
// timeouts, joins of other groups) with errc::operation_canceled, and every operation they
// start afterwards at once: a task that checks its results ends soon after. Awaiters of
// other libraries that do not take a cancel slot are not reached.
//
// Destroying a group with live tasks cancels them and lets them go: they end on their own
// like tasks of spawn(loop, task), and a join still waiting resumes. Everything runs on the
// loop's thread.
#pragma once

#include <coroutine>
#include <cstddef>

#include "sockit/cancel.hpp"
#include "sockit/event_loop.hpp"
#include "sockit/task.hpp"

namespace sockit {

class TaskGroup {
 public:
  class Join;

  explicit TaskGroup(EventLoop& loop) noexcept : loop_(&loop) {}
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts task now, on the loop's thread. In a cancelled group, its operations fail at once.
  void spawn(Task<> task);
  // co_await: resumes once every task spawned in the group has ended; at once if none runs.
  Join join() noexcept;
  // For good: see the header comment.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }
  // Tasks spawned that have not ended.
  std::size_t size() const noexcept { return size_; }
  EventLoop& loop() const noexcept { return *loop_; }

  class Join {
   public:
    explicit Join(TaskGroup& group) noexcept : group_(&group) {}
    bool await_ready() const noexcept { return group_->size() == 0; }
    void await_suspend(std::coroutine_handle<> h) noexcept;
    void await_resume() noexcept;
    // A cancel of the awaiting task's own group cancels this group too (its join waits for
    // the tasks to end all the same).
    void set_cancel_slot(detail::CancelSlot* slot) noexcept { slot_ = slot; }
    void cancel(std::error_code) noexcept { group_->cancel(); }

   private:
    friend class TaskGroup;
    TaskGroup* group_;
    std::coroutine_handle<> handle_;
    Join* next_ = nullptr;
    detail::CancelSlot* slot_ = nullptr;
  };

 private:
  friend void detail::leave_group(detail::GroupMember& member) noexcept;
  void wake_joiners() noexcept;

  EventLoop* loop_;
  detail::GroupMember* head_ = nullptr;
  Join* joiners_ = nullptr;
  std::size_t size_ = 0;
  bool cancelled_ = false;
};

inline TaskGroup::Join TaskGroup::join() noexcept {
  return Join(*this);
}

}  // namespace sockit
