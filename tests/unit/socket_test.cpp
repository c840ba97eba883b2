// Socket against real kernel sockets on loopback: IPv4, IPv6, Unix paths and abstract names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <array>
#include <csignal>
#include <cstddef>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "sockit/socket.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

const auto kAllKinds =
    testing::Values(Kind::ipv4, Kind::ipv6, Kind::unix_path, Kind::unix_abstract);

std::string kind_name(const testing::TestParamInfo<Kind>& info) {
  return to_string(info.param);
}

bool is_ip(Kind kind) {
  return kind == Kind::ipv4 || kind == Kind::ipv6;
}

class StreamFamilies : public testing::TestWithParam<Kind> {};
INSTANTIATE_TEST_SUITE_P(Loopback, StreamFamilies, kAllKinds, kind_name);

TEST_P(StreamFamilies, BindListenAcceptConnect) {
  Listener listener(GetParam());
  const Endpoint server_name = listener.endpoint();
  EXPECT_EQ(server_name.family(), family_of(GetParam()));
  EXPECT_EQ(Endpoint::parse(server_name.to_string()).value_or_throw("parse"), server_name);

  Socket client(family_of(GetParam()), Type::stream);
  client.settimeout(kIoTimeout);
  client.connect(server_name);
  auto [conn, address] = listener.socket().accept();

  EXPECT_EQ(client.getpeername(), server_name);
  EXPECT_EQ(conn.getsockname(), server_name);
  if (is_ip(GetParam())) {
    EXPECT_EQ(address, client.getsockname());
    EXPECT_EQ(conn.getpeername(), client.getsockname());
  } else {
    EXPECT_EQ(address.family(), Family::local);  // an unbound Unix client has no name
  }
}

TEST_P(StreamFamilies, ExchangesDataBothWays) {
  auto [client, server] = connect_pair(GetParam());
  client.sendall("ping");
  EXPECT_EQ(recv_exactly(server, 4), "ping");

  EXPECT_EQ(server.send("pong"), 4u);
  std::array<char, 4> buffer{};
  std::size_t filled = 0;
  while (filled < buffer.size()) {
    const std::size_t n = client.recv_into(std::span(buffer).subspan(filled));
    ASSERT_NE(n, 0u) << "early EOF";
    filled += n;
  }
  EXPECT_EQ(std::string(buffer.data(), buffer.size()), "pong");
}

TEST_P(StreamFamilies, HalfCloseEndsOneDirectionOnly) {
  auto [client, server] = connect_pair(GetParam());
  client.sendall("last words");
  client.shutdown(Shut::wr);
  EXPECT_EQ(recv_exactly(server, 10), "last words");
  EXPECT_EQ(server.recv(16), "") << "no EOF after the peer's shutdown(wr)";

  server.sendall("still open");
  EXPECT_EQ(recv_exactly(client, 10), "still open");
  server.close();
  EXPECT_EQ(client.recv(16), "");
}

// Reads everything until EOF with the noexcept forms, so a failure in the thread is data.
struct Drained {
  std::string data;
  std::error_code error;
};

Drained drain(Socket& socket) {
  Drained drained;
  std::array<char, 65536> buffer{};
  for (;;) {
    auto n = socket.try_recv_into(buffer);
    if (!n) {
      drained.error = n.error();
      return drained;
    }
    if (*n == 0) return drained;
    drained.data.append(buffer.data(), *n);
  }
}

TEST_P(StreamFamilies, LargeSendallArrivesWhole) {
  std::string payload(8u << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>(i * 7 % 251);
  }
  Connection connection = connect_pair(GetParam());
  Drained drained;
  std::jthread reader([&] { drained = drain(connection.server); });
  connection.client.sendall(payload);
  connection.client.shutdown(Shut::wr);
  reader.join();
  EXPECT_FALSE(drained.error) << drained.error.message();
  EXPECT_EQ(drained.data.size(), payload.size());
  EXPECT_TRUE(drained.data == payload) << "the bytes arrived changed";
}

TEST_P(StreamFamilies, ConnectExReportsSuccessAsNoError) {
  Listener listener(GetParam());
  Socket client(family_of(GetParam()), Type::stream);
  client.settimeout(kIoTimeout);
  EXPECT_FALSE(client.connect_ex(listener.endpoint()));
}

TEST(Stream, ConnectExRefused) {
  const Socket closed = refusing_socket();
  Socket client;
  client.settimeout(kIoTimeout);
  EXPECT_EQ(client.connect_ex(closed.getsockname()), std::errc::connection_refused);
}

