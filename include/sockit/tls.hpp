// TLS over OpenSSL, named after Python's ssl module: contexts for clients and servers, a
// blocking TlsStream, and the TlsEngine that both it and the event loop's AsyncTlsStream
// (async_tls.hpp) drive.
//
//   sockit::TlsContext context;                       // ssl.create_default_context()
//   auto socket = sockit::create_connection({"example.com", 443}, 10s);
//   auto tls = context.wrap_socket(std::move(socket), "example.com");
//   tls.sendall("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
//   std::size_t n = tls.recv_into(buffer);
//   tls.version();                                    // "TLSv1.3"
//
//   sockit::TlsContext server(sockit::TlsServerOptions{.certfile = "cert.pem",
//                                                      .keyfile = "key.pem"});
//   auto session = server.wrap_socket(listener.accept().socket);
//
// A client by default requires the peer's certificate to chain to the system's trust store
// (or to cafile) and to name the server (a DNS name, or the IP address when server_hostname is
// one); SNI is sent for names, never for IP literals. A server speaks TLS 1.2 and 1.3 with
// forward-secret ciphers only, never renegotiates, resumes sessions with tickets, and without a
// certificate of its own makes a throwaway self-signed one (as ncat --ssl does). Every
// operation of a blocking stream honours the socket's timeout as one deadline for the whole
// call, as Python's SSLSocket does. Failures throw TlsError with OpenSSL's reason ("wrong
// version number"), or CertificateVerifyError with the verification result ("certificate
// verify failed: self-signed certificate").
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "sockit/error.hpp"
#include "sockit/socket.hpp"

struct ssl_ctx_st;
struct ssl_st;
struct ssl_session_st;

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
// Throws TlsError or CertificateVerifyError for codes of those categories, and the matching
// Error subclass for the socket's.
[[noreturn]] void throw_tls(std::error_code code, std::string_view operation);

struct TlsClientOptions {
  std::string cafile;  // PEM certificates to trust; empty: the system's store
  bool verify = true;  // false: accept any certificate and name (curl's --insecure)
  std::vector<std::string> alpn = {"http/1.1"};  // protocols offered, in preference order
  // A certificate to present when the server asks for one (mutual TLS), and its key (empty:
  // in certfile), encrypted with key_password if the PEM says so.
  std::string certfile;
  std::string keyfile;
  std::string key_password;
};

struct TlsServerOptions {
  // The certificate chain (PEM, the server's own first) and its key (empty: in certfile),
  // encrypted with key_password if the PEM says so. No certfile: a throwaway self-signed
  // certificate for self_signed_names, made in memory.
  std::string certfile;
  std::string keyfile;
  std::string key_password;
  std::vector<std::string> self_signed_names = {"localhost", "127.0.0.1", "::1"};
  // Protocols the server speaks, in its order of preference; a client that offers none of
  // them gets no ALPN answer, as nginx does.
  std::vector<std::string> alpn = {"http/1.1"};
  // Non-empty: clients must present a certificate that chains to these PEM certificates.
  std::string client_ca;
};

class TlsStream;
class TlsEngine;

// A throwaway certificate that signs itself: an ECDSA P-256 key, valid from an hour ago for
// 30 days, for names (DNS names and IP addresses, the first also its common name), usable by
// servers and by clients (mutual TLS). The key's PEM is encrypted with key_password if one is
// given.
struct SelfSignedCertificate {
  std::string certificate_pem;
  std::string key_pem;
  std::string fingerprint;  // SHA-256, "AB:CD:..."
};
SelfSignedCertificate make_self_signed_certificate(const std::vector<std::string>& names,
                                                   const std::string& key_password = {});

// ssl.SSLContext: the settings that every session it makes shares. Thread-safe once made:
// one context serves the sessions of every loop.
class TlsContext {
 public:
  explicit TlsContext(const TlsClientOptions& options = {});
  explicit TlsContext(const TlsServerOptions& options);

  bool server_side() const noexcept { return server_side_; }
  // A client context: takes over a connected socket and completes the handshake with
  // server_hostname (a DNS name or an IP literal), within the socket's timeout.
  TlsStream wrap_socket(Socket socket, std::string_view server_hostname) const;
  // A server context: takes over an accepted socket and completes the handshake.
  TlsStream wrap_socket(Socket socket) const;
  // A session over the connected socket fd, which stays the caller's; server_hostname as for
  // wrap_socket (ignored by a server context).
  TlsEngine engine(int fd, std::string_view server_hostname = {}) const;

  // The certificate this context presents: its PEM text and its SHA-256 fingerprint
  // ("AB:CD:...", as `openssl x509 -fingerprint -sha256` prints it); empty when none.
  const std::string& certificate_pem() const noexcept { return certificate_pem_; }
  const std::string& fingerprint() const noexcept { return fingerprint_; }
  // Whether that certificate is a throwaway one this context made.
  bool self_signed() const noexcept { return self_signed_; }

