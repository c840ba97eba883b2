// The server framework against real sockets on loopback: a Server over two loops serves,
// stops without polling once its handlers end, refuses a port that is in use, and computes
// deadlines that saturate instead of wrapping around.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>

#include "sockit/deadline.hpp"
#include "sockit/server.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

using Clock = std::chrono::steady_clock;

TEST(Deadline, AddsOrdinaryDurations) {
  const auto now = Clock::now();
  EXPECT_EQ(deadline_after(now, 1500ms), now + 1500ms);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(0.25)), now + 250ms);
}

TEST(Deadline, SaturatesWhatTheClockCannotAdd) {
  const auto now = Clock::now();
  for (const double seconds : {1e10, 1e30, std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(seconds)), Clock::time_point::max())
        << seconds;
  }
  EXPECT_EQ(deadline_after(now, std::chrono::hours::max()), Clock::time_point::max());
}

TEST(Deadline, NothingLeftIsNow) {
  const auto now = Clock::now();
  EXPECT_EQ(deadline_after(now, -5s), now);
  EXPECT_EQ(deadline_after(now, 0s), now);
  EXPECT_EQ(deadline_after(now, std::chrono::duration<double>(std::nan(""))), now);
}

// Echoes one read and ends the connection; the third client stops the server.
class EchoOnce final : public Service {
 public:
  EchoOnce(EventLoop& loop, ServerLimits& limits, Server& server)
      : Service(loop, "echo", limits), server_(server) {}

 protected:
  Task<> serve(sockit::Connection& connection) override {
    char data[256];
    auto n = connection.read(data);
    while (!n) {
      if (!co_await connection.stream().wait_readable()) co_return;
      n = connection.read(data);
    }
    if (*n > 0)
      static_cast<void>(co_await connection.send(connection.stream().write_all({data, *n})));
    if (++served_ == 3) server_.stop();
  }

 private:
  Server& server_;
  int served_ = 0;
};

TEST(Server, ServesOnEveryLoopAndStopsWhenItsHandlersEnd) {
  LoopGroup loops(2);
  ServerLimits limits;
  Server server(loops);
  const auto echo = server.add_service([&](EventLoop& loop, std::size_t) {
    return std::make_unique<EchoOnce>(loop, limits, server);
  });
  const Endpoint endpoint = server.listen(echo, Endpoint::loopback(Family::inet, 0));
  ASSERT_NE(endpoint.port(), 0);
  std::thread clients([endpoint] {
    // Connections land on either loop; once one instance has served three, the listeners
    // close and the next connect fails.
    try {
      for (int i = 0; i < 100; ++i) {
        auto socket = create_connection({endpoint.host(), endpoint.port()}, kIoTimeout);
        socket.sendall("ping " + std::to_string(i));
        if (socket.recv(64).empty()) break;
      }
    } catch (const Error&) {
    }
  });
  server.run(30s);
  clients.join();
  const auto stats = server.stats(echo);
  EXPECT_GE(stats.connections, 3u);
  EXPECT_EQ(stats.bytes_in, stats.bytes_out);
}

TEST(Server, APortInUseFailsWithTheServiceName) {
  Socket taken(Family::inet, Type::stream);
  taken.bind(Endpoint::loopback(Family::inet, 0));
  taken.listen();
  LoopGroup loops(2);
  ServerLimits limits;
  Server server(loops);
  const auto echo = server.add_service([&](EventLoop& loop, std::size_t) {
    return std::make_unique<EchoOnce>(loop, limits, server);
  });
  try {
    (void)server.listen(echo, taken.getsockname());
    FAIL() << "bound a port that is in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find("echo tcp 127.0.0.1:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sockit::test
