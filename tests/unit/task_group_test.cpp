// TaskGroup, cancellation tokens and the one-waiter-per-direction rule, over real sockets
// (socket pairs and loopback listeners). Part of async_tests, so it also runs under TSan.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "async_support.hpp"
#include "sockit/async.hpp"
#include "sockit/cancel.hpp"
#include "sockit/task_group.hpp"

namespace sockit {
namespace {

using namespace std::chrono_literals;
using test::open_fds;
using test::run_task;
using test::stream_pair;

constexpr auto kForever = std::chrono::hours(1);
const auto kCanceled = std::make_error_code(std::errc::operation_canceled);

TEST(TaskGroup, JoinResumesOnceTheLastTaskHasEnded) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  auto c_d = stream_pair(loop);
  Stream& c = c_d.first;
  Stream& d = c_d.second;
  std::vector<std::string> events;
  auto reader = [&events](Stream& s, std::string name) -> Task<> {
    char buffer[8];
    auto n = co_await s.read_some(buffer);
    EXPECT_TRUE(n.ok());
    events.push_back(name);
  };
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    group.spawn(reader(a, "a"));
    group.spawn(reader(c, "c"));
    EXPECT_EQ(group.size(), 2u);
    // The writes come from a task outside the group, after the join has parked.
    auto write_later = [&]() -> Task<> {
      EXPECT_TRUE((co_await b.write_all("x")).ok());
      static_cast<void>(co_await sleep(loop, 10ms));
      events.push_back("second write");
      EXPECT_TRUE((co_await d.write_all("y")).ok());
    };
    spawn(loop, write_later());
    co_await group.join();
    events.push_back("joined");
    EXPECT_EQ(group.size(), 0u);
  };
  run_task(loop, body());
  EXPECT_EQ(events, (std::vector<std::string>{"a", "second write", "c", "joined"}));
}

TEST(TaskGroup, JoinOfAnEmptyGroupReturnsWithoutSuspending) {
  EventLoop loop;
  TaskGroup group(loop);
  EXPECT_TRUE(group.join().await_ready());
  bool joined = false;
  auto body = [&]() -> Task<> {
    co_await group.join();
    joined = true;
  };
  // Not running yet: only a join that does not suspend can finish inside spawn().
  spawn(loop, body());
  EXPECT_TRUE(joined);
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

TEST(TaskGroup, JoinOfTasksThatEndWithoutSuspendingReturnsAtOnce) {
  EventLoop loop;
  TaskGroup group(loop);
  int ran = 0;
  for (int i = 0; i < 3; ++i)
    group.spawn([](int& count) -> Task<> {
      ++count;
      co_return;
    }(ran));
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(group.size(), 0u);
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

Task<> expect_error(Task<std::error_code> operation, std::error_code expected, int& ended) {
  EXPECT_EQ(co_await std::move(operation), expected);
  ++ended;
}

TEST(TaskGroup, CancelResumesEveryKindOfParkedOperation) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  auto idle_pair = stream_pair(loop);
  Stream& idle = idle_pair.first;
  auto full_pair = stream_pair(loop);  // nobody reads the other end: full's buffer fills
  Stream& full = full_pair.first;
  auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
  int ended = 0;
  const std::string big(8 << 20, 'x');  // more than the socket buffers hold
  auto read = [&]() -> Task<std::error_code> {
    char buffer[8];
    auto n = co_await a.read_some(buffer);
    co_return n ? std::error_code() : n.error();
  };
  // A task awaited by the group's task: the cancel reaches what it waits on too.
  auto nested_read = [&]() -> Task<std::error_code> {
    auto inner = [&]() -> Task<std::error_code> { co_return (co_await b.wait_readable()).error(); };
    co_return co_await inner();
  };
  auto timed_read = [&]() -> Task<std::error_code> {
    char buffer[8];
    auto n = co_await with_timeout(kForever, idle.read_some(buffer));
    co_return n ? std::error_code() : n.error();
  };
  auto write = [&]() -> Task<std::error_code> {
    auto n = co_await full.write_all(big);
    co_return n ? std::error_code() : n.error();
  };
  auto accept = [&]() -> Task<std::error_code> {
    auto conn = co_await listener.accept();
    co_return conn ? std::error_code() : conn.error();
  };
  auto nap = [&]() -> Task<std::error_code> { co_return (co_await sleep(loop, kForever)).error(); };
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    group.spawn(expect_error(read(), kCanceled, ended));
    group.spawn(expect_error(nested_read(), kCanceled, ended));
    group.spawn(expect_error(timed_read(), kCanceled, ended));
    group.spawn(expect_error(write(), kCanceled, ended));
    group.spawn(expect_error(accept(), kCanceled, ended));
    group.spawn(expect_error(nap(), kCanceled, ended));
    EXPECT_EQ(group.size(), 6u);
    static_cast<void>(co_await sleep(loop, 10ms));
    EXPECT_EQ(ended, 0);
    group.cancel();
    EXPECT_EQ(ended, 0);  // resumed on a later turn, never inside cancel()
    co_await group.join();
  };
  run_task(loop, body());
  EXPECT_EQ(ended, 6);
}

