// Timeouts with Python's semantics: None blocks, zero is non-blocking, a duration bounds each
// call (and the whole of sendall), and the default applies to sockets created after it.
#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sockit/socket.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

constexpr Duration kShort = 300ms;

TEST(Timeout, SetAndGet) {
  Socket socket;
  EXPECT_EQ(socket.gettimeout(), std::nullopt);
  EXPECT_TRUE(socket.getblocking());
  EXPECT_FALSE(is_nonblocking(socket));

  socket.settimeout(2s);
  EXPECT_EQ(socket.gettimeout(), Duration(2));
  EXPECT_TRUE(socket.getblocking());
  EXPECT_TRUE(is_nonblocking(socket)) << "a timeout waits in poll on a non-blocking descriptor";

  socket.settimeout(250ms);
  EXPECT_EQ(socket.gettimeout(), Duration(0.25));

  socket.setblocking(false);
  EXPECT_EQ(socket.gettimeout(), Duration(0));
  EXPECT_FALSE(socket.getblocking());
  EXPECT_TRUE(is_nonblocking(socket));

  socket.setblocking(true);
  EXPECT_EQ(socket.gettimeout(), std::nullopt);
  EXPECT_TRUE(socket.getblocking());
  EXPECT_FALSE(is_nonblocking(socket));

  socket.settimeout(Duration(0));
  EXPECT_FALSE(socket.getblocking());
}

TEST(Timeout, NegativeIsInvalid) {
  Socket socket;
  socket.settimeout(1s);
  EXPECT_THROW(socket.settimeout(Duration(-0.5)), std::invalid_argument);
  EXPECT_EQ(socket.try_settimeout(Duration(-1)).error(), std::errc::invalid_argument);
  EXPECT_EQ(socket.gettimeout(), Duration(1)) << "a rejected timeout changed the socket";
  EXPECT_THROW(setdefaulttimeout(Duration(-1)), std::invalid_argument);
}

// Restores the process-wide default timeout whatever the test does to it.
class DefaultTimeout : public testing::Test {
 protected:
  void TearDown() override { setdefaulttimeout(saved_); }

 private:
  Timeout saved_ = getdefaulttimeout();
};

TEST_F(DefaultTimeout, AppliesToSocketsCreatedAfterIt) {
  const Socket before;
  setdefaulttimeout(3s);
  EXPECT_EQ(getdefaulttimeout(), Duration(3));
  const Socket after;
  EXPECT_EQ(after.gettimeout(), Duration(3));
  EXPECT_EQ(before.gettimeout(), std::nullopt);

  auto [a, b] = Socket::socketpair();
  EXPECT_EQ(a.gettimeout(), Duration(3));
  EXPECT_EQ(b.gettimeout(), Duration(3));
  EXPECT_EQ(Socket::try_create().value().gettimeout(), Duration(3));

  setdefaulttimeout(std::nullopt);
  EXPECT_EQ(getdefaulttimeout(), std::nullopt);
  EXPECT_EQ(Socket().gettimeout(), std::nullopt);
}

TEST_F(DefaultTimeout, AppliesToAcceptedSockets) {
  Listener listener(Kind::ipv4);
  setdefaulttimeout(4s);
  Socket client(Family::inet, Type::stream);
  client.connect(listener.endpoint());
  auto accepted = listener.socket().accept();
  EXPECT_EQ(accepted.conn.gettimeout(), Duration(4));
  EXPECT_TRUE(is_nonblocking(accepted.conn));

  // With no default, the accepted socket blocks whatever the listener's own timeout.
  setdefaulttimeout(std::nullopt);
  Socket second(Family::inet, Type::stream);
  second.settimeout(kIoTimeout);
  second.connect(listener.endpoint());
  auto blocking = listener.socket().accept();
  EXPECT_EQ(blocking.conn.gettimeout(), std::nullopt);
  EXPECT_FALSE(is_nonblocking(blocking.conn));
}

TEST(Timeout, RecvFromASilentPeer) {
  auto [client, server] = connect_pair(Kind::ipv4);
  client.settimeout(kShort);
  const Stopwatch watch;
  try {
    client.recv(16);
    FAIL() << "recv returned from a silent peer";
  } catch (const TimeoutError& error) {
    expect_waited(watch.elapsed(), kShort);
    EXPECT_EQ(error.code(), std::errc::timed_out);
    EXPECT_EQ(std::string(error.what()),
              "recv " + client.getpeername().to_string() + ": timed out (ETIMEDOUT)");
  }
}

TEST(Timeout, TryRecvIntoFromASilentPeer) {
  auto [client, server] = connect_pair(Kind::unix_abstract);
  client.settimeout(kShort);
  std::array<char, 16> buffer{};
  const Stopwatch watch;
  EXPECT_EQ(client.try_recv_into(buffer).error(), std::errc::timed_out);
  expect_waited(watch.elapsed(), kShort);
}

TEST(Timeout, AcceptWithNoClient) {
  Listener listener(Kind::ipv6);
  listener.socket().settimeout(kShort);
  const Stopwatch watch;
  try {
    listener.socket().accept();
    FAIL() << "accept returned with no client";
  } catch (const TimeoutError& error) {
    expect_waited(watch.elapsed(), kShort);
    EXPECT_EQ(std::string(error.what()),
              "accept " + listener.endpoint().to_string() + ": timed out (ETIMEDOUT)");
  }
}