  ssl_ctx_st* native_handle() const noexcept { return context_.get(); }

 private:
  struct Free {
    void operator()(ssl_ctx_st* context) const noexcept;
  };
  void present(const std::string& certfile, const std::string& keyfile,
               const std::string& password);
  void present_self_signed(const std::vector<std::string>& names);
  void remember_certificate();

  std::unique_ptr<ssl_ctx_st, Free> context_;
  // The server's protocols, in ALPN's wire format: on the heap, where OpenSSL's callback finds
  // it after the context has moved.
  std::unique_ptr<std::string> alpn_;
  std::string certificate_pem_;
  std::string fingerprint_;
  bool server_side_ = false;
  bool self_signed_ = false;
};

// One TLS session over a connected socket, without I/O of its own waiting: each call does
// what it can with what the socket has and says what it waits for. TlsStream drives it with
// poll(), AsyncTlsStream with the event loop. OpenSSL reads and writes the socket directly,
// so ciphertext is never copied between buffers, and an idle session keeps no record buffers
// (SSL_MODE_RELEASE_BUFFERS). Move-only; the socket stays open when it ends.
class TlsEngine {
 public:
  struct Step {
    enum Status : unsigned char {
      done,        // bytes: the plaintext read or written
      want_read,   // call again once the socket is readable
      want_write,  // call again once the socket is writable
      closed,      // the peer ended the session with close_notify
      failed,      // error says why; the session is over
    };
    Status status = done;
    std::size_t bytes = 0;
    std::error_code error;
  };

  TlsEngine(TlsEngine&&) noexcept;
  TlsEngine& operator=(TlsEngine&&) noexcept;
  ~TlsEngine();

  Step handshake();
  // Up to buffer.size() bytes of plaintext; done with 0 bytes only for an empty buffer.
  Step read(std::span<char> buffer);
  // Some of data, at most one record's worth per step when the socket is slow. After
  // want_write, call again with the same data (or more of it).
  Step write(std::string_view data);
  // Sends close_notify, without waiting for the peer's.
  Step shutdown();

  // OpenSSL's error for a connection that ended without close_notify.
  static std::error_code unexpected_eof() noexcept;

  bool handshake_done() const noexcept;
  // Whether read() has plaintext without the socket: decrypted, or in whole records that
  // read-ahead took in with an earlier one. poll() cannot see them, so a caller that polls
  // reads again first.
  bool buffered() const noexcept;
  int fileno() const noexcept { return fd_; }

  std::string version() const;                 // "TLSv1.3"
  std::string cipher() const;                  // "TLS_AES_256_GCM_SHA384"
  std::string selected_alpn_protocol() const;  // "http/1.1", empty when none was agreed
  std::string peer_subject() const;            // the peer certificate's subject, or empty
  // A client's session, to resume on a later connection with set_session (before the
  // handshake); null before the server has sent a ticket.
  std::shared_ptr<ssl_session_st> session() const;
  void set_session(const std::shared_ptr<ssl_session_st>& session);
  bool session_reused() const noexcept;

  ssl_st* native_handle() const noexcept { return ssl_.get(); }

 private:
  friend class TlsContext;
  struct Free {
    void operator()(ssl_st* ssl) const noexcept;
  };
  TlsEngine(ssl_st* ssl, int fd) noexcept;
  template <class Call>
  Step run(Call call);
  std::error_code failure(int error);

  std::unique_ptr<ssl_st, Free> ssl_;
  int fd_;
  // What the socket said beneath OpenSSL, for failure(): the end of the stream, or an error.
  bool eof_ = false;
  std::error_code transport_error_;
  // The last read() wanted the socket: what OpenSSL holds is part of a record.
  bool read_wanted_socket_ = false;

  struct Io;  // the BIO that reads and writes fd_
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

  std::string version() const { return engine_.version(); }
  std::string cipher() const { return engine_.cipher(); }
  std::string selected_alpn_protocol() const { return engine_.selected_alpn_protocol(); }
  TlsEngine& engine() noexcept { return engine_; }
  Socket& socket() noexcept { return socket_; }
  const Socket& socket() const noexcept { return socket_; }

 private:
  friend class TlsContext;
  TlsStream(Socket socket, TlsEngine engine, std::string peer);
  // Runs one engine call until it completes, waiting for the socket within one deadline.
  template <class Call>
  TlsEngine::Step drive(Call call, std::string_view operation);

  Socket socket_;
  TlsEngine engine_;
  std::string peer_;  // names the peer in errors
};

}  // namespace sockit