TEST(Stream, ConnectExToNothingOnAUnixPath) {
  Socket client(Family::local, Type::stream);
  const Endpoint missing = Endpoint::from_path(fresh_unix_path()).value_or_throw("path");
  EXPECT_EQ(client.connect_ex(missing), std::errc::no_such_file_or_directory);
}

TEST(Stream, AddressFormsResolve) {
  Socket server(Family::inet, Type::stream);
  server.bind(Address{"127.0.0.1", 0, false});
  server.listen();
  server.settimeout(kIoTimeout);
  Socket client(Family::inet, Type::stream);
  client.settimeout(kIoTimeout);
  client.connect(Address{"localhost", server.getsockname().port(), false});
  auto accepted = server.accept();
  EXPECT_EQ(accepted.address, client.getsockname());
}

TEST(Stream, PeerResetIsConnectionResetError) {
  auto [client, server] = connect_pair(Kind::ipv4);
  server.set(opt::linger{0s});  // close() now sends RST instead of FIN
  server.close();
  EXPECT_THROW(client.recv(16), ConnectionResetError);
}

// The process keeps the default SIGPIPE action, so a send that raised the signal would kill
// the test instead of failing it.
void expect_default_sigpipe() {
  struct sigaction current {};
  ASSERT_EQ(::sigaction(SIGPIPE, nullptr, &current), 0);
  ASSERT_EQ(current.sa_handler, SIG_DFL);
}

// A peer that closed normally answers the next segment with RST; waits for it to arrive.
void provoke_reset(Socket& client) {
  ASSERT_EQ(client.send("into the void"), 13u);
  pollfd entry{client.fileno(), 0, 0};  // POLLERR and POLLHUP are always reported
  ASSERT_EQ(sockit::poll({&entry, 1}, kIoTimeout), 1) << "no RST from the closed peer";
}

template <class Send>
void expect_broken_pipe(Send send_after_close) {
  ASSERT_NO_FATAL_FAILURE(expect_default_sigpipe());
  auto [client, server] = connect_pair(Kind::ipv4);
  server.close();
  ASSERT_NO_FATAL_FAILURE(provoke_reset(client));
  try {
    send_after_close(client);
    FAIL() << "sending to a closed peer succeeded";
  } catch (const ConnectionError& error) {
    EXPECT_TRUE(error.code() == std::errc::broken_pipe ||
                error.code() == std::errc::connection_reset)
        << error.what();
    EXPECT_TRUE(dynamic_cast<const BrokenPipeError*>(&error) ||
                dynamic_cast<const ConnectionResetError*>(&error))
        << error.what();
  }
}

TEST(Stream, SendToClosedPeerIsBrokenPipeNotSigpipe) {
  expect_broken_pipe([](Socket& client) { client.send("more"); });
}

TEST(Stream, SendallToClosedPeerIsBrokenPipeNotSigpipe) {
  expect_broken_pipe([](Socket& client) { client.sendall("more"); });
}

TEST(Stream, CloseIsFinalAndIdempotent) {
  Socket socket;
  EXPECT_GE(socket.fileno(), 0);
  socket.close();
  EXPECT_EQ(socket.fileno(), -1);
  socket.close();
  EXPECT_THROW(socket.getsockname(), Error);
  EXPECT_THROW(socket.listen(), Error);
}

TEST(Stream, MovedFromSocketOwnsNothing) {
  Socket first;
  const int fd = first.fileno();
  Socket second = std::move(first);
  EXPECT_EQ(second.fileno(), fd);
  EXPECT_EQ(first.fileno(), -1);  // a moved-from Socket is empty
}

TEST(Stream, DetachAndAdoptKeepTheConnection) {
  auto [client, server] = connect_pair(Kind::ipv4);
  const int fd = client.fileno();
  Fd detached = client.detach();
  EXPECT_EQ(client.fileno(), -1);
  EXPECT_EQ(detached.get(), fd);

  Socket adopted(std::move(detached));
  EXPECT_EQ(adopted.fileno(), fd);
  EXPECT_EQ(adopted.family(), Family::inet);
  EXPECT_EQ(adopted.type(), Type::stream);
  EXPECT_EQ(adopted.proto(), IPPROTO_TCP);
  adopted.settimeout(kIoTimeout);
  adopted.sendall("adopted");
  EXPECT_EQ(recv_exactly(server, 7), "adopted");
}

TEST(Stream, AdoptionReadsFamilyAndType) {
  Socket adopted(Socket(Family::inet6, Type::dgram).detach());
  EXPECT_EQ(adopted.family(), Family::inet6);
  EXPECT_EQ(adopted.type(), Type::dgram);
  EXPECT_EQ(adopted.proto(), IPPROTO_UDP);
}

