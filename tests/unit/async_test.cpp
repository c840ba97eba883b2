// The async layer: loop, timers, tasks, cancellation and timeouts, and the loop group. Built
// into its own executable so that it also runs under ThreadSanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "async_support.hpp"
#include "sockit/async.hpp"
#include "sockit/loop_group.hpp"

namespace sockit {
namespace {

using namespace std::chrono_literals;
using test::stream_pair;

// Runs loop until stop() or until limit passes, so that a broken test ends instead of hanging.
void run_bounded(EventLoop& loop, std::chrono::duration<double> limit = 10s) {
  const auto guard = loop.call_later(limit, [&loop] {
    ADD_FAILURE() << "loop still running after the test's time limit";
    loop.stop();
  });
  loop.run();
  loop.cancel(guard);
}

class Recorder final : public TimerNode {
 public:
  Recorder(std::vector<int>& fired, int id) : fired_(fired), id_(id) {}

 private:
  void fire() noexcept override { fired_.push_back(id_); }
  std::vector<int>& fired_;
  int id_;
};

TEST(EventLoop, PostFromOtherThreadsRunsOnTheLoopThread) {
  EventLoop loop;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  int ran = 0;  // touched only on the loop's thread
  std::atomic<bool> all_on_loop_thread{true};
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        loop.post([&] {
          if (!loop.in_loop_thread()) all_on_loop_thread = false;
          if (++ran == kThreads * kPerThread) loop.stop();
        });
      }
    });
  }
  run_bounded(loop);
  for (auto& poster : posters)
    poster.join();
  EXPECT_EQ(ran, kThreads * kPerThread);
  EXPECT_TRUE(all_on_loop_thread);
}

TEST(EventLoop, RunInLoopRunsAtOnceOnTheLoopThread) {
  EventLoop loop;
  bool inline_run = false;
  loop.post([&] {
    loop.run_in_loop([&] { inline_run = true; });
    EXPECT_TRUE(inline_run);
    loop.stop();
  });
  run_bounded(loop);
  EXPECT_TRUE(inline_run);
}

TEST(EventLoop, StopFromAnotherThreadWakesABlockedLoop) {
  EventLoop loop;
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    loop.stop();
  });
  const auto start = SteadyClock::now();
  run_bounded(loop);
  stopper.join();
  EXPECT_LT(SteadyClock::now() - start, 5s);
}

TEST(Timers, FireInDeadlineOrderAndTiesInArmingOrder) {
  EventLoop loop;
  std::vector<int> fired;
  std::vector<std::unique_ptr<Recorder>> timers;
  const auto base = SteadyClock::now() + 20ms;
  const int offsets_ms[] = {30, 10, 20, 10, 0};
  for (int i = 0; i < 5; ++i) {
    timers.push_back(std::make_unique<Recorder>(fired, i));
    loop.arm(*timers.back(), base + std::chrono::milliseconds(offsets_ms[i]));
  }
  loop.call_later(200ms, [&] { loop.stop(); });
  run_bounded(loop);
  EXPECT_EQ(fired, (std::vector<int>{4, 1, 3, 2, 0}));
}

TEST(Timers, DisarmedAndRearmedTimersFireOnceAtTheirLastDeadline) {
  EventLoop loop;
  std::vector<int> fired;
  Recorder cancelled(fired, 1);
  Recorder moved(fired, 2);
  loop.arm(cancelled, SteadyClock::now() + 10ms);
  loop.disarm(cancelled);
  EXPECT_FALSE(cancelled.armed());
  loop.arm(moved, SteadyClock::now() + 10ms);
  loop.arm(moved, SteadyClock::now() + 60ms);
  loop.call_later(30ms, [&] { EXPECT_TRUE(fired.empty()); });
  loop.call_later(150ms, [&] { loop.stop(); });
  run_bounded(loop);
  EXPECT_EQ(fired, std::vector<int>{2});
}

