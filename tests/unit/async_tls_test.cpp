// AsyncTlsStream: both ends of a session on one loop over a socket pair, with a throwaway
// certificate that the client trusts through a CA file the test writes. Part of async_tests,
// so it also runs under TSan.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "async_support.hpp"
#include "sockit/async_tls.hpp"
#include "sockit/cancel.hpp"
#include "sockit/task_group.hpp"

namespace sockit {
namespace {

using namespace std::chrono_literals;
using test::run_task;
using test::stream_pair;

// A server context with a throwaway certificate, and a client context that trusts it.
class Contexts {
 public:
  Contexts() : server_(TlsServerOptions{}), client_(client_options(server_, cafile_)) {}
  ~Contexts() { std::filesystem::remove(cafile_); }
  Contexts(const Contexts&) = delete;
  Contexts& operator=(const Contexts&) = delete;

  const TlsContext& server() const { return server_; }
  const TlsContext& client() const { return client_; }

 private:
  static TlsClientOptions client_options(const TlsContext& server, const std::string& path) {
    std::ofstream(path) << server.certificate_pem();
    TlsClientOptions options;
    options.cafile = path;
    return options;
  }

  std::string cafile_ = (std::filesystem::temp_directory_path() /
                         ("sockit-async-tls-" + std::to_string(::getpid()) + ".pem"))
                            .string();
  TlsContext server_;
  TlsContext client_;
};

TEST(AsyncTls, ASessionCarriesDataBothWaysAndEndsWithCloseNotify) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // not a structured binding: clang 14 cannot capture those
  Stream& a = pair.first;
  Stream& b = pair.second;
  AsyncTlsStream client(a, contexts.client(), "localhost");
  AsyncTlsStream server(b, contexts.server());
  std::string heard;
  auto serve = [&]() -> Task<> {
    EXPECT_TRUE((co_await with_timeout(5s, server.handshake())).ok());
    char buffer[64];
    auto n = co_await with_timeout(5s, server.read_some(buffer));
    EXPECT_TRUE(n.ok());
    heard.assign(buffer, n.ok() ? *n : 0);
    // A reply bigger than a record and than the socket's buffer: the write waits for room.
    const std::string reply(256 * 1024, 'r');
    auto wrote = co_await server.write_all(reply);
    EXPECT_TRUE(wrote.ok() && *wrote == reply.size());
    EXPECT_TRUE((co_await server.shutdown()).ok());
  };
  auto talk = [&]() -> Task<> {
    TaskGroup group(loop);
    group.spawn(serve());
    auto shaken = co_await with_timeout(5s, client.handshake());
    EXPECT_TRUE(shaken.ok()) << shaken.error().message();
    EXPECT_EQ(client.engine().version(), "TLSv1.3");
    EXPECT_EQ(client.engine().selected_alpn_protocol(), "http/1.1");
    auto wrote = co_await client.write_all("hello");
    EXPECT_TRUE(wrote.ok() && *wrote == 5);
    std::size_t got = 0;
    char buffer[16 * 1024];
    for (;;) {
      auto n = co_await with_timeout(5s, client.read_some(buffer));
      EXPECT_TRUE(n.ok());
      if (!n.ok() || *n == 0) break;
      got += *n;
    }
    EXPECT_EQ(got, 256u * 1024);
    co_await group.join();
  };
  run_task(loop, talk());
  EXPECT_EQ(heard, "hello");
}

TEST(AsyncTls, AHandshakeWithASilentPeerTimesOut) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // not a structured binding: clang 14 cannot capture those
  Stream& a = pair.first;
  Stream& b = pair.second;
  AsyncTlsStream client(a, contexts.client(), "localhost");
  auto body = [&]() -> Task<> {
    auto shaken = co_await with_timeout(50ms, client.handshake());
    EXPECT_EQ(shaken.ok() ? std::error_code() : shaken.error(), std::errc::timed_out);
    // The interrupt was for that operation only: the next one waits normally.
    char buffer[8];
    auto n = co_await with_timeout(20ms, b.read_some(buffer));
    EXPECT_TRUE(n.ok());
  };
  run_task(loop, body());
}

TEST(AsyncTls, AGroupsCancelReachesAParkedRead) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // not a structured binding: clang 14 cannot capture those
  Stream& a = pair.first;
  Stream& b = pair.second;
  AsyncTlsStream client(a, contexts.client(), "localhost");
  AsyncTlsStream server(b, contexts.server());
  std::error_code read_error;
  // Named: a coroutine lambda's captures live in the lambda, which must outlive its task.
  auto accept = [&]() -> Task<> { static_cast<void>(co_await server.handshake()); };
  auto read = [&]() -> Task<> {
    char buffer[8];
    auto n = co_await client.read_some(buffer);
    read_error = n.ok() ? std::error_code() : n.error();
  };
  auto body = [&]() -> Task<> {
    TaskGroup group(loop);
    group.spawn(accept());
    EXPECT_TRUE((co_await client.handshake()).ok());
    co_await group.join();
    group.spawn(read());
    static_cast<void>(co_await sleep(loop, 10ms));
    group.cancel();
    co_await group.join();
  };
  run_task(loop, body());
  EXPECT_EQ(read_error, std::errc::operation_canceled);
}

TEST(AsyncTls, CancelSourceEndsAHandshake) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // the client end stays silent
  AsyncTlsStream server(pair.second, contexts.server());
  CancelSource stop;
  auto body = [&]() -> Task<> {
    loop.call_later(10ms, [&stop] { stop.cancel(); });
    auto shaken = co_await with_cancel(stop.token(), server.handshake());
    EXPECT_EQ(shaken.ok() ? std::error_code() : shaken.error(), std::errc::operation_canceled);
  };
  run_task(loop, body());
}

TEST(AsyncTls, GarbageFailsTheServersHandshakeWithOpenSslsReason) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // not a structured binding: clang 14 cannot capture those
  Stream& a = pair.first;
  Stream& b = pair.second;
  AsyncTlsStream server(b, contexts.server());
  auto body = [&]() -> Task<> {
    EXPECT_TRUE((co_await a.write_all("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).ok());
    auto shaken = co_await with_timeout(5s, server.handshake());
    const std::error_code error = shaken.ok() ? std::error_code() : shaken.error();
    EXPECT_EQ(error.category(), tls_category());
    EXPECT_EQ(error.message(), "http request");
  };
  run_task(loop, body());
}

TEST(AsyncTls, APeerThatClosesMidHandshakeIsAnError) {
  const Contexts contexts;
  EventLoop loop;
  auto pair = stream_pair(loop);  // not a structured binding: clang 14 cannot capture those
  Stream& a = pair.first;
  Stream& b = pair.second;
  AsyncTlsStream server(b, contexts.server());
  auto body = [&]() -> Task<> {
    EXPECT_TRUE((co_await a.write_all(std::string_view("\x16\x03\x01\x00\x40", 5))).ok());
    a.close();
    auto shaken = co_await with_timeout(5s, server.handshake());
    EXPECT_FALSE(shaken.ok());
  };
  run_task(loop, body());
}

}  // namespace
}  // namespace sockit
