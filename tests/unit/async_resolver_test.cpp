// Resolution off the loop (to_thread, resolve) and happy-eyeballs connect, on loopback only:
// the names are numeric, "localhost" (/etc/hosts) or under .invalid, which never leaves the
// process. Part of async_tests.
#include <gtest/gtest.h>
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <vector>

#include "async_support.hpp"
#include "sockit/async.hpp"
#include "sockit/async_resolver.hpp"
#include "sockit/task_group.hpp"
#include "sockit/to_thread.hpp"

namespace sockit {
namespace {

using namespace std::chrono_literals;
using test::run_task;

const auto kCanceled = std::make_error_code(std::errc::operation_canceled);
const auto kTimedOut = std::make_error_code(std::errc::timed_out);

bool has(const std::vector<Endpoint>& endpoints, const std::string& host) {
  for (const auto& endpoint : endpoints) {
    if (endpoint.host() == host) return true;
  }
  return false;
}

TEST(Resolve, NumericHostsAreAnsweredAtOnce) {
  EventLoop loop;
  auto v4 = resolve(loop, Address("127.0.0.1", 80));
  ASSERT_TRUE(v4.await_ready());
  auto four = v4.await_resume();
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->front().to_string(), "127.0.0.1:80");
  auto v6 = resolve(loop, Address("::1", 443));
  ASSERT_TRUE(v6.await_ready());
  auto six = v6.await_resume();
  ASSERT_TRUE(six.ok());
  EXPECT_EQ(six->front().family(), Family::inet6);
  EXPECT_EQ(six->front().port(), 443);
}

TEST(Resolve, LocalhostIsLookedUpOffTheLoop) {
  EventLoop loop;
  std::optional<Result<std::vector<Endpoint>>> found;
  auto body = [&]() -> Task<> {
    auto lookup = resolve(loop, Address("localhost", 8080));
    EXPECT_FALSE(lookup.await_ready());  // a name, not a number: it goes to a thread
    found = co_await with_timeout(5s, std::move(lookup));
  };
  run_task(loop, body());
  ASSERT_TRUE(found && found->ok());
  EXPECT_TRUE(has(**found, "127.0.0.1"));
  EXPECT_EQ((*found)->front().port(), 8080);
}

TEST(Resolve, NamesUnderInvalidFailAtOnceWithAGaiError) {
  EventLoop loop;
  for (const char* name : {"nothing.invalid", "a.b.INVALID.", "invalid"}) {
    auto lookup = resolve(loop, Address(name, 80));
    ASSERT_TRUE(lookup.await_ready()) << name;
    auto result = lookup.await_resume();
    ASSERT_FALSE(result.ok()) << name;
    EXPECT_EQ(result.error().category(), gai_category());
    EXPECT_EQ(result.error().value(), EAI_NONAME);
  }
  // Not under .invalid: left to the resolver (not looked up here).
  EXPECT_FALSE(resolve(loop, Address("invalid.example", 80)).await_ready());
  EXPECT_FALSE(resolve(loop, Address("xinvalid", 80)).await_ready());
}

TEST(Resolve, ACancelledLookupEndsAtOnceAndItsAnswerIsDropped) {
  EventLoop loop;
  std::optional<Result<std::vector<Endpoint>>> found;
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    auto lookup = [&]() -> Task<> { found = co_await resolve(loop, Address("localhost", 80)); };
    group.spawn(lookup());
    // The answer can only reach the loop after this turn: the cancel comes first.
    group.cancel();
    co_await group.join();
    static_cast<void>(
        co_await sleep(loop, 20ms));  // the worker's late answer arrives, and must be dropped
  };
  run_task(loop, body());
  ASSERT_TRUE(found);
  EXPECT_EQ(found->error(), kCanceled);
}

TEST(ToThread, AWaitEndedWhileTheFunctionRunsDropsItsLateResult) {
  EventLoop loop;
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  CancelSource source;
  std::optional<Result<int>> got;
  auto body = [&]() -> Task<> {
    auto cancel_once_started = [&]() -> Task<> {
      for (int i = 0; i < 5000 && !started; ++i)
        static_cast<void>(co_await sleep(loop, 1ms));
      source.cancel();
    };
    spawn(loop, cancel_once_started());
    got = co_await with_cancel(source.token(), to_thread(loop, [opened, &started, &finished] {
                                 started = true;
                                 opened.wait();
                                 finished = true;
                                 return Result<int>(42);
                               }));
    gate.set_value();
    for (int i = 0; i < 5000 && !finished; ++i)
      static_cast<void>(co_await sleep(loop, 1ms));
    static_cast<void>(
        co_await sleep(loop, 10ms));  // its answer, posted to the loop, finds nobody waiting
  };
  run_task(loop, body());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error(), kCanceled);
  EXPECT_TRUE(finished);
}

TEST(ToThread, DeliversTheResultAndComposesWithCancel) {
  EventLoop loop;
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  CancelSource source;
  std::vector<std::error_code> outcomes;
  int value = 0;
  auto body = [&]() -> Task<> {
    auto answer = co_await to_thread(loop, [] { return Result<int>(7); });
    value = answer.ok() ? *answer : -1;
    auto cancel_soon = [&]() -> Task<> {
      static_cast<void>(co_await sleep(loop, 10ms));
      source.cancel();
    };
    spawn(loop, cancel_soon());
    auto blocked = co_await with_cancel(source.token(), to_thread(loop, [opened] {
                                          opened.wait();
                                          return Result<int>(1);
                                        }));
    outcomes.push_back(blocked.error());
    gate.set_value();
  };
  run_task(loop, body());
  EXPECT_EQ(value, 7);
  EXPECT_EQ(outcomes, std::vector<std::error_code>{kCanceled});
}