TEST(Timers, HeapKeepsOrderUnderRandomArmAndDisarm) {
  EventLoop loop;
  std::vector<int> fired;
  constexpr int kTimers = 2000;
  std::vector<std::unique_ptr<Recorder>> timers;
  std::vector<int> delay_ms(kTimers);
  std::mt19937 random(12345);
  const auto base = SteadyClock::now() + 10ms;
  for (int i = 0; i < kTimers; ++i) {
    timers.push_back(std::make_unique<Recorder>(fired, i));
    delay_ms[static_cast<std::size_t>(i)] = static_cast<int>(random() % 100);
    loop.arm(*timers.back(),
             base + std::chrono::milliseconds(delay_ms[static_cast<std::size_t>(i)]));
  }
  std::vector<bool> disarmed(kTimers, false);
  for (int i = 0; i < kTimers; i += 3) {
    loop.disarm(*timers[static_cast<std::size_t>(i)]);
    disarmed[static_cast<std::size_t>(i)] = true;
  }
  loop.call_later(400ms, [&] { loop.stop(); });
  run_bounded(loop);
  std::vector<int> expected;
  for (int i = 0; i < kTimers; ++i) {
    if (!disarmed[static_cast<std::size_t>(i)]) expected.push_back(i);
  }
  std::stable_sort(expected.begin(), expected.end(), [&](int a, int b) {
    return delay_ms[static_cast<std::size_t>(a)] < delay_ms[static_cast<std::size_t>(b)];
  });
  EXPECT_EQ(fired, expected);
}

TEST(Timers, CallLaterCanBeCancelled) {
  EventLoop loop;
  bool ran = false;
  const auto id = loop.call_later(20ms, [&] { ran = true; });
  EXPECT_TRUE(loop.cancel(id));
  EXPECT_FALSE(loop.cancel(id));
  loop.call_later(80ms, [&] { loop.stop(); });
  run_bounded(loop);
  EXPECT_FALSE(ran);
}

Task<int> answer() {
  co_return 42;
}

Task<int> add_one(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await add_one(depth - 1);
}

Task<> fail() {
  throw std::runtime_error("boom");
  co_return;
}

Task<> expect_values(EventLoop& loop, bool& done) {
  EXPECT_EQ(co_await answer(), 42);
  // Deep chains complete by symmetric transfer without growing the stack per level.
  EXPECT_EQ(co_await add_one(100000), 100000);
  bool caught = false;
  try {
    co_await fail();
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "boom";
  }
  EXPECT_TRUE(caught);
  done = true;
  loop.stop();
}

