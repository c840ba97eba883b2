// Cancellation of operations that wait: a CancelSource cancels every operation wrapped in
// with_cancel(token, op) with one of its tokens, and a TaskGroup (task_group.hpp) cancels
// whatever its tasks wait on.
//
//   CancelSource stop;
//   auto n = co_await with_cancel(stop.token(), with_timeout(5s, s.read_some(buf)));
//   ...  // elsewhere, on the same loop: stop.cancel();
//
// A cancelled operation that was parked resumes on a later turn with
// errc::operation_canceled; one started after the cancel fails at once, before its syscall.
// An operation that already finished keeps its result.
//
// Threads: cancel() must run on the thread of the loop whose operations it cancels. From
// another thread, post it: loop.post([&] { source.cancel(); }).
#pragma once

#include <system_error>
#include <utility>

namespace sockit {

class CancelSource;
class CancelToken;

namespace detail {

inline std::error_code cancelled_error() noexcept {
  return std::make_error_code(std::errc::operation_canceled);
}

// What one chain of tasks (a task and the tasks it awaits) is waiting on, so that a cancel
// reaches it. A chain waits on one operation at a time, so one slot per chain suffices: an
// awaiter registers itself when it parks and withdraws when it resumes. Awaiters take the
// slot through set_cancel_slot(), which a Task calls on everything it awaits.
class CancelSlot {
 public:
  // Whether an operation that starts now fails at once, and with what: operation_canceled
  // after cancel(), or the reason of an interrupt() that found nothing parked.
  bool cancelled() const noexcept { return refusal_ != 0; }
  std::error_code refusal() const noexcept { return {refusal_, std::generic_category()}; }

  // operation.cancel(reason) is what a cancel or an interrupt calls.
  template <class Operation>
  void park(Operation& operation) noexcept {
    parked_ = &operation;
    cancel_parked_ = [](void* parked, std::error_code reason) noexcept {
      static_cast<Operation*>(parked)->cancel(reason);
    };
  }
  void unpark(const void* operation) noexcept {
    if (parked_ == operation) parked_ = nullptr;
  }
  // For good: whatever the chain waits on later fails at once.
  void cancel() noexcept {
    forever_ = true;
    refusal_ = static_cast<int>(std::errc::operation_canceled);
    if (void* parked = std::exchange(parked_, nullptr)) cancel_parked_(parked, refusal());
  }
  // Once (a timeout of a task, see TaskOp): fails what the chain waits on with reason, or,
  // when it waits on nothing that parks here, the next operation it starts, until
  // clear_interrupt().
  void interrupt(std::error_code reason) noexcept {
    if (void* parked = std::exchange(parked_, nullptr)) {
      cancel_parked_(parked, reason);
    } else if (!forever_) {
      refusal_ = reason.category() == std::generic_category()
                     ? reason.value()
                     : static_cast<int>(std::errc::operation_canceled);
    }
  }
  void clear_interrupt() noexcept {
    if (!forever_) refusal_ = 0;
  }

 private:
  void* parked_ = nullptr;
  void (*cancel_parked_)(void*, std::error_code) noexcept = nullptr;
  int refusal_ = 0;  // an errc value, 0 for none: the slot is in every task's frame
  bool forever_ = false;
};

// An operation waiting under a CancelSource: an intrusive list node, so waiting allocates
// nothing.
class CancelLink {
 public:
  CancelLink() = default;
  CancelLink(const CancelLink&) = delete;
  CancelLink& operator=(const CancelLink&) = delete;

 protected:
  virtual ~CancelLink() { unlink(); }
  void link(CancelSource* source) noexcept;
  void unlink() noexcept;

 private:
  friend class sockit::CancelSource;
  virtual void cancel_parked() noexcept = 0;

  CancelSource* source_ = nullptr;
  CancelLink* prev_ = nullptr;
  CancelLink* next_ = nullptr;
};

}  // namespace detail

// Hands out tokens and cancels what waits under them. It must outlive the operations that
// wait under its tokens; destroying it leaves them waiting, no longer cancellable by it.
class CancelSource {
 public:
  CancelSource() = default;
  ~CancelSource();
  CancelSource(const CancelSource&) = delete;
  CancelSource& operator=(const CancelSource&) = delete;

  CancelToken token() noexcept;
  // For good: later operations under its tokens fail at once.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_; }

 private:
  friend class detail::CancelLink;
  detail::CancelLink* head_ = nullptr;
  bool cancelled_ = false;
};

// A CancelSource as the operations see it. A default token is never cancelled.
class CancelToken {
 public:
  CancelToken() noexcept = default;
  bool cancelled() const noexcept { return source_ != nullptr && source_->cancelled(); }
  CancelSource* source() const noexcept { return source_; }

 private:
  friend class CancelSource;
  explicit CancelToken(CancelSource* source) noexcept : source_(source) {}
  CancelSource* source_ = nullptr;
};

inline CancelToken CancelSource::token() noexcept {
  return CancelToken(this);
}

inline void detail::CancelLink::link(CancelSource* source) noexcept {
  source_ = source;
  prev_ = nullptr;
  next_ = std::exchange(source->head_, this);
  if (next_ != nullptr) next_->prev_ = this;
}

inline void detail::CancelLink::unlink() noexcept {
  if (source_ == nullptr) return;
  (prev_ != nullptr ? prev_->next_ : source_->head_) = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  source_ = nullptr;
}

inline CancelSource::~CancelSource() {
  while (head_ != nullptr)
    head_->unlink();
}

inline void CancelSource::cancel() noexcept {
  cancelled_ = true;
  while (head_ != nullptr) {
    detail::CancelLink* link = head_;
    link->unlink();
    link->cancel_parked();
  }
}

}  // namespace sockit