TEST(ToThread, AFunctionStillQueuedWhenItsWaitEndsNeverRuns) {
  EventLoop loop;
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::atomic<int> blocked_done{0};
  std::atomic<bool> queued_ran{false};
  auto body = [&]() -> Task<> {
    TaskGroup blockers(loop);
    auto block = [&]() -> Task<> {
      auto done = co_await to_thread(loop, [opened, &blocked_done] {
        opened.wait();
        ++blocked_done;
        return Result<int>(0);
      });
      EXPECT_TRUE(done.ok());
    };
    for (int i = 0; i < 4; ++i)  // every worker thread busy
      blockers.spawn(block());
    auto queued = co_await with_timeout(10ms, to_thread(loop, [&queued_ran] {
                                          queued_ran = true;
                                          return Result<int>(0);
                                        }));
    EXPECT_EQ(queued.error(), kTimedOut);
    gate.set_value();
    co_await blockers.join();
    static_cast<void>(
        co_await sleep(loop, 20ms));  // a worker now free would run the queued function by now
  };
  run_task(loop, body());
  EXPECT_EQ(blocked_done, 4);
  EXPECT_FALSE(queued_ran);
}

// A listener whose accept queue is full: Linux drops further SYNs, so a connect to it
// hangs, as to a host that does not answer.
struct Blackhole {
  Socket listener{Family::inet, Type::stream};
  std::optional<Socket> queued;

  Blackhole() {
    listener.bind(Endpoint::loopback(Family::inet, 0));
    listener.listen(0);
    queued = create_connection(Address::from_endpoint(endpoint()), 5s);
  }
  Endpoint endpoint() const { return listener.getsockname(); }
};

std::uint16_t refusing_port() {
  Socket probe(Family::inet, Type::stream);
  probe.bind(Endpoint::loopback(Family::inet, 0));
  return probe.getsockname().port();  // closed with probe: nobody listens there
}

TEST(Connect, AfterARefusedAddressTheNextOneConnects) {
  EventLoop loop;
  auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
  const Endpoint open = listener.socket().getsockname();
  std::optional<Result<Stream>> got;
  auto body = [&]() -> Task<> {
    std::vector<Endpoint> endpoints{Endpoint::loopback(Family::inet, refusing_port()), open};
    got = co_await connect(loop, std::move(endpoints), 5s);
  };
  run_task(loop, body());
  ASSERT_TRUE(got && got->ok()) << (got ? got->error().message() : "");
  EXPECT_EQ((*got)->socket().getpeername(), open);
}

TEST(Connect, AllRefusedGivesTheRefusal) {
  EventLoop loop;
  std::optional<Result<Stream>> got;
  auto body = [&]() -> Task<> {
    got = co_await connect(loop, Address("127.0.0.1", refusing_port()), 5s);
  };
  run_task(loop, body());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error(), std::errc::connection_refused);
}

TEST(Connect, ANameConnectsToTheAddressThatListens) {
  EventLoop loop;
  auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
  const auto port = listener.socket().getsockname().port();
  std::optional<Result<Stream>> got;
  auto body = [&]() -> Task<> { got = co_await connect(loop, Address("localhost", port), 5s); };
  run_task(loop, body());
  ASSERT_TRUE(got && got->ok()) << (got ? got->error().message() : "");
  EXPECT_EQ((*got)->socket().getpeername().port(), port);
}

TEST(Connect, AnAttemptThatHangsIsOvertakenByTheNextAndClosed) {
  const std::size_t before = test::open_fds();
  {
    EventLoop loop;
    Blackhole hole;
    auto listener = listen(loop, Endpoint::loopback(Family::inet, 0));
    const Endpoint open = listener.socket().getsockname();
    std::optional<Result<Stream>> got;
    auto body = [&]() -> Task<> {
      std::vector<Endpoint> endpoints{hole.endpoint(), open};
      got = co_await connect(loop, std::move(endpoints), 5s);
    };
    run_task(loop, body());
    ASSERT_TRUE(got && got->ok()) << (got ? got->error().message() : "");
    EXPECT_EQ((*got)->socket().getpeername(), open);
  }
  EXPECT_EQ(test::open_fds(), before);
}

TEST(Connect, TheTimeoutBoundsEveryAttemptTogether) {
  EventLoop loop;
  Blackhole hole;
  Blackhole second;
  std::optional<Result<Stream>> got;
  constexpr auto kTimeout = 300ms;
  std::chrono::duration<double> took{};
  auto body = [&]() -> Task<> {
    const auto start = SteadyClock::now();
    std::vector<Endpoint> endpoints{hole.endpoint(), second.endpoint()};
    got = co_await connect(loop, std::move(endpoints), kTimeout);
    took = SteadyClock::now() - start;
  };
  run_task(loop, body());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error(), kTimedOut);
  EXPECT_LT(took, 10 * kTimeout);  // generous: the point is that it ends
}

TEST(Connect, ACancelEndsEveryAttempt) {
  EventLoop loop;
  Blackhole hole;
  std::optional<Result<Stream>> got;
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    auto connecting = [&]() -> Task<> {
      std::vector<Endpoint> endpoints{hole.endpoint()};
      got = co_await connect(loop, std::move(endpoints), 1h);
    };
    group.spawn(connecting());
    static_cast<void>(co_await sleep(loop, 20ms));
    group.cancel();
    co_await group.join();
  };
  run_task(loop, body());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->error(), kCanceled);
}

}  // namespace
}  // namespace sockit