TEST(Stream, AdoptingANonSocketFailsAndClosesIt) {
  Fd file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(file.valid());
  try {
    Socket adopted(std::move(file));
    FAIL() << "/dev/null adopted as a socket";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::errc::not_a_socket);
  }
}

TEST(Stream, TryCreateReportsAnUnsupportedFamily) {
  const auto bogus = static_cast<Family>(4000);
  EXPECT_EQ(Socket::try_create(bogus).error(), std::errc::address_family_not_supported);
  EXPECT_THROW(Socket socket(bogus), Error);
  EXPECT_TRUE(Socket::try_create(Family::inet6, Type::dgram));
}

TEST(Stream, BindTwiceIsAddressInUse) {
  const Socket first = refusing_socket();
  const Endpoint taken = first.getsockname();
  Socket second;
  try {
    second.bind(taken);
    FAIL() << "bound a port that is in use";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), std::errc::address_in_use);
    EXPECT_EQ(std::string(error.what()),
              "bind " + taken.to_string() + ": Address already in use (EADDRINUSE)");
  }
  EXPECT_EQ(second.try_bind(taken).error(), std::errc::address_in_use);
}

TEST(Stream, ShutdownOfAnUnconnectedSocketFails) {
  Socket socket;
  EXPECT_EQ(socket.try_shutdown(Shut::rdwr).error(), std::errc::not_connected);
  EXPECT_THROW(socket.shutdown(Shut::rdwr), Error);
}

TEST(Socketpair, StreamBothWays) {
  auto [a, b] = Socket::socketpair();
  a.settimeout(kIoTimeout);
  b.settimeout(kIoTimeout);
  EXPECT_EQ(a.family(), Family::local);
  a.sendall("to b");
  EXPECT_EQ(recv_exactly(b, 4), "to b");
  b.sendall("to a");
  EXPECT_EQ(recv_exactly(a, 4), "to a");
  a.close();
  EXPECT_EQ(b.recv(8), "");
}

TEST(Socketpair, DatagramKeepsMessageBoundaries) {
  auto [a, b] = Socket::socketpair(Family::local, Type::dgram);
  b.settimeout(kIoTimeout);
  EXPECT_EQ(a.send("one"), 3u);
  EXPECT_EQ(a.send("two"), 3u);
  EXPECT_EQ(b.recv(64), "one");
  EXPECT_EQ(b.recv(64), "two");
}

class DatagramFamilies : public testing::TestWithParam<Kind> {};
INSTANTIATE_TEST_SUITE_P(Loopback, DatagramFamilies, kAllKinds, kind_name);

TEST_P(DatagramFamilies, SendtoRecvfrom) {
  BoundSocket receiver(GetParam(), Type::dgram);
  BoundSocket sender(GetParam(), Type::dgram);
  EXPECT_EQ(sender.socket().sendto("hello", receiver.endpoint()), 5u);
  const Datagram datagram = receiver.socket().recvfrom(64);
  EXPECT_EQ(datagram.data, "hello");
  EXPECT_EQ(datagram.address, sender.endpoint());
}

TEST_P(DatagramFamilies, RecvfromIntoTruncatesToTheBuffer) {
  BoundSocket receiver(GetParam(), Type::dgram);
  BoundSocket sender(GetParam(), Type::dgram);
  sender.socket().sendto("0123456789", receiver.endpoint());
  std::array<char, 4> buffer{};
  auto [size, from] = receiver.socket().recvfrom_into(buffer);
  EXPECT_EQ(size, 4u);
  EXPECT_EQ(std::string(buffer.data(), size), "0123");
  EXPECT_EQ(from, sender.endpoint());
}

TEST(Datagram, SendtoAnAddress) {
  BoundSocket receiver(Kind::ipv4, Type::dgram);
  Socket sender(Family::inet, Type::dgram);
  const Address to{"127.0.0.1", receiver.endpoint().port(), false};
  EXPECT_EQ(sender.sendto("via address", to), 11u);
  const Datagram datagram = receiver.socket().recvfrom(64);
  EXPECT_EQ(datagram.data, "via address");
  EXPECT_EQ(datagram.address, Endpoint::loopback(Family::inet, sender.getsockname().port()));
}

TEST(Datagram, ConnectedSendAndRecv) {
  BoundSocket receiver(Kind::ipv6, Type::dgram);
  BoundSocket sender(Kind::ipv6, Type::dgram);
  sender.socket().connect(receiver.endpoint());
  receiver.socket().connect(sender.endpoint());
  EXPECT_EQ(sender.socket().send("one"), 3u);
  EXPECT_EQ(receiver.socket().recv(64), "one");
  EXPECT_EQ(receiver.socket().send("two"), 3u);
  EXPECT_EQ(sender.socket().recv(64), "two");
}