TEST(TaskGroup, OperationsStartedAfterCancelFailAtOnceAndConsumeNothing) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  ASSERT_TRUE(b.socket().try_send("ping").ok());
  int ended = 0;
  auto read = [&]() -> Task<std::error_code> {
    char buffer[8];
    auto n = co_await a.read_some(buffer);
    co_return n ? std::error_code() : n.error();
  };
  auto nap = [&]() -> Task<std::error_code> { co_return (co_await sleep(loop, kForever)).error(); };
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    group.cancel();
    group.spawn(expect_error(read(), kCanceled, ended));
    group.spawn(expect_error(nap(), kCanceled, ended));
    co_await group.join();
    char buffer[8];
    auto n = co_await a.read_some(buffer);  // outside the group: the bytes are still there
    EXPECT_EQ(std::string_view(buffer, n.ok() ? *n : 0), "ping");
  };
  run_task(loop, body());
  EXPECT_EQ(ended, 2);
}

TEST(TaskGroup, CancelReachesTheTasksOfAGroupItsTaskJoins) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  int ended = 0;
  auto read = [&]() -> Task<std::error_code> {
    char buffer[8];
    auto n = co_await a.read_some(buffer);
    co_return n ? std::error_code() : n.error();
  };
  auto outer_task = [&]() -> Task<> {
    TaskGroup inner(loop);
    inner.spawn(expect_error(read(), kCanceled, ended));
    co_await inner.join();
    ++ended;
  };
  auto body = [&]() -> Task<> {
    TaskGroup outer(loop);
    outer.spawn(outer_task());
    static_cast<void>(co_await sleep(loop, 10ms));
    outer.cancel();
    co_await outer.join();
  };
  run_task(loop, body());
  EXPECT_EQ(ended, 2);
}

TEST(TaskGroup, AFailingTaskReachesReportAndTheOthersGoOn) {
  EventLoop loop;
  std::vector<std::string> reported;
  loop.set_error_handler([&](std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      reported.emplace_back(e.what());
    }
  });
  int finished = 0;
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    group.spawn([](EventLoop& l) -> Task<> {
      static_cast<void>(co_await sleep(l, 1ms));
      throw std::runtime_error("boom");
    }(loop));
    group.spawn([](EventLoop& l, int& count) -> Task<> {
      static_cast<void>(co_await sleep(l, 5ms));
      ++count;
    }(loop, finished));
    co_await group.join();
  };
  run_task(loop, body());
  EXPECT_EQ(reported, std::vector<std::string>{"boom"});
  EXPECT_EQ(finished, 1);
}

TEST(TaskGroup, DestroyingAGroupWithLiveTasksCancelsThemAndTheyEndOnTheirOwn) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  int ended = 0;
  auto read = [&]() -> Task<std::error_code> {
    char buffer[8];
    auto n = co_await a.read_some(buffer);
    co_return n ? std::error_code() : n.error();
  };
  auto nap = [&]() -> Task<std::error_code> { co_return (co_await sleep(loop, kForever)).error(); };
  auto body = [&]() -> Task<> {
    {
      TaskGroup group(loop);
      group.spawn(expect_error(read(), kCanceled, ended));
      group.spawn(expect_error(nap(), kCanceled, ended));
    }
    EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 3u);  // this one and the two let go
    for (int i = 0; i < 1000 && ended < 2; ++i)
      static_cast<void>(co_await sleep(loop, 1ms));
  };
  run_task(loop, body());
  EXPECT_EQ(ended, 2);
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

TEST(TaskGroup, ManyConnectionsCancelledTogetherLeakNoDescriptor) {
  const std::size_t before = open_fds();
  {
    EventLoop loop;
    auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
    const Endpoint where = listener.socket().getsockname();
    int cancelled = 0;
    auto serve = [&](TaskGroup& group) -> Task<> {
      for (;;) {
        auto conn = co_await listener.accept();
        if (!conn) {
          if (conn.error() == kCanceled) ++cancelled;
          co_return;
        }
        group.spawn([](Stream s, int& count) -> Task<> {
          char buffer[8];
          auto n = co_await s.read_some(buffer);
          if (!n && n.error() == kCanceled) ++count;
        }(std::move(conn->stream), cancelled));
      }
    };
    auto client = [&](int& count) -> Task<> {
      auto stream = co_await connect(loop, Address("127.0.0.1", where.port()), 5s);
      if (!stream) co_return;
      char buffer[8];
      auto n = co_await stream->read_some(buffer);
      if (!n && n.error() == kCanceled) ++count;
    };
    auto body = [&]() -> Task<> {
      TaskGroup group(loop);
      group.spawn(serve(group));
      for (int i = 0; i < 20; ++i)
        group.spawn(client(cancelled));
      // The acceptor, 20 clients and 20 served connections.
      for (int i = 0; i < 5000 && group.size() < 41; ++i)
        static_cast<void>(co_await sleep(loop, 1ms));
      group.cancel();
      co_await group.join();
    };
    run_task(loop, body());
    EXPECT_EQ(cancelled, 41);
  }
  EXPECT_EQ(open_fds(), before);
}

