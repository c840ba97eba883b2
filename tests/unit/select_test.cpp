// select() and poll() over real sockets.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <stdexcept>
#include <vector>

#include "sockit/select.hpp"
#include "sockit/socket.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

using Fds = std::vector<int>;

TEST(Select, ReadableAfterThePeerWrites) {
  auto [client, server] = connect_pair(Kind::ipv4);
  EXPECT_TRUE(select({server.fileno()}, {}, {}, Duration(0)).readable.empty());
  client.sendall("x");
  const SelectResult ready = select({server.fileno()}, {}, {}, kIoTimeout);
  EXPECT_EQ(ready.readable, Fds{server.fileno()});
  EXPECT_TRUE(ready.writable.empty());
  EXPECT_TRUE(ready.exceptional.empty());
}

TEST(Select, WritableWhenFreshlyConnected) {
  auto [client, server] = connect_pair(Kind::ipv6);
  const SelectResult ready = select({client.fileno()}, {client.fileno()}, {}, kIoTimeout);
  EXPECT_TRUE(ready.readable.empty());
  EXPECT_EQ(ready.writable, Fds{client.fileno()});
}

TEST(Select, ReportsOnlyTheReadyOnesInTheirOrder) {
  auto [a, a_peer] = connect_pair(Kind::unix_abstract);
  auto [b, b_peer] = connect_pair(Kind::unix_abstract);
  auto [c, c_peer] = connect_pair(Kind::unix_abstract);
  c_peer.sendall("c");
  a_peer.sendall("a");
  const SelectResult ready = select({c.fileno(), b.fileno(), a.fileno()}, {}, {}, kIoTimeout);
  EXPECT_EQ(ready.readable, (Fds{c.fileno(), a.fileno()}));
}

TEST(Select, HangUpCountsAsReadable) {
  auto [client, server] = connect_pair(Kind::ipv4);
  server.close();
  EXPECT_EQ(select({client.fileno()}, {}, {}, kIoTimeout).readable, Fds{client.fileno()});
  EXPECT_EQ(client.recv(1), "");
}

TEST(Select, UrgentDataIsExceptional) {
  auto [client, server] = connect_pair(Kind::ipv4);
  client.send("!", MSG_OOB);
  const SelectResult ready = select({}, {}, {server.fileno()}, kIoTimeout);
  EXPECT_EQ(ready.exceptional, Fds{server.fileno()});
}

TEST(Select, TimeoutReturnsNothingAfterTheTimeout) {
  auto [client, server] = connect_pair(Kind::ipv4);
  const Duration timeout = 300ms;
  const Stopwatch watch;
  const SelectResult ready = select({server.fileno()}, {}, {server.fileno()}, timeout);
  expect_waited(watch.elapsed(), timeout);
  EXPECT_TRUE(ready.readable.empty());
  EXPECT_TRUE(ready.writable.empty());
  EXPECT_TRUE(ready.exceptional.empty());
}

TEST(Select, ClosedDescriptorIsEbadf) {
  Socket socket;
  const int fd = socket.fileno();
  socket.close();
  try {
    select({fd}, {}, {}, Duration(0));
    FAIL() << "select accepted a closed descriptor";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::errc::bad_file_descriptor);
  }
  EXPECT_THROW(select({}, {-1}, {}, Duration(0)), Error);
}

TEST(Select, NegativeTimeoutIsInvalid) {
  auto [a, b] = Socket::socketpair();
  EXPECT_THROW(select({a.fileno()}, {}, {}, Duration(-1)), std::invalid_argument);
}

TEST(Poll, CountsTheReadyEntries) {
  auto [a, b] = Socket::socketpair();
  std::array<pollfd, 2> fds{{{a.fileno(), POLLIN, 0}, {b.fileno(), POLLIN, 0}}};
  EXPECT_EQ(sockit::poll(fds, Duration(0)), 0);
  b.sendall("to a");
  EXPECT_EQ(sockit::poll(fds, kIoTimeout), 1);
  EXPECT_EQ(fds[0].revents, POLLIN);
  EXPECT_EQ(fds[1].revents, 0);
}

TEST(Poll, TimesOut) {
  auto [a, b] = Socket::socketpair();
  pollfd entry{a.fileno(), POLLIN, 0};
  const Duration timeout = 300ms;
  const Stopwatch watch;
  EXPECT_EQ(sockit::poll({&entry, 1}, timeout), 0);
  expect_waited(watch.elapsed(), timeout);
}

}  // namespace
}  // namespace sockit::test