TEST(Timeout, RecvfromWithNoDatagram) {
  BoundSocket receiver(Kind::ipv4, Type::dgram);
  receiver.socket().settimeout(kShort);
  const Stopwatch watch;
  EXPECT_THROW(receiver.socket().recvfrom(64), TimeoutError);
  expect_waited(watch.elapsed(), kShort);
}

TEST(Timeout, SendallToAPeerThatNeverReads) {
  // Small buffers on both ends so the stream fills quickly.
  Listener listener(Kind::ipv4);
  listener.socket().set(opt::receive_buffer{16384});
  Socket client(Family::inet, Type::stream);
  client.set(opt::send_buffer{16384});
  client.settimeout(kIoTimeout);
  client.connect(listener.endpoint());
  auto accepted = listener.socket().accept();

  const Duration timeout = 500ms;
  client.settimeout(timeout);
  const std::string payload(16u << 20, 'x');
  const Stopwatch watch;
  EXPECT_THROW(client.sendall(payload), TimeoutError);
  expect_waited(watch.elapsed(), timeout);
}

// Fills the accept queue of a listen(0) listener: connects clients until one stays in
// SYN_SENT because the kernel drops its SYN. The clients are returned to keep them queued.
std::vector<Socket> fill_accept_queue(const Endpoint& listener) {
  std::vector<Socket> clients;
  for (int attempt = 0; attempt < 64; ++attempt) {
    Socket& client = clients.emplace_back(Family::inet, Type::stream);
    client.setblocking(false);
    const std::error_code code = client.connect_ex(listener);
    if (!code) continue;
    EXPECT_EQ(code, std::errc::operation_in_progress);
    const SelectResult ready = select({}, {client.fileno()}, {}, 500ms);
    if (ready.writable.empty()) return clients;
    EXPECT_EQ(client.get<opt::error>().value, 0);
  }
  ADD_FAILURE() << "the accept queue never filled";
  return clients;
}

TEST(Timeout, ConnectToAFullAcceptQueue) {
  Listener listener(Kind::ipv4, 0);
  const std::vector<Socket> queued = fill_accept_queue(listener.endpoint());
  ASSERT_FALSE(HasFailure());

  Socket client(Family::inet, Type::stream);
  client.settimeout(500ms);
  const Stopwatch watch;
  try {
    client.connect(listener.endpoint());
    FAIL() << "connected past a full accept queue";
  } catch (const TimeoutError& error) {
    expect_waited(watch.elapsed(), 500ms);
    EXPECT_EQ(std::string(error.what()),
              "connect " + listener.endpoint().to_string() + ": timed out (ETIMEDOUT)");
  }
}

TEST(Timeout, ConnectExReportsATimeoutAsEagainAsPythonDoes) {
  Listener listener(Kind::ipv4, 0);
  const std::vector<Socket> queued = fill_accept_queue(listener.endpoint());
  ASSERT_FALSE(HasFailure());

  Socket client(Family::inet, Type::stream);
  client.settimeout(300ms);
  const Stopwatch watch;
  EXPECT_EQ(client.connect_ex(listener.endpoint()), std::errc::operation_would_block);
  expect_waited(watch.elapsed(), 300ms);
  Socket other(Family::inet, Type::stream);
  other.settimeout(300ms);
  EXPECT_EQ(other.try_connect(listener.endpoint()).error(), std::errc::timed_out);
}

TEST(NonBlocking, RecvWouldBlock) {
  auto [client, server] = connect_pair(Kind::ipv4);
  client.setblocking(false);
  const Stopwatch watch;
  try {
    client.recv(16);
    FAIL() << "recv returned data nobody sent";
  } catch (const BlockingIOError& error) {
    EXPECT_EQ(error.code(), std::errc::resource_unavailable_try_again);
  }
  std::array<char, 16> buffer{};
  EXPECT_EQ(client.try_recv_into(buffer).error(), std::errc::operation_would_block);
  EXPECT_LT(watch.elapsed(), Duration(2s)) << "a non-blocking call waited";

  server.sendall("now");
  client.settimeout(kIoTimeout);
  EXPECT_EQ(recv_exactly(client, 3), "now");
}

TEST(NonBlocking, AcceptWouldBlock) {
  Listener listener(Kind::unix_path);
  listener.socket().setblocking(false);
  EXPECT_THROW(listener.socket().accept(), BlockingIOError);
  EXPECT_EQ(listener.socket().try_accept().error(), std::errc::operation_would_block);
}

TEST(NonBlocking, ConnectIsInProgressOrDone) {
  Listener listener(Kind::ipv4);
  Socket client(Family::inet, Type::stream);
  client.setblocking(false);
  const std::error_code code = client.connect_ex(listener.endpoint());
  EXPECT_TRUE(!code || code == std::errc::operation_in_progress) << code.message();
  const SelectResult ready = select({}, {client.fileno()}, {}, kIoTimeout);
  EXPECT_EQ(ready.writable, std::vector<int>{client.fileno()});
  EXPECT_EQ(client.get<opt::error>().value, 0);
}

}  // namespace
}  // namespace sockit::test
