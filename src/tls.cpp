#include "sockit/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <utility>

#include "sys/sys.hpp"

namespace sockit {
namespace {

class TlsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int code) const override {
    if (const char* reason = ERR_reason_error_string(static_cast<unsigned long>(code))) {
      return reason;
    }
    char text[32];
    std::snprintf(text, sizeof text, "TLS error %08x", static_cast<unsigned>(code));
    return text;
  }
};

class VerifyCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "x509"; }
  std::string message(int code) const override {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(code);
  }
};

// The error OpenSSL queued last (a system error keeps its errno), and an empty queue.
std::error_code take_error() noexcept {
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  if (error == 0) return std::make_error_code(std::errc::protocol_error);
  if (ERR_SYSTEM_ERROR(error)) return {ERR_GET_REASON(error), std::system_category()};
  return {static_cast<int>(error), tls_category()};
}

// Throws TlsError for OpenSSL's errors and the matching Error subclass for the socket's.
[[noreturn]] void throw_tls(std::error_code code, std::string_view operation) {
  if (code.category() == tls_category()) throw TlsError(code, operation);
  if (code.category() == tls_verify_category()) throw CertificateVerifyError(code, operation);
  throw_error(code, operation);
}

std::string alpn_wire_format(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& protocol : protocols) {
    if (protocol.empty() || protocol.size() > 255) {
      throw std::invalid_argument("ALPN protocol names are 1 to 255 bytes");
    }
    wire += static_cast<char>(protocol.size());
    wire += protocol;
  }
  return wire;
}

bool is_ip_literal(const std::string& host) {
  return Endpoint::from_ip(host, 0).ok();
}

sys::Deadline deadline_for(Timeout timeout) noexcept {
  if (!timeout || timeout->count() == 0) return std::nullopt;
  return sys::Clock::now() + std::chrono::duration_cast<sys::Clock::duration>(*timeout);
}

}  // namespace

const std::error_category& tls_category() noexcept {
  static const TlsCategory category;
  return category;
}

const std::error_category& tls_verify_category() noexcept {
  static const VerifyCategory category;
  return category;
}

void TlsContext::Free::operator()(ssl_ctx_st* context) const noexcept {
  SSL_CTX_free(context);
}

void TlsStream::Free::operator()(ssl_st* ssl) const noexcept {
  SSL_free(ssl);
}

TlsContext::TlsContext(const TlsClientOptions& options)
    : context_(SSL_CTX_new(TLS_client_method())) {
  if (!context_) throw_tls(take_error(), "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  if (!options.verify) {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  } else if (options.cafile.empty()) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(context) != 1) {
      throw_tls(take_error(), "load the system's trusted certificates");
    }
  } else {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(context, options.cafile.c_str(), nullptr) != 1) {
      throw_tls(take_error(), "load CA certificates from " + options.cafile);
    }
  }
  if (!options.alpn.empty()) {
    const std::string wire = alpn_wire_format(options.alpn);
    // The one OpenSSL call that returns 0 on success.
    if (SSL_CTX_set_alpn_protos(context, reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      throw_tls(take_error(), "set ALPN protocols");
    }
  }
}

TlsStream TlsContext::wrap_socket(Socket socket, std::string_view server_hostname) const {
  const std::string host(server_hostname);
  auto peer = socket.try_getpeername();
  const std::string port = peer && peer->port() != 0 ? ":" + std::to_string(peer->port()) : "";
  SSL* ssl = SSL_new(context_.get());
  if (ssl == nullptr) throw_tls(take_error(), "SSL_new");
  TlsStream stream(std::move(socket), ssl, host + port);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    throw_tls(take_error(), "BIO_new");
  }
  // An empty input buffer means "wait for more", not end of file.
  BIO_ctrl(in, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nullptr);
  SSL_set_bio(ssl, in, out);
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set1_host(ssl, host.c_str());
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  stream.do_handshake();
  return stream;
}

TlsStream::TlsStream(Socket socket, ssl_st* ssl, std::string peer)
    : socket_(std::move(socket)), ssl_(ssl), peer_(std::move(peer)) {}

TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

void TlsStream::do_handshake() {
  drive([this] { return SSL_connect(ssl_.get()); }, "TLS handshake with");
}

std::size_t TlsStream::recv_into(std::span<char> buffer) {
  if (buffer.empty()) return 0;
  const int size = static_cast<int>(std::min<std::size_t>(buffer.size(), INT_MAX));
  const int n = drive([&] { return SSL_read(ssl_.get(), buffer.data(), size); }, "TLS recv from");
  return static_cast<std::size_t>(n);
}