TEST(CreateServer, ListensWithReuseAddress) {
  Socket server = create_server(Address{"127.0.0.1", 0, false});
  server.settimeout(kIoTimeout);
  EXPECT_TRUE(server.get<opt::reuse_address>().value);
  Socket client =
      create_connection(Address{"127.0.0.1", server.getsockname().port(), false}, kIoTimeout);
  auto accepted = server.accept();
  EXPECT_EQ(accepted.address, client.getsockname());
}

TEST(CreateServer, ReusePortSharesThePort) {
  const Socket first = create_server(Address{"127.0.0.1", 0, false}, {.reuse_port = true});
  const Address same{"127.0.0.1", first.getsockname().port(), false};
  const Socket second = create_server(same, {.reuse_port = true});
  EXPECT_EQ(second.getsockname(), first.getsockname());
  EXPECT_TRUE(second.get<opt::reuse_port>().value);
  EXPECT_THROW(create_server(same), Error);
}

TEST(CreateServer, DualstackAcceptsAnIpv4Client) {
  Socket server =
      create_server(Address{"::", 0, false}, {.family = Family::inet6, .dualstack_ipv6 = true});
  server.settimeout(kIoTimeout);
  EXPECT_FALSE(server.get<opt::v6_only>().value);
  Socket client(Family::inet, Type::stream);
  client.settimeout(kIoTimeout);
  client.connect(Endpoint::loopback(Family::inet, server.getsockname().port()));
  auto [conn, address] = server.accept();
  EXPECT_EQ(address.family(), Family::inet6);
  EXPECT_EQ(address.unmapped(), client.getsockname());
}

TEST(CreateServer, Ipv6OnlyByDefault) {
  const Socket server = create_server(Address{"::1", 0, false}, {.family = Family::inet6});
  EXPECT_TRUE(server.get<opt::v6_only>().value);
}

TEST(CreateServer, DualstackNeedsIpv6) {
  EXPECT_THROW(create_server(Address{"127.0.0.1", 0, false}, {.dualstack_ipv6 = true}),
               std::invalid_argument);
}

TEST(CreateServer, OnAnAbstractUnixName) {
  const Address address{fresh_abstract_name(), 0, true};
  Socket server = create_server(address);
  server.settimeout(kIoTimeout);
  EXPECT_EQ(server.family(), Family::local);
  Socket client = create_connection(address, kIoTimeout);
  auto accepted = server.accept();
  client.sendall("over unix");
  accepted.conn.settimeout(kIoTimeout);
  EXPECT_EQ(recv_exactly(accepted.conn, 9), "over unix");
}

TEST(CreateConnection, BindsTheSourceAddress) {
  Socket server = create_server(Address{"127.0.0.1", 0, false});
  server.settimeout(kIoTimeout);
  const Address target{"127.0.0.1", server.getsockname().port(), false};
  Socket client = create_connection(target, kIoTimeout, Address{"127.0.0.2", 0, false});
  auto accepted = server.accept();
  EXPECT_EQ(client.getsockname().host(), "127.0.0.2");
  EXPECT_EQ(accepted.address, client.getsockname());
  EXPECT_EQ(client.gettimeout(), kIoTimeout);
}

TEST(CreateConnection, FailureNamesTheEndpointTried) {
  const Socket closed = refusing_socket();
  const std::uint16_t port = closed.getsockname().port();
  const Address target{"localhost", port, false};
  // The error names the last endpoint the resolver gave, where the last attempt went.
  const Endpoint last = resolve(target).back();
  try {
    create_connection(target, kIoTimeout);
    FAIL() << "connected to a port nobody listens on";
  } catch (const ConnectionRefusedError& error) {
    EXPECT_EQ(std::string(error.what()), "connect localhost:" + std::to_string(port) + " (" +
                                             last.to_string() +
                                             "): Connection refused (ECONNREFUSED)");
  }
  EXPECT_EQ(try_create_connection(target, kIoTimeout).error(), std::errc::connection_refused);
}

TEST(CreateConnection, NegativeTimeoutIsInvalid) {
  EXPECT_THROW(create_connection(Address{"127.0.0.1", 1, false}, Duration(-1)),
               std::invalid_argument);
}

TEST(SocketErrors, AcceptAndListenOnAClosedSocketReportThemselves) {
  Socket closed(Family::inet, Type::stream);
  closed.close();
  try {
    closed.accept();
    FAIL() << "accept on a closed socket succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "accept: Bad file descriptor (EBADF)");
  }
  try {
    closed.listen();
    FAIL() << "listen on a closed socket succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()), "listen: Bad file descriptor (EBADF)");
  }
}

}  // namespace
}  // namespace sockit::test