TEST(Tasks, DeliverValuesAndExceptionsToTheAwaiter) {
  EventLoop loop;
  bool done = false;
  loop.post([&] { spawn(loop, expect_values(loop, done)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

TEST(Tasks, FailureOfADetachedTaskReachesTheErrorHandler) {
  EventLoop loop;
  std::string reported;
  loop.set_error_handler([&](std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      reported = e.what();
    }
    loop.stop();
  });
  loop.post([&] { spawn(loop, fail()); });
  run_bounded(loop);
  EXPECT_EQ(reported, "boom");
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

Task<int> after_sleep(EventLoop& loop) {
  static_cast<void>(co_await sleep(loop, 10ms));
  co_return 7;
}

Task<> throws_after_sleep(EventLoop& loop) {
  static_cast<void>(co_await sleep(loop, 10ms));
  throw std::runtime_error("late failure");
}

TEST(Tasks, RunUntilCompleteReturnsTheValueOrRethrows) {
  EventLoop loop;
  EXPECT_EQ(run_until_complete(loop, after_sleep(loop)), 7);
  EXPECT_THROW(run_until_complete(loop, throws_after_sleep(loop)), std::runtime_error);
  EXPECT_EQ(detail::LoopAccess::live_tasks(loop), 0u);
}

TEST(Tasks, AnUnawaitedTaskIsDestroyedWithoutRunning) {
  bool ran = false;
  auto body = [&]() -> Task<> {
    ran = true;
    co_return;
  };
  { auto task = body(); }
  EXPECT_FALSE(ran);
}

Task<> read_expect(Stream& stream, std::errc expected, bool& done, EventLoop& loop) {
  char buffer[16];
  auto n = co_await stream.read_some(buffer);
  EXPECT_FALSE(n.ok());
  EXPECT_EQ(n.error(), expected);
  done = true;
  loop.stop();
}

TEST(Cancellation, ClosingAStreamWakesItsReaderWithOperationCanceled) {
  EventLoop loop;
  auto streams = stream_pair(loop);
  Stream& a = streams.first;
  bool done = false;
  loop.post([&] {
    spawn(loop, read_expect(a, std::errc::operation_canceled, done, loop));
    loop.call_later(20ms, [&] { a.close(); });
  });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

Task<> timed_read(Stream& stream, std::chrono::duration<double>& waited, EventLoop& loop) {
  char buffer[16];
  const auto start = SteadyClock::now();
  auto n = co_await with_timeout(100ms, stream.read_some(buffer));
  waited = SteadyClock::now() - start;
  EXPECT_EQ(n.error(), std::errc::timed_out);
  loop.stop();
}

TEST(Cancellation, WithTimeoutFailsAReadThatNeverCompletes) {
  EventLoop loop;
  auto streams = stream_pair(loop);
  Stream& a = streams.first;
  std::chrono::duration<double> waited{0};
  loop.post([&] { spawn(loop, timed_read(a, waited, loop)); });
  run_bounded(loop);
  EXPECT_GE(waited, 100ms);
  EXPECT_LT(waited, 5s);
}

Task<> timed_read_in_time(Stream& reader, Stream& writer, bool& done, EventLoop& loop) {
  char buffer[16];
  auto sent = co_await writer.write_all("ping");
  EXPECT_TRUE(sent.ok() && *sent == 4);
  auto n = co_await with_timeout(5s, reader.read_some(buffer));
  EXPECT_EQ(std::string_view(buffer, n.ok() ? *n : 0), "ping");
  done = true;
  loop.stop();
}

TEST(Cancellation, WithTimeoutLetsAnOperationThatFinishesInTimeThrough) {
  EventLoop loop;
  auto streams = stream_pair(loop);
  Stream& a = streams.first;
  Stream& b = streams.second;
  bool done = false;
  loop.post([&] { spawn(loop, timed_read_in_time(a, b, done, loop)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

Task<> sleeper(EventLoop& loop, std::chrono::duration<double>& slept) {
  const auto start = SteadyClock::now();
  EXPECT_TRUE(co_await sleep(loop, 50ms));
  slept = SteadyClock::now() - start;
  loop.stop();
}

TEST(Sleep, SuspendsForAtLeastItsDuration) {
  EventLoop loop;
  std::chrono::duration<double> slept{0};
  loop.post([&] { spawn(loop, sleeper(loop, slept)); });
  run_bounded(loop);
  EXPECT_GE(slept, 50ms);
}

Task<> big_transfer(Stream& writer, Stream& reader, std::size_t size, bool& done, EventLoop& loop) {
  std::string sent(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    sent[i] = static_cast<char>('a' + i % 26);
  auto write_side = [](Stream& out, const std::string& data) -> Task<> {
    auto n = co_await out.write_all(data);
    EXPECT_TRUE(n.ok() && *n == data.size());
    EXPECT_TRUE(out.shutdown(Shut::wr));
  };
  spawn(loop, write_side(writer, sent));
  std::string received(size + 1, '\0');
  auto n = co_await reader.read_exactly(received);
  EXPECT_TRUE(n.ok());
  received.resize(n.ok() ? *n : 0);
  EXPECT_TRUE(received == sent);
  done = true;
  loop.stop();
}

TEST(Streams, WriteAllAndReadExactlyMoveLargeDataUnderBackPressure) {
  EventLoop loop;
  auto streams = stream_pair(loop);
  Stream& a = streams.first;
  Stream& b = streams.second;
  bool done = false;
  loop.post([&] { spawn(loop, big_transfer(a, b, 8u << 20, done, loop)); });
  run_bounded(loop, 30s);
  EXPECT_TRUE(done);
}

Task<> gathered_write(Stream& writer, Stream& reader, bool& done, EventLoop& loop) {
  const std::string_view parts[] = {"GET / HTTP/1.1\r\n", "", "Host: x\r\n", "\r\n"};
  auto n = co_await writer.write_all(parts);
  EXPECT_TRUE(n.ok() && *n == 27);
  char buffer[64];
  auto got = co_await reader.read_exactly({buffer, 27});
  EXPECT_EQ(std::string_view(buffer, got.ok() ? *got : 0), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  done = true;
  loop.stop();
}

TEST(Streams, WriteAllGathersSeveralBuffers) {
  EventLoop loop;
  auto streams = stream_pair(loop);
  Stream& a = streams.first;
  Stream& b = streams.second;
  bool done = false;
  loop.post([&] { spawn(loop, gathered_write(a, b, done, loop)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

Task<> accept_and_connect(EventLoop& loop, Listener& listener, bool& done) {
  const auto port = listener.socket().getsockname().port();
  auto accepting = [](Listener& l, std::string& greeting) -> Task<> {
    auto accepted = co_await l.accept();
    EXPECT_TRUE(accepted.ok());
    if (!accepted) co_return;
    EXPECT_EQ(accepted->peer.host(), "127.0.0.1");
    char buffer[16];
    auto n = co_await accepted->stream.read_some(buffer);
    if (n) greeting.assign(buffer, *n);
  };
  std::string greeting;
  spawn(loop, accepting(listener, greeting));
  auto stream = co_await connect(loop, Address("127.0.0.1", port), 5s);
  EXPECT_TRUE(stream.ok());
  if (stream) {
    EXPECT_TRUE(co_await stream->write_all("hello"));
  }
  static_cast<void>(co_await sleep(loop, 20ms));
  EXPECT_EQ(greeting, "hello");
  done = true;
  loop.stop();
}

TEST(Streams, ConnectAndAcceptOnLoopback) {
  EventLoop loop;
  auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
  bool done = false;
  loop.post([&] { spawn(loop, accept_and_connect(loop, listener, done)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

Task<> refused(EventLoop& loop, std::uint16_t port, bool& done) {
  auto stream = co_await connect(loop, Address("127.0.0.1", port), 5s);
  EXPECT_EQ(stream.error(), std::errc::connection_refused);
  done = true;
  loop.stop();
}

TEST(Streams, ConnectToAClosedPortIsRefused) {
  EventLoop loop;
  std::uint16_t port = 0;
  {
    Socket probe(Family::inet, Type::stream);
    probe.bind(Endpoint::loopback(Family::inet, 0));
    port = probe.getsockname().port();
  }
  bool done = false;
  loop.post([&] { spawn(loop, refused(loop, port, done)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

Task<> datagram_echo(EventLoop& loop, DatagramSocket& server, DatagramSocket& client, bool& done) {
  const Endpoint to = server.socket().getsockname();
  auto sent = co_await client.sendto("", to);
  EXPECT_TRUE(sent.ok() && *sent == 0);
  char buffer[64];
  Endpoint from;
  auto n = co_await with_timeout(5s, server.recvfrom(buffer, from));
  EXPECT_TRUE(n.ok() && *n == 0);
  EXPECT_EQ(from, client.socket().getsockname());
  done = true;
  loop.stop();
}

TEST(Datagrams, AnEmptyDatagramArrivesWithItsSource) {
  EventLoop loop;
  auto server = bind_datagram(loop, Endpoint::loopback(Family::inet, 0));
  auto client = bind_datagram(loop, Endpoint::loopback(Family::inet, 0));
  bool done = false;
  loop.post([&] { spawn(loop, datagram_echo(loop, server, client, done)); });
  run_bounded(loop);
  EXPECT_TRUE(done);
}

TEST(LoopGroup, RunsEveryLoopOnItsOwnThreadUntilStopped) {
  LoopGroup group(3);
  ASSERT_EQ(group.size(), 3u);
  std::atomic<int> ran{0};
  std::vector<std::thread::id> threads(3);
  for (std::size_t i = 0; i < group.size(); ++i) {
    group[i].post([&, i] {
      threads[i] = std::this_thread::get_id();
      if (++ran == 3) group.stop();
    });
  }
  group.run();
  EXPECT_EQ(ran, 3);
  EXPECT_NE(threads[0], threads[1]);
  EXPECT_NE(threads[1], threads[2]);
  EXPECT_EQ(threads[0], std::this_thread::get_id());
}

TEST(LoopGroup, AnExceptionEscapingALoopStopsTheGroupAndIsRethrown) {
  LoopGroup group(2);
  // A signal handler's exception is not a task failure: it escapes the loop.
  group[0].on_signals({SIGUSR1}, [](int) { throw std::runtime_error("handler failed"); });
  group[0].post([] { std::raise(SIGUSR1); });
  EXPECT_THROW(group.run(), std::runtime_error);
}

TEST(EventLoop, AFailingPostedFunctionIsReportedAndTheLoopGoesOn) {
  EventLoop loop;
  std::string reported;
  loop.set_error_handler([&](std::exception_ptr error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      reported = e.what();
    }
  });
  bool later_ran = false;
  loop.post([] { throw std::runtime_error("posted failed"); });
  loop.post([&] {
    later_ran = true;
    loop.stop();
  });
  run_bounded(loop);
  EXPECT_EQ(reported, "posted failed");
  EXPECT_TRUE(later_ran);
}

}  // namespace
}  // namespace sockit
