#include "sockit/event_loop.hpp"

#include <cassert>
#include <cerrno>
#include <climits>
#include <iostream>

#include "sockit/deadline.hpp"
#include "sockit/error.hpp"
#include "sys/event.hpp"

namespace sockit {
namespace {

thread_local EventLoop* current_loop = nullptr;

// Tags that mark the loop's own descriptors in epoll_event.data.
char wakeup_tag;
char signal_tag;

constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
constexpr std::uint32_t kWriteEvents = EPOLLOUT | EPOLLHUP | EPOLLERR;
constexpr int kMaxEvents = 256;

void print_failure(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::cerr << "sockit: task failed: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "sockit: task failed with an unknown exception\n";
  }
}

}  // namespace

class EventLoop::CallbackTimer final : public TimerNode {
 public:
  CallbackTimer(EventLoop& loop, std::uint64_t id, std::function<void()> fn)
      : loop_(loop), id_(id), fn_(std::move(fn)) {}

 private:
  void fire() noexcept override {
    auto fn = std::move(fn_);
    EventLoop& loop = loop_;
    loop.callbacks_.erase(id_);  // destroys this
    try {
      fn();
    } catch (...) {
      loop.report(std::current_exception());
    }
  }

  EventLoop& loop_;
  std::uint64_t id_;
  std::function<void()> fn_;
};

EventLoop::EventLoop()
    : epoll_(sys::epoll_create().value_or_throw("epoll_create")),
      wakeup_(sys::eventfd().value_or_throw("eventfd")),
      error_handler_(print_failure) {
  throw_if(sys::epoll_add(epoll_.get(), wakeup_.get(), EPOLLIN | EPOLLET, &wakeup_tag),
           "epoll_ctl eventfd");
}

EventLoop::~EventLoop() {
  // Timers still armed belong to frames that outlive the loop only by mistake; forget them.
  for (auto* timer : timers_)
    timer->index_ = TimerNode::kNotArmed;
  callbacks_.clear();
}

EventLoop* EventLoop::current() noexcept {
  return current_loop;
}

