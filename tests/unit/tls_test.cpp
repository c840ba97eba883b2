// TlsContext and TlsStream: a client against peers that are not TLS servers (every failure is
// an exception with a reason, within the socket's timeout), and a client against our own
// server side on a thread, with certificates the tests make. Handshakes with other servers
// are in tests/integration (nginx, openssl s_server).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "sockit/select.hpp"
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

// A directory of PEM files that the test writes and removes.
class Pems {
 public:
  Pems() : dir_(std::filesystem::temp_directory_path() / ("sockit-tls-" + fresh_abstract_name())) {
    std::filesystem::create_directories(dir_);
  }
  ~Pems() { std::filesystem::remove_all(dir_); }
  Pems(const Pems&) = delete;
  Pems& operator=(const Pems&) = delete;

  std::string write(const std::string& name, const std::string& text) const {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

 private:
  std::filesystem::path dir_;
};

// Accepts one connection on a thread and completes the server's handshake there; the future
// holds what the server saw (the client's first line, or the error).
struct TlsServer {
  explicit TlsServer(const TlsContext& context) : listener(Kind::ipv4) {
    listener.socket().settimeout(kIoTimeout);
    result = std::async(std::launch::async, [this, &context] {
      try {
        auto [socket, from] = listener.socket().accept();
        socket.settimeout(kIoTimeout);
        TlsStream session = context.wrap_socket(std::move(socket));
        const std::string line = session.recv(100);
        session.sendall("you said " + line);
        session.shutdown();
        return line;
      } catch (const std::exception& e) {
        return std::string("error: ") + e.what();
      }
    });
  }
  Socket connect() {
    auto socket = create_connection(Address::from_endpoint(listener.endpoint()), kIoTimeout);
    socket.settimeout(kIoTimeout);
    return socket;
  }
  Listener listener;
  std::future<std::string> result;
};

TEST(TlsServerSide, AThrowawayCertificateThatTheClientPinsServesTls13) {
  const TlsContext server(TlsServerOptions{});
  ASSERT_TRUE(server.self_signed());
  EXPECT_EQ(server.fingerprint().size(), 32u * 3 - 1) << server.fingerprint();
  Pems pems;
  TlsClientOptions options;
  options.cafile = pems.write("ca.pem", server.certificate_pem());
  const TlsContext client(options);
  TlsServer peer(server);
  TlsStream session = client.wrap_socket(peer.connect(), "localhost");
  EXPECT_EQ(session.version(), "TLSv1.3");
  EXPECT_EQ(session.selected_alpn_protocol(), "http/1.1");
  session.sendall("hello");
  EXPECT_EQ(session.recv(100), "you said hello");
  EXPECT_EQ(session.recv(100), "");  // close_notify
  EXPECT_EQ(peer.result.get(), "hello");
}

TEST(TlsServerSide, AClientThatTrustsNothingRefusesTheThrowawayCertificate) {
  const TlsContext server(TlsServerOptions{});
  Pems pems;
  TlsClientOptions options;
  // A CA file that is not the server's certificate.
  options.cafile = pems.write("other.pem", make_self_signed_certificate({"other"}).certificate_pem);
  const TlsContext client(options);
  TlsServer peer(server);
  try {
    client.wrap_socket(peer.connect(), "localhost");
    FAIL() << "no exception";
  } catch (const CertificateVerifyError& e) {
    EXPECT_NE(std::string(e.what()).find("certificate verify failed"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(peer.result.get().starts_with("error: TLS handshake with 127.0.0.1:"));
}

TEST(TlsServerSide, TheNameMustMatchTheCertificate) {
  const TlsContext server(TlsServerOptions{});
  Pems pems;
  TlsClientOptions options;
  options.cafile = pems.write("ca.pem", server.certificate_pem());
  const TlsContext client(options);
  TlsServer peer(server);
  try {
    client.wrap_socket(peer.connect(), "example.org");
    FAIL() << "no exception";
  } catch (const CertificateVerifyError& e) {
    EXPECT_NE(std::string(e.what()).find("mismatch"), std::string::npos) << e.what();
  }
  static_cast<void>(peer.result.get());
}

TEST(TlsServerSide, CertificateAndKeyFilesWithAnEncryptedKey) {
  const auto made = make_self_signed_certificate({"localhost"}, "s3cret");
  EXPECT_NE(made.key_pem.find("ENCRYPTED"), std::string::npos);
  Pems pems;
  TlsServerOptions options;
  options.certfile = pems.write("cert.pem", made.certificate_pem);
  options.keyfile = pems.write("key.pem", made.key_pem);
  options.key_password = "s3cret";
  const TlsContext server(options);
  EXPECT_FALSE(server.self_signed());
  EXPECT_EQ(server.fingerprint(), made.fingerprint);
  TlsClientOptions client_options;
  client_options.cafile = options.certfile;
  const TlsContext client(client_options);
  TlsServer peer(server);
  TlsStream session = client.wrap_socket(peer.connect(), "localhost");
  session.sendall("ok");
  EXPECT_EQ(session.recv(100), "you said ok");
  EXPECT_EQ(peer.result.get(), "ok");
}

// Each bad configuration is an error that names the file and says what is wrong.
void expect_server_error(const std::string& certfile, const std::string& keyfile,
                         const std::string& password, const std::string& expected) {
  TlsServerOptions options;
  options.certfile = certfile;
  options.keyfile = keyfile;
  options.key_password = password;
  try {
    const TlsContext server(options);
    FAIL() << "no exception for " << expected;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(TlsServerSide, BadCertificateFilesAreClearErrors) {
  const auto made = make_self_signed_certificate({"localhost"}, "s3cret");
  const auto other = make_self_signed_certificate({"localhost"});
  Pems pems;
  const auto cert = pems.write("cert.pem", made.certificate_pem);
  const auto key = pems.write("key.pem", made.key_pem);
  const auto other_key = pems.write("other-key.pem", other.key_pem);
  const auto garbage = pems.write("garbage.pem", "not a PEM file\n");
  expect_server_error("/nonexistent/cert.pem", key, "",
                      "TLS certificate /nonexistent/cert.pem: No such file or directory");
  expect_server_error(cert, "/nonexistent/key.pem", "",
                      "TLS key /nonexistent/key.pem: No such file or directory");
  expect_server_error(cert, key, "", "TLS key " + key + " is encrypted");
  expect_server_error(cert, key, "wrong", "TLS key " + key + ": wrong password");
  expect_server_error(cert, other_key, "",
                      "TLS key " + other_key + " does not match the certificate in " + cert);
  expect_server_error(garbage, other_key, "", "TLS certificate " + garbage);
  expect_server_error(cert, garbage, "", "TLS key " + garbage);
}

TEST(TlsServerSide, MutualTlsAcceptsTheRightClientCertificateOnly) {
  const auto client_identity = make_self_signed_certificate({"client"});
  const auto stranger = make_self_signed_certificate({"client"});
  Pems pems;
  TlsServerOptions server_options;
  server_options.client_ca = pems.write("client-ca.pem", client_identity.certificate_pem);
  const TlsContext server(server_options);
  const auto trust = pems.write("server.pem", server.certificate_pem());

  TlsClientOptions good;
  good.cafile = trust;
  good.certfile = pems.write("client.pem", client_identity.certificate_pem);
  good.keyfile = pems.write("client-key.pem", client_identity.key_pem);
  {
    TlsServer peer(server);
    TlsStream session = TlsContext(good).wrap_socket(peer.connect(), "localhost");
    session.sendall("me");
    EXPECT_EQ(session.recv(100), "you said me");
    EXPECT_EQ(peer.result.get(), "me");
  }
  TlsClientOptions wrong = good;
  wrong.certfile = pems.write("stranger.pem", stranger.certificate_pem);
  wrong.keyfile = pems.write("stranger-key.pem", stranger.key_pem);
  TlsClientOptions none;
  none.cafile = trust;
  for (const auto& options : {wrong, none}) {
    TlsServer peer(server);
    // TLS 1.3 ends the client's handshake before the server has checked its certificate:
    // the refusal arrives as an alert on the first read, or as a reset when the server has
    // closed before the client's data arrived.
    try {
      TlsStream session = TlsContext(options).wrap_socket(peer.connect(), "localhost");
      session.sendall("me");
      static_cast<void>(session.recv(100));
      ADD_FAILURE() << "the server took a client without the right certificate";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_TRUE(what.find("alert") != std::string::npos ||
                  e.code() == std::errc::connection_reset)
          << what;
    }
    EXPECT_TRUE(peer.result.get().starts_with("error: TLS handshake with")) << peer.result.get();
  }
}

TEST(TlsServerSide, APlainHttpRequestFailsTheServersHandshake) {
  const TlsContext server(TlsServerOptions{});
  TlsServer peer(server);
  Socket plain = peer.connect();
  plain.sendall("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string seen = peer.result.get();
  EXPECT_NE(seen.find("http request"), std::string::npos) << seen;
}

// Read-ahead takes in every record the socket has, so after read() returned the first, the
// second waits inside OpenSSL where poll() cannot see it: a caller that polls before reading
// again (sockit tcp) would stall until the peer sent more.
TEST(TlsServerSide, RecordsReadAheadAreBufferedWherePollCannotSeeThem) {
  const TlsContext server(TlsServerOptions{});
  Pems pems;
  TlsClientOptions options;
  options.cafile = pems.write("ca.pem", server.certificate_pem());
  const TlsContext client(options);
  Listener listener(Kind::ipv4);
  listener.socket().settimeout(kIoTimeout);
  auto served = std::async(std::launch::async, [&] {
    auto [socket, from] = listener.socket().accept();
    socket.settimeout(kIoTimeout);
    TlsStream session = server.wrap_socket(std::move(socket));
    // After the tickets and a record that the client reads with them: two records at once.
    session.sendall("first");
    if (session.recv(100) != "go") return std::string("no go");
    session.sendall("second");
    session.sendall("third");
    return session.recv(100);
  });
  auto socket = create_connection(Address::from_endpoint(listener.endpoint()), kIoTimeout);
  socket.settimeout(kIoTimeout);
  TlsStream session = client.wrap_socket(std::move(socket), "localhost");
  ASSERT_EQ(session.recv(100), "first");
  session.sendall("go");
  // Both records in the socket (TLS 1.3: 5 bytes of header, 1 of type and 16 of tag each).
  TlsEngine& engine = session.engine();
  char buffer[100];
  std::array<pollfd, 1> fds{pollfd{session.socket().fileno(), POLLIN, 0}};
  constexpr std::size_t kBoth = (5 + 6 + 1 + 16) + (5 + 5 + 1 + 16);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(poll(fds, kIoTimeout), 1);
    auto peeked = session.socket().try_recv_into(buffer, MSG_PEEK);
    ASSERT_TRUE(peeked) << peeked.error().message();
    if (*peeked >= kBoth) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto step = engine.read(buffer);
  ASSERT_EQ(step.status, TlsEngine::Step::done);
  EXPECT_EQ(std::string_view(buffer, step.bytes), "second");
  EXPECT_EQ(poll(fds, std::chrono::seconds(0)), 0) << "the third record is not read ahead";
  EXPECT_TRUE(engine.buffered());
  step = engine.read(buffer);
  ASSERT_EQ(step.status, TlsEngine::Step::done);
  EXPECT_EQ(std::string_view(buffer, step.bytes), "third");
  EXPECT_FALSE(engine.buffered());
  session.sendall("bye");
  EXPECT_EQ(served.get(), "bye");
}

}  // namespace
}  // namespace sockit::test