std::string TlsStream::recv(std::size_t bufsize) {
  std::string data(bufsize, '\0');
  data.resize(recv_into(data));
  return data;
}

void TlsStream::sendall(std::string_view data) {
  while (!data.empty()) {
    const int size = static_cast<int>(std::min<std::size_t>(data.size(), INT_MAX));
    const int n = drive([&] { return SSL_write(ssl_.get(), data.data(), size); }, "TLS send to");
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void TlsStream::shutdown() noexcept {
  if (SSL_shutdown(ssl_.get()) < 0) {
    ERR_clear_error();
    return;
  }
  // The alert is small enough for an idle socket's buffer: no wait for it.
  static_cast<void>(flush(sys::Clock::now()));
}

std::string TlsStream::version() const {
  return SSL_get_version(ssl_.get());
}

std::string TlsStream::cipher() const {
  const SSL_CIPHER* current = SSL_get_current_cipher(ssl_.get());
  return current == nullptr ? "" : SSL_CIPHER_get_name(current);
}

std::string TlsStream::selected_alpn_protocol() const {
  const unsigned char* data = nullptr;
  unsigned size = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &size);
  return {reinterpret_cast<const char*>(data), size};
}

template <class Call>
int TlsStream::drive(Call call, std::string_view operation) {
  const Deadline deadline = deadline_for(socket_.gettimeout());
  const auto context = [&] { return std::string(operation) + " " + peer_; };
  for (;;) {
    ERR_clear_error();
    const int result = call();
    const int error = result > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl_.get(), result);
    // Whatever OpenSSL wrote goes out first, an alert after a failure included.
    const Result<void> flushed = flush(deadline);
    switch (error) {
      case SSL_ERROR_NONE:
        if (!flushed) throw_tls(flushed.error(), context());
        return result;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_WANT_READ:
        if (!flushed) throw_tls(flushed.error(), context());
        if (eof_) fail(SSL_ERROR_SYSCALL, context());
        if (auto filled = fill(deadline); !filled) throw_tls(filled.error(), context());
        continue;
      case SSL_ERROR_WANT_WRITE:
        if (!flushed) throw_tls(flushed.error(), context());
        continue;
      default:
        fail(error, context());
    }
  }
}

void TlsStream::fail(int error, std::string_view operation) {
  const long verified = SSL_get_verify_result(ssl_.get());
  if ((SSL_get_verify_mode(ssl_.get()) & SSL_VERIFY_PEER) != 0 && verified != X509_V_OK) {
    ERR_clear_error();
    throw_tls({static_cast<int>(verified), tls_verify_category()}, operation);
  }
  std::error_code code = take_error();
  if (error == SSL_ERROR_SYSCALL && eof_ && code == std::errc::protocol_error) {
    code = {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_UNEXPECTED_EOF_WHILE_READING)),
            tls_category()};
  }
  throw_tls(code, operation);
}

Result<void> TlsStream::flush(Deadline deadline) {
  BIO* out = SSL_get_wbio(ssl_.get());
  const bool waits = socket_.gettimeout() != Timeout(Duration(0));
  while (BIO_ctrl_pending(out) > 0) {
    const int n = BIO_read(out, io_buffer_.data(), static_cast<int>(io_buffer_.size()));
    if (n <= 0) break;
    std::string_view data(io_buffer_.data(), static_cast<std::size_t>(n));
    while (!data.empty()) {
      if (waits) {
        if (auto code = sys::wait(socket_.fileno(), POLLOUT, deadline)) return code;
      }
      auto sent = socket_.try_send(data);
      if (!sent) return sent.error();
      data.remove_prefix(*sent);
    }
  }
  return {};
}

Result<void> TlsStream::fill(Deadline deadline) {
  if (socket_.gettimeout() != Timeout(Duration(0))) {
    if (auto code = sys::wait(socket_.fileno(), POLLIN, deadline)) return code;
  }
  auto n = socket_.try_recv_into(io_buffer_);
  if (!n) return n.error();
  BIO* in = SSL_get_rbio(ssl_.get());
  if (*n == 0) {
    // From now on an empty buffer is the end of the stream, which OpenSSL reports.
    eof_ = true;
    BIO_ctrl(in, BIO_C_SET_BUF_MEM_EOF_RETURN, 0, nullptr);
    return {};
  }
  BIO_write(in, io_buffer_.data(), static_cast<int>(*n));
  return {};
}

}  // namespace sockit