bool EventLoop::in_loop_thread() const noexcept {
  return owner_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void EventLoop::assert_owner() const noexcept {
  assert(!running_.load(std::memory_order_acquire) || in_loop_thread());
}

void EventLoop::run() {
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
  running_.store(true, std::memory_order_release);
  // Also when epoll_wait throws: another thread may then tear the loop's users down.
  struct Running {
    EventLoop& loop;
    EventLoop* previous = std::exchange(current_loop, &loop);
    ~Running() {
      loop.running_.store(false, std::memory_order_release);
      current_loop = previous;
    }
  } running{*this};
  epoll_event events[kMaxEvents];
  while (!stopped()) {
    run_ready();
    const int timeout = ready_.empty() && deferred_.empty() ? next_timeout_ms() : 0;
    const int n = sys::epoll_wait(epoll_.get(), events, timeout).value_or_throw("epoll_wait");
    for (int i = 0; i < n; ++i)
      dispatch(events[i]);
    run_timers();
    if (!deferred_.empty()) {
      ready_.insert(ready_.end(), deferred_.begin(), deferred_.end());
      deferred_.clear();
    }
    for (auto& handle : retired_)
      free_handles_.push_back(std::move(handle));
    retired_.clear();
  }
  run_ready();
  stop_requested_.store(false, std::memory_order_release);
}

void EventLoop::stop() noexcept {
  stop_requested_.store(true, std::memory_order_release);
  sys::eventfd_signal(wakeup_.get());
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  sys::eventfd_signal(wakeup_.get());
}

void EventLoop::run_in_loop(std::function<void()> fn) {
  if (in_loop_thread()) {
    fn();
  } else {
    post(std::move(fn));
  }
}

void EventLoop::schedule(std::coroutine_handle<> handle) {
  assert_owner();
  ready_.push_back(handle);
}

void EventLoop::defer(std::coroutine_handle<> handle) {
  assert_owner();
  deferred_.push_back(handle);
}

void EventLoop::run_ready() {
  while (!ready_.empty()) {
    ready_running_.swap(ready_);
    for (auto handle : ready_running_)
      handle.resume();
    ready_running_.clear();
  }
}

void EventLoop::run_posted() {
  sys::eventfd_drain(wakeup_.get());
  {
    std::lock_guard lock(posted_mutex_);
    posted_running_.swap(posted_);
  }
  for (auto& fn : posted_running_) {
    try {
      fn();
    } catch (...) {
      report(std::current_exception());
    }
  }
  posted_running_.clear();
}

void EventLoop::dispatch(const epoll_event& event) {
  if (event.data.ptr == &wakeup_tag) {
    run_posted();
    return;
  }
  if (event.data.ptr == &signal_tag) {
    while (const int signal = sys::signalfd_read(signals_.get()))
      signal_handler_(signal);
    return;
  }
  auto* handle = static_cast<detail::IoHandle*>(event.data.ptr);
  if ((event.events & kReadEvents) != 0) ++handle->read_events;
  if ((event.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) handle->hangup = true;
  // A resumed reader may remove the registration; remove() clears both waiters, so the
  // writer check below then finds nothing.
  if ((event.events & kReadEvents) != 0 && handle->reader && handle->reader->attempt()) {
    detail::IoWaiter* waiter = std::exchange(handle->reader, nullptr);
    waiter->parked_on_ = nullptr;
    waiter->handle_.resume();
  }
  if ((event.events & kWriteEvents) != 0 && handle->writer && handle->writer->attempt()) {
    detail::IoWaiter* waiter = std::exchange(handle->writer, nullptr);
    waiter->parked_on_ = nullptr;
    waiter->handle_.resume();
  }
}

detail::IoHandle* EventLoop::add(int fd) {
  assert_owner();
  std::unique_ptr<detail::IoHandle> handle;
  if (free_handles_.empty()) {
    handle = std::make_unique<detail::IoHandle>();
  } else {
    handle = std::move(free_handles_.back());
    free_handles_.pop_back();
  }
  *handle = detail::IoHandle{.fd = fd};
  throw_if(sys::epoll_add(epoll_.get(), fd, kReadEvents | kWriteEvents | EPOLLET, handle.get()),
           "epoll_ctl add");
  return handle.release();
}

void EventLoop::remove(detail::IoHandle* handle) noexcept {
  assert_owner();
  sys::epoll_remove(epoll_.get(), handle->fd);
  const auto cancelled = std::make_error_code(std::errc::operation_canceled);
  if (handle->reader) cancel(*handle->reader, cancelled);
  if (handle->writer) cancel(*handle->writer, cancelled);
  handle->fd = -1;
  retired_.emplace_back(handle);
}

void EventLoop::park(detail::IoHandle* handle, bool writer, detail::IoWaiter& waiter,
                     std::coroutine_handle<> h) noexcept {
  assert_owner();
  waiter.handle_ = h;
  waiter.parked_on_ = handle;
  waiter.is_writer_ = writer;
  (writer ? handle->writer : handle->reader) = &waiter;
}

void EventLoop::cancel(detail::IoWaiter& waiter, std::error_code reason) noexcept {
  assert_owner();
  detail::IoHandle* handle = std::exchange(waiter.parked_on_, nullptr);
  if (!handle) return;
  (waiter.is_writer_ ? handle->writer : handle->reader) = nullptr;
  waiter.cancelled_ = reason;
  ready_.push_back(waiter.handle_);
}

bool EventLoop::timer_before(std::size_t a, std::size_t b) const noexcept {
  const TimerNode& x = *timers_[a];
  const TimerNode& y = *timers_[b];
  return x.deadline_ != y.deadline_ ? x.deadline_ < y.deadline_ : x.sequence_ < y.sequence_;
}

void EventLoop::swap_timers(std::size_t a, std::size_t b) noexcept {
  std::swap(timers_[a], timers_[b]);
  timers_[a]->index_ = a;
  timers_[b]->index_ = b;
}

void EventLoop::sift_up(std::size_t index) noexcept {
  while (index > 0) {
    const std::size_t parent = (index - 1) / 2;
    if (!timer_before(index, parent)) return;
    swap_timers(index, parent);
    index = parent;
  }
}

void EventLoop::sift_down(std::size_t index) noexcept {
  for (;;) {
    const std::size_t left = 2 * index + 1;
    if (left >= timers_.size()) return;
    const std::size_t right = left + 1;
    const std::size_t child = right < timers_.size() && timer_before(right, left) ? right : left;
    if (!timer_before(child, index)) return;
    swap_timers(index, child);
    index = child;
  }
}

void EventLoop::remove_timer_at(std::size_t index) noexcept {
  const std::size_t last = timers_.size() - 1;
  if (index != last) swap_timers(index, last);
  timers_.back()->index_ = TimerNode::kNotArmed;
  timers_.pop_back();
  if (index < timers_.size()) {
    sift_down(index);
    sift_up(index);
  }
}

void EventLoop::arm(TimerNode& timer, SteadyClock::time_point deadline) {
  assert_owner();
  disarm(timer);
  timer.deadline_ = deadline;
  timer.sequence_ = timer_sequence_++;
  timer.index_ = timers_.size();
  timers_.push_back(&timer);
  sift_up(timer.index_);
}

void EventLoop::disarm(TimerNode& timer) noexcept {
  if (timer.armed()) remove_timer_at(timer.index_);
}

void EventLoop::run_timers() {
  const auto now = SteadyClock::now();
  while (!timers_.empty() && timers_.front()->deadline_ <= now) {
    TimerNode* timer = timers_.front();
    remove_timer_at(0);
    timer->fire();
  }
}

int EventLoop::next_timeout_ms() const noexcept {
  if (timers_.empty()) return -1;
  const auto left = timers_.front()->deadline_ - SteadyClock::now();
  if (left <= SteadyClock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

std::uint64_t EventLoop::call_later(std::chrono::duration<double> delay, std::function<void()> fn) {
  assert_owner();
  const std::uint64_t id = next_callback_id_++;
  auto timer = std::make_unique<CallbackTimer>(*this, id, std::move(fn));
  arm(*timer, deadline_after(delay));
  callbacks_.emplace(id, std::move(timer));
  return id;
}

bool EventLoop::cancel(std::uint64_t id) noexcept {
  auto it = callbacks_.find(id);
  if (it == callbacks_.end()) return false;
  disarm(*it->second);
  callbacks_.erase(it);
  return true;
}

void EventLoop::on_signals(std::initializer_list<int> signals, std::function<void(int)> handler) {
  signals_.reset(sys::signalfd(signals).value_or_throw("signalfd"));
  signal_handler_ = std::move(handler);
  throw_if(sys::epoll_add(epoll_.get(), signals_.get(), EPOLLIN | EPOLLET, &signal_tag),
           "epoll_ctl signalfd");
}

void EventLoop::set_error_handler(std::function<void(std::exception_ptr)> handler) {
  error_handler_ = std::move(handler);
}

void EventLoop::report(std::exception_ptr error) noexcept {
  try {
    error_handler_(error);
  } catch (...) {
    print_failure(std::current_exception());
  }
}

}  // namespace sockit
