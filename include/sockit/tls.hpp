// TLS client streams over OpenSSL, named after Python's ssl module.
//
//   sockit::TlsContext context;                       // ssl.create_default_context()
//   auto socket = sockit::create_connection({"example.com", 443}, 10s);
//   auto tls = context.wrap_socket(std::move(socket), "example.com");
//   tls.sendall("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
//   std::size_t n = tls.recv_into(buffer);
//   tls.version();                                    // "TLSv1.3"
//
// By default the peer's certificate must chain to the system's trust store (or to cafile)
// and name the server (a DNS name, or the IP address when server_hostname is one); SNI is sent
// for names, never for IP literals. Every operation honours the socket's timeout as one
// deadline for the whole call, as Python's SSLSocket does. Failures throw TlsError with
// OpenSSL's reason ("wrong version number"), or CertificateVerifyError with the verification
// result ("certificate verify failed: self-signed certificate").
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sockit/error.hpp"
#include "sockit/socket.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace sockit {

// ssl.SSLError: the TLS layer failed; the code is in tls_category() (an OpenSSL error) or is
// a system error the socket reported.
class TlsError : public Error {
  using Error::Error;
};
// ssl.SSLCertVerificationError: the peer's certificate was not accepted; the code is in
// tls_verify_category() (an X509_V_ERR_* value).
class CertificateVerifyError : public TlsError {
  using TlsError::TlsError;
};

// OpenSSL's packed error codes; the message is OpenSSL's reason text.
const std::error_category& tls_category() noexcept;
// Certificate verification results; the message is "certificate verify failed: REASON".
const std::error_category& tls_verify_category() noexcept;

struct TlsClientOptions {
  std::string cafile;  // PEM certificates to trust; empty: the system's store
  bool verify = true;  // false: accept any certificate and name (curl's --insecure)
  std::vector<std::string> alpn = {"http/1.1"};  // protocols offered, in preference order
};

class TlsStream;

// ssl.SSLContext for clients: the trust settings that every stream it wraps shares.
class TlsContext {
 public:
  explicit TlsContext(const TlsClientOptions& options = {});

  // Takes over a connected socket and completes the handshake with server_hostname (a DNS
  // name or an IP literal), within the socket's timeout.
  TlsStream wrap_socket(Socket socket, std::string_view server_hostname) const;

 private:
  struct Free {
    void operator()(ssl_ctx_st* context) const noexcept;
  };
  std::unique_ptr<ssl_ctx_st, Free> context_;
};

// ssl.SSLSocket: a TLS session over a socket it owns. Move-only.
class TlsStream {
 public:
  TlsStream(TlsStream&&) noexcept;
  TlsStream& operator=(TlsStream&&) noexcept;
  ~TlsStream();

  // Up to buffer.size() bytes of plaintext; 0 once the peer has closed the session.
  std::size_t recv_into(std::span<char> buffer);
  std::string recv(std::size_t bufsize);
  void sendall(std::string_view data);
  // Sends close_notify (without waiting for the peer's), as SSLSocket.unwrap starts to.
  void shutdown() noexcept;

  std::string version() const;                 // "TLSv1.3"
  std::string cipher() const;                  // "TLS_AES_256_GCM_SHA384"
  std::string selected_alpn_protocol() const;  // "http/1.1", empty when none was agreed
  Socket& socket() noexcept { return socket_; }
  const Socket& socket() const noexcept { return socket_; }

 private:
  friend class TlsContext;
  struct Free {
    void operator()(ssl_st* ssl) const noexcept;
  };
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  TlsStream(Socket socket, ssl_st* ssl, std::string peer);
  void do_handshake();
  // Runs one OpenSSL call until it completes, moving ciphertext between the socket and the
  // session's memory buffers and waiting for the socket within one deadline.
  template <class Call>
  int drive(Call call, std::string_view operation);
  Result<void> flush(Deadline deadline);  // sends what OpenSSL has written
  Result<void> fill(Deadline deadline);   // gives OpenSSL what the socket has
  [[noreturn]] void fail(int result, std::string_view operation);

  Socket socket_;
  std::unique_ptr<ssl_st, Free> ssl_;
  std::string peer_;                                            // names the server in errors
  bool eof_ = false;                                            // the socket reached end of file
  std::vector<char> io_buffer_ = std::vector<char>(64 * 1024);  // ciphertext in transit
};

}  // namespace sockit
