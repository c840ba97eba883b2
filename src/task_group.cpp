#include "sockit/task_group.hpp"

#include <utility>

namespace sockit {

void detail::leave_group(GroupMember& member) noexcept {
  TaskGroup& group = *std::exchange(member.group, nullptr);
  (member.prev != nullptr ? member.prev->next : group.head_) = member.next;
  if (member.next != nullptr) member.next->prev = member.prev;
  if (--group.size_ == 0) group.wake_joiners();
}

TaskGroup::~TaskGroup() {
  cancel();
  while (head_ != nullptr) {
    detail::GroupMember* member = std::exchange(head_, head_->next);
    member->group = nullptr;
  }
  size_ = 0;
  wake_joiners();
}

void TaskGroup::spawn(Task<> task) {
  auto handle = task.release();
  auto& promise = handle.promise();
  promise.detached_on = loop_;
  detail::GroupMember& member = promise.member;
  member.group = this;
  member.next = std::exchange(head_, &member);
  if (member.next != nullptr) member.next->prev = &member;
  promise.slot = &member.slot;
  if (cancelled_) member.slot.cancel();
  ++size_;
  detail::LoopAccess::task_started(*loop_);
  handle.resume();
}

void TaskGroup::cancel() noexcept {
  cancelled_ = true;
  for (auto* member = head_; member != nullptr; member = member->next)
    member->slot.cancel();
}

void TaskGroup::wake_joiners() noexcept {
  // On a later turn: the last task is still ending when it calls this.
  while (joiners_ != nullptr) {
    Join* joiner = std::exchange(joiners_, joiners_->next_);
    loop_->schedule(joiner->handle_);
  }
}

void TaskGroup::Join::await_suspend(std::coroutine_handle<> h) noexcept {
  handle_ = h;
  next_ = std::exchange(group_->joiners_, this);
  if (slot_ == nullptr) return;
  if (slot_->cancelled()) {
    group_->cancel();
  } else {
    slot_->park(*this);
  }
}

void TaskGroup::Join::await_resume() noexcept {
  if (slot_ != nullptr) slot_->unpark(this);
}

}  // namespace sockit
