// TlsContext and TlsStream against peers that are not TLS servers: every failure is an
// exception with a reason, within the socket's timeout. Handshakes with real servers are in
// tests/integration/test_http_client.py (nginx with a certificate the test makes).
#include <gtest/gtest.h>

#include <string>

#include "sockit/tls.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

TEST(Tls, AMissingCaFileIsAnErrorThatNamesIt) {
  TlsClientOptions options;
  options.cafile = "/nonexistent/ca.pem";
  try {
    TlsContext context(options);
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
}

TEST(Tls, AnEmptyAlpnNameIsInvalid) {
  TlsClientOptions options;
  options.alpn = {""};
  EXPECT_THROW(TlsContext{options}, std::invalid_argument);
}

TEST(Tls, APlaintextReplyFailsTheHandshake) {
  auto [client, server] = Socket::socketpair();
  client.settimeout(kIoTimeout);
  server.sendall("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  server.shutdown(Shut::wr);
  const TlsContext context;
  try {
    context.wrap_socket(std::move(client), "localhost");
    FAIL() << "no exception";
  } catch (const TlsError& e) {
    EXPECT_EQ(e.code().category(), tls_category()) << e.what();
    EXPECT_TRUE(std::string(e.what()).starts_with("TLS handshake with localhost: ")) << e.what();
  }
}

TEST(Tls, APeerThatClosesFailsTheHandshake) {
  auto [client, server] = Socket::socketpair();
  client.settimeout(kIoTimeout);
  server.close();
  const TlsContext context;
  try {
    context.wrap_socket(std::move(client), "127.0.0.1");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("TLS handshake with 127.0.0.1: ")) << e.what();
  }
}

TEST(Tls, ASilentPeerTimesOut) {
  auto [client, server] = Socket::socketpair();
  client.settimeout(Duration(0.2));
  const TlsContext context;
  EXPECT_THROW(context.wrap_socket(std::move(client), "localhost"), TimeoutError);
  // The client hello went out before the wait.
  server.settimeout(kIoTimeout);
  EXPECT_EQ(server.recv(1).at(0), '\x16');  // a handshake record
}

TEST(Tls, VerifyErrorsReadAsOpenSslsReasons) {
  EXPECT_EQ(std::error_code(18, tls_verify_category()).message(),
            "certificate verify failed: self-signed certificate");
}

}  // namespace
}  // namespace sockit::test
