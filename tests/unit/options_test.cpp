// Typed socket options: each one set, read back through its typed form and through the raw
// getsockopt, so a wrong level or name shows.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>

#include "sockit/socket.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

template <class Option>
class TcpFlag : public testing::Test {};

using TcpFlags =
    testing::Types<opt::reuse_address, opt::reuse_port, opt::keep_alive, opt::no_delay>;
TYPED_TEST_SUITE(TcpFlag, TcpFlags);

TYPED_TEST(TcpFlag, RoundTrips) {
  Socket socket(Family::inet, Type::stream);
  socket.set(TypeParam{true});
  EXPECT_TRUE(socket.get<TypeParam>().value);
  EXPECT_EQ(socket.getsockopt(TypeParam::level, TypeParam::name), 1);
  socket.set(TypeParam{false});
  EXPECT_FALSE(socket.get<TypeParam>().value);
  EXPECT_EQ(socket.getsockopt(TypeParam::level, TypeParam::name), 0);
}

TEST(Options, KeepAliveTimings) {
  Socket socket(Family::inet, Type::stream);
  socket.set(opt::keep_idle{30s});
  socket.set(opt::keep_interval{7s});
  socket.set(opt::keep_count{4});
  EXPECT_EQ(socket.get<opt::keep_idle>().value, 30s);
  EXPECT_EQ(socket.get<opt::keep_interval>().value, 7s);
  EXPECT_EQ(socket.get<opt::keep_count>().value, 4);
  EXPECT_EQ(socket.getsockopt(IPPROTO_TCP, TCP_KEEPIDLE), 30);
  EXPECT_EQ(socket.getsockopt(IPPROTO_TCP, TCP_KEEPINTVL), 7);
  EXPECT_EQ(socket.getsockopt(IPPROTO_TCP, TCP_KEEPCNT), 4);
}

TEST(Options, BufferSizesAreAtLeastWhatWasSet) {
  // The kernel doubles the value for its bookkeeping.
  Socket socket(Family::inet, Type::stream);
  socket.set(opt::send_buffer{65536});
  socket.set(opt::receive_buffer{98304});
  EXPECT_GE(socket.get<opt::send_buffer>().value, 65536);
  EXPECT_GE(socket.get<opt::receive_buffer>().value, 98304);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_SNDBUF), socket.get<opt::send_buffer>().value);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_RCVBUF), socket.get<opt::receive_buffer>().value);
}

TEST(Options, LingerOnOffAndAbort) {
  Socket socket(Family::inet, Type::stream);
  socket.set(opt::linger{5s});
  EXPECT_EQ(socket.get<opt::linger>().value, std::optional(5s));
  ::linger raw{};
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_LINGER, &raw, sizeof raw), sizeof raw);
  EXPECT_EQ(raw.l_onoff, 1);
  EXPECT_EQ(raw.l_linger, 5);

  socket.set(opt::linger{0s});
  EXPECT_EQ(socket.get<opt::linger>().value, std::optional(0s));

  socket.set(opt::linger{});
  EXPECT_EQ(socket.get<opt::linger>().value, std::nullopt);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_LINGER, &raw, sizeof raw), sizeof raw);
  EXPECT_EQ(raw.l_onoff, 0);
}

TEST(Options, BroadcastOnUdp) {
  Socket socket(Family::inet, Type::dgram);
  EXPECT_FALSE(socket.get<opt::broadcast>().value);
  socket.set(opt::broadcast{true});
  EXPECT_TRUE(socket.get<opt::broadcast>().value);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_BROADCAST), 1);
}

TEST(Options, V6OnlyOnIpv6) {
  Socket socket(Family::inet6, Type::stream);
  socket.set(opt::v6_only{true});
  EXPECT_TRUE(socket.get<opt::v6_only>().value);
  EXPECT_EQ(socket.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
  socket.set(opt::v6_only{false});
  EXPECT_FALSE(socket.get<opt::v6_only>().value);
}

TEST(Options, NoPendingErrorOnAFreshSocket) {
  const Socket socket(Family::inet, Type::stream);
  EXPECT_EQ(socket.get<opt::error>().value, 0);
}

TEST(Options, RawIntForm) {
  Socket socket(Family::inet, Type::stream);
  socket.setsockopt(SOL_SOCKET, SO_KEEPALIVE, 1);
  EXPECT_TRUE(socket.get<opt::keep_alive>().value);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_KEEPALIVE), 1);
  EXPECT_EQ(socket.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);
}

TEST(Options, RawBufferForm) {
  Socket socket(Family::inet, Type::stream);
  const ::linger wanted{1, 3};
  socket.setsockopt(SOL_SOCKET, SO_LINGER, &wanted, sizeof wanted);
  EXPECT_EQ(socket.get<opt::linger>().value, std::optional(3s));
  EXPECT_TRUE(socket.try_setsockopt(SOL_SOCKET, SO_REUSEADDR, &wanted.l_onoff, sizeof(int)));
  EXPECT_TRUE(socket.get<opt::reuse_address>().value);
}

TEST(Options, UnknownOptionFails) {
  Socket socket(Family::inet, Type::stream);
  const int on = 1;
  EXPECT_EQ(socket.try_setsockopt(SOL_SOCKET, -1, &on, sizeof on).error(),
            std::errc::no_protocol_option);
  try {
    socket.setsockopt(SOL_SOCKET, -1, 1);
    FAIL() << "an unknown option was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::errc::no_protocol_option);
    EXPECT_STREQ(error.what(), "setsockopt: Protocol not available (ENOPROTOOPT)");
  }
}

TEST(Options, OptionOfAnotherFamilyFails) {
  Socket socket(Family::inet, Type::stream);
  EXPECT_THROW(socket.set(opt::v6_only{true}), Error);
}

TEST(Options, ClosedSocketFails) {
  Socket socket(Family::inet, Type::stream);
  socket.close();
  EXPECT_THROW(socket.set(opt::no_delay{true}), Error);
  EXPECT_THROW(socket.get<opt::no_delay>(), Error);
}

}  // namespace
}  // namespace sockit::test