TEST(CancelToken, CancelsWhatWaitsUnderItAndComposesWithTimeouts) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  CancelSource source;
  std::vector<std::error_code> outcomes;
  auto body = [&]() -> Task<> {
    char buffer[8];
    // Not cancelled: with_timeout inside with_cancel still times out, and the other way.
    auto n = co_await with_cancel(source.token(), with_timeout(10ms, a.read_some(buffer)));
    outcomes.push_back(n.error());
    n = co_await with_timeout(10ms, with_cancel(source.token(), a.read_some(buffer)));
    outcomes.push_back(n.error());
    // Finished operations pass their result through.
    EXPECT_TRUE((co_await b.write_all("hi")).ok());
    n = co_await with_cancel(source.token(), with_timeout(5s, a.read_some(buffer)));
    EXPECT_EQ(std::string_view(buffer, n.ok() ? *n : 0), "hi");
    // Cancelled while parked, from another task.
    auto cancel_later = [&]() -> Task<> {
      static_cast<void>(co_await sleep(loop, 10ms));
      source.cancel();
    };
    spawn(loop, cancel_later());
    n = co_await with_cancel(source.token(), with_timeout(kForever, a.read_some(buffer)));
    outcomes.push_back(n.error());
    // Cancelled before it starts: fails at once, and reads nothing.
    EXPECT_TRUE((co_await b.write_all("x")).ok());
    n = co_await with_cancel(source.token(), a.read_some(buffer));
    outcomes.push_back(n.error());
    outcomes.push_back((co_await with_cancel(source.token(), sleep(loop, kForever))).error());
    n = co_await a.read_some(buffer);
    EXPECT_EQ(std::string_view(buffer, n.ok() ? *n : 0), "x");
    // A default token never cancels.
    n = co_await with_cancel(CancelToken(), with_timeout(10ms, a.read_some(buffer)));
    outcomes.push_back(n.error());
  };
  run_task(loop, body());
  const auto timed_out = std::make_error_code(std::errc::timed_out);
  EXPECT_EQ(outcomes, (std::vector<std::error_code>{timed_out, timed_out, kCanceled, kCanceled,
                                                    kCanceled, timed_out}));
}

TEST(CancelToken, DestroyingTheSourceLeavesItsOperationsWaiting) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  auto body = [&]() -> Task<> {
    auto source = std::make_unique<CancelSource>();
    auto drop_source_then_write = [&]() -> Task<> {
      static_cast<void>(co_await sleep(loop, 10ms));
      source.reset();
      EXPECT_TRUE((co_await b.write_all("ok")).ok());
    };
    spawn(loop, drop_source_then_write());
    char buffer[8];
    auto n = co_await with_cancel(source->token(), a.read_some(buffer));
    EXPECT_EQ(std::string_view(buffer, n.ok() ? *n : 0), "ok");
  };
  run_task(loop, body());
}

TEST(Streams, ASecondReadWhileOneIsParkedFailsWithBusyAndTheFirstGoesOn) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  std::string first;
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    auto first_reader = [&]() -> Task<> {
      char buffer[8];
      auto n = co_await a.read_some(buffer);
      first.assign(buffer, n.ok() ? *n : 0);
    };
    group.spawn(first_reader());
    char buffer[8];
    auto n = co_await a.read_some(buffer);
    EXPECT_EQ(n.error(), std::errc::device_or_resource_busy);
    EXPECT_EQ((co_await a.wait_readable()).error(), std::errc::device_or_resource_busy);
    EXPECT_TRUE((co_await b.write_all("data")).ok());
    co_await group.join();
  };
  run_task(loop, body());
  EXPECT_EQ(first, "data");
}

TEST(Streams, ASecondWriteWhileOneIsParkedFailsWithBusyAndTheFirstGoesOn) {
  EventLoop loop;
  auto a_b = stream_pair(loop);
  Stream& a = a_b.first;
  Stream& b = a_b.second;
  const std::string big(8 << 20, 'x');
  std::size_t received = 0;
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    auto first_writer = [&]() -> Task<> {
      auto n = co_await a.write_all(big);
      EXPECT_TRUE(n.ok() && *n == big.size());
      EXPECT_TRUE(a.shutdown(Shut::wr));
    };
    group.spawn(first_writer());
    auto n = co_await a.write_all("interleaved");
    EXPECT_EQ(n.error(), std::errc::device_or_resource_busy);
    std::string buffer(1 << 16, '\0');
    for (;;) {
      auto got = co_await b.read_some(buffer);
      if (!got || *got == 0) break;
      EXPECT_EQ(std::string_view(buffer.data(), *got).find_first_not_of('x'), std::string::npos);
      received += *got;
    }
    co_await group.join();
  };
  run_task(loop, body());
  EXPECT_EQ(received, big.size());
}

}  // namespace
}  // namespace sockit
