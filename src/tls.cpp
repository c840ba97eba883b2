#include "sockit/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
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

// The error OpenSSL queued first, where the failure began ("no start line", not the "PEM lib"
// that its callers add); a system error keeps its errno. Empties the queue.
std::error_code take_error() noexcept {
  const unsigned long error = ERR_peek_error();
  ERR_clear_error();
  if (error == 0) return std::make_error_code(std::errc::protocol_error);
  if (ERR_SYSTEM_ERROR(error)) return {ERR_GET_REASON(error), std::system_category()};
  return {static_cast<int>(error), tls_category()};
}

std::error_code tls_reason(int reason) noexcept {
  return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), tls_category()};
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
  if (!timeout) return std::nullopt;
  return sys::Clock::now() + std::chrono::duration_cast<sys::Clock::duration>(*timeout);
}

template <class T, void (*Release)(T*)>
struct Freer {
  void operator()(T* p) const noexcept { Release(p); }
};
using BioPtr = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Freer<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;

// A PEM file, opened with an error that names it.
BioPtr open_pem(const std::string& path, std::string_view what) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    throw_error(sys::errno_code(), std::string(what) + " " + path);
  }
  return bio;
}

// PEM's password callback: the configured password, or a refusal that says one is needed.
int pem_password(char* buffer, int size, int /*rwflag*/, void* data) {
  const auto* password = static_cast<const std::string*>(data);
  if (password == nullptr || password->empty()) return -1;
  const int n =
      static_cast<int>(std::min<std::size_t>(password->size(), static_cast<std::size_t>(size)));
  std::memcpy(buffer, password->data(), static_cast<std::size_t>(n));
  return n;
}

KeyPtr load_key(const std::string& path, const std::string& password) {
  BioPtr bio = open_pem(path, "TLS key");
  std::string given = password;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, pem_password, &given));
  if (key) return key;
  const unsigned long error = ERR_peek_last_error();
  ERR_clear_error();
  const int reason = ERR_GET_REASON(error);
  if (reason == PEM_R_BAD_PASSWORD_READ || reason == PEM_R_PROBLEMS_GETTING_PASSWORD) {
    throw TlsError(std::make_error_code(std::errc::permission_denied),
                   "TLS key " + path + " is encrypted: give its password");
  }
  if (ERR_GET_LIB(error) == ERR_LIB_PKCS12 || reason == EVP_R_BAD_DECRYPT ||
      reason == PEM_R_BAD_DECRYPT) {
    throw TlsError(std::make_error_code(std::errc::permission_denied),
                   "TLS key " + path + ": wrong password");
  }
  throw TlsError(error == 0 ? std::make_error_code(std::errc::invalid_argument)
                            : std::error_code(static_cast<int>(error), tls_category()),
                 "TLS key " + path + ": no private key in PEM form");
}

// Idle sessions keep no record buffers; a write that would block reports what it got out
// (for progress) and may be retried from another address with the same bytes. (Read-ahead,
// set beside it, lets a session take what the socket has in one recv rather than a record's
// header and body in two.)
constexpr long kModes =
    SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER;

// The forward-secret TLS 1.2 suites (TLS 1.3's are all forward-secret): ECDHE with AES-GCM or
// ChaCha20-Poly1305, as Mozilla's "intermediate" profile lists them.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned inlen, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  // The server's preference order decides; no overlap proceeds without ALPN.
  if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(ours->data()),
                            static_cast<unsigned>(ours->size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

void add_extension(X509* certificate, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr) throw_tls(take_error(), "make a certificate extension");
  X509_add_ext(certificate, extension, -1);
  X509_EXTENSION_free(extension);
}

std::string hex_fingerprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest, &size) != 1) return {};
  std::string text;
  char byte[4];
  for (unsigned i = 0; i < size; ++i) {
    std::snprintf(byte, sizeof byte, i == 0 ? "%02X" : ":%02X", digest[i]);
    text += byte;
  }
  return text;
}

}  // namespace

SelfSignedCertificate make_self_signed_certificate(const std::vector<std::string>& names,
                                                   const std::string& key_password) {
  const KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr certificate(X509_new());
  if (!key || !certificate) throw_tls(take_error(), "make a self-signed certificate");
  X509* cert = certificate.get();
  X509_set_version(cert, 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert));
  BN_free(number);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600);
  X509_NAME* subject = X509_get_subject_name(cert);
  const std::string common_name = names.empty() ? "sockit" : names.front();
  const auto add_name = [subject](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(subject, field, MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  };
  add_name("O", "sockit self-signed");
  add_name("CN", common_name);
  X509_set_issuer_name(cert, subject);
  X509_set_pubkey(cert, key.get());
  std::string alt_names;
  for (const auto& name : names) {
    if (!alt_names.empty()) alt_names += ',';
    alt_names += (is_ip_literal(name) ? "IP:" : "DNS:") + name;
  }
  add_extension(cert, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, NID_ext_key_usage, "serverAuth,clientAuth");
  add_extension(cert, NID_subject_key_identifier, "hash");
  if (!alt_names.empty()) add_extension(cert, NID_subject_alt_name, alt_names.c_str());
  if (X509_sign(cert, key.get(), EVP_sha256()) == 0) {
    throw_tls(take_error(), "sign a self-signed certificate");
  }
  SelfSignedCertificate made;
  made.fingerprint = hex_fingerprint(cert);
  BioPtr out(BIO_new(BIO_s_mem()));
  const auto take = [&out](std::string& into) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    into.assign(data, static_cast<std::size_t>(size));
    BIO_reset(out.get());
  };
  if (!out || PEM_write_bio_X509(out.get(), cert) != 1) {
    throw_tls(take_error(), "write a self-signed certificate");
  }
  take(made.certificate_pem);
  const EVP_CIPHER* cipher = key_password.empty() ? nullptr : EVP_aes_256_cbc();
  std::string password = key_password;
  if (PEM_write_bio_PrivateKey(out.get(), key.get(), cipher, nullptr, 0,
                               key_password.empty() ? nullptr : pem_password, &password) != 1) {
    throw_tls(take_error(), "write a self-signed certificate's key");
  }
  take(made.key_pem);
  return made;
}

const std::error_category& tls_category() noexcept {
  static const TlsCategory category;
  return category;
}

const std::error_category& tls_verify_category() noexcept {
  static const VerifyCategory category;
  return category;
}

void throw_tls(std::error_code code, std::string_view operation) {
  if (code.category() == tls_category()) throw TlsError(code, operation);
  if (code.category() == tls_verify_category()) throw CertificateVerifyError(code, operation);
  throw_error(code, operation);
}

// The BIO beneath every session: reads and writes the engine's socket, and reports would-block
// as OpenSSL's retry, so that the engine never waits itself.
struct TlsEngine::Io {
  static TlsEngine& engine(BIO* bio) { return *static_cast<TlsEngine*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    TlsEngine& self = engine(bio);
    auto n = sys::recv(self.fd_, data, static_cast<std::size_t>(size), 0);
    if (!n) {
      if (would_block(n.error())) {
        BIO_set_retry_read(bio);
      } else {
        self.transport_error_ = n.error();
      }
      return -1;
    }
    if (*n == 0) self.eof_ = true;
    return static_cast<int>(*n);
  }

  static int write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    TlsEngine& self = engine(bio);
    auto n = sys::send(self.fd_, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (!n) {
      if (would_block(n.error())) {
        BIO_set_retry_write(bio);
      } else {
        self.transport_error_ = n.error();
      }
      return -1;
    }
    return static_cast<int>(*n);
  }

  static long control(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
    // Writes go straight to the socket: there is nothing to flush.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
  }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const kMethod = [] {
      BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sockit socket");
      BIO_meth_set_read(made, read);
      BIO_meth_set_write(made, write);
      BIO_meth_set_ctrl(made, control);
      BIO_meth_set_create(made, create);
      return made;
    }();
    return kMethod;
  }
};

void TlsContext::Free::operator()(ssl_ctx_st* context) const noexcept {
  SSL_CTX_free(context);
}

void TlsEngine::Free::operator()(ssl_st* ssl) const noexcept {
  SSL_free(ssl);
}

TlsContext::TlsContext(const TlsClientOptions& options)
    : context_(SSL_CTX_new(TLS_client_method())) {
  if (!context_) throw_tls(take_error(), "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_mode(context, kModes);
  SSL_CTX_set_read_ahead(context, 1);
  if (!options.verify) {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  } else if (options.cafile.empty()) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_set_default_verify_paths(context) != 1) {
      throw_tls(take_error(), "load the system's trusted certificates");
    }
  } else {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    open_pem(options.cafile, "CA certificates");
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
  if (!options.certfile.empty()) present(options.certfile, options.keyfile, options.key_password);
}

TlsContext::TlsContext(const TlsServerOptions& options)
    : context_(SSL_CTX_new(TLS_server_method())), server_side_(true) {
  if (!context_) throw_tls(take_error(), "SSL_CTX_new");
  SSL_CTX* context = context_.get();
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(context, kModes);
  SSL_CTX_set_read_ahead(context, 1);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) {
    throw_tls(take_error(), "set the TLS 1.2 ciphers");
  }
  // Resumption by tickets only (OpenSSL's default, with keys of this context): they are
  // stateless, while the session cache would keep every session of every connection (some
  // KiB each) until it expires. The context id lets a client that presented a certificate
  // resume.
  static constexpr unsigned char kSessionContext[] = "sockit";
  SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  if (options.certfile.empty()) {
    present_self_signed(options.self_signed_names);
  } else {
    present(options.certfile, options.keyfile, options.key_password);
  }
  if (!options.alpn.empty()) {
    alpn_ = std::make_unique<std::string>(alpn_wire_format(options.alpn));
    SSL_CTX_set_alpn_select_cb(context, select_alpn, alpn_.get());
  }
  if (!options.client_ca.empty()) {
    open_pem(options.client_ca, "client CA certificates");
    if (SSL_CTX_load_verify_locations(context, options.client_ca.c_str(), nullptr) != 1) {
      throw_tls(take_error(), "load client CA certificates from " + options.client_ca);
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.client_ca.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(context, names);
    ERR_clear_error();
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
}

// The certificate chain and its key, with errors that name the file and say what is wrong.
void TlsContext::present(const std::string& certfile, const std::string& keyfile,
                         const std::string& password) {
  SSL_CTX* context = context_.get();
  open_pem(certfile, "TLS certificate");
  if (SSL_CTX_use_certificate_chain_file(context, certfile.c_str()) != 1) {
    throw_tls(take_error(), "TLS certificate " + certfile);
  }
  const std::string& key_path = keyfile.empty() ? certfile : keyfile;
  const KeyPtr key = load_key(key_path, password);
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    ERR_clear_error();
    throw TlsError(std::make_error_code(std::errc::invalid_argument),
                   "TLS key " + key_path + " does not match the certificate in " + certfile);
  }
  remember_certificate();
}

void TlsContext::present_self_signed(const std::vector<std::string>& names) {
  const SelfSignedCertificate made = make_self_signed_certificate(names);
  BioPtr certificate_in(
      BIO_new_mem_buf(made.certificate_pem.data(), static_cast<int>(made.certificate_pem.size())));
  BioPtr key_in(BIO_new_mem_buf(made.key_pem.data(), static_cast<int>(made.key_pem.size())));
  const X509Ptr certificate(PEM_read_bio_X509(certificate_in.get(), nullptr, nullptr, nullptr));
  const KeyPtr key(PEM_read_bio_PrivateKey(key_in.get(), nullptr, nullptr, nullptr));
  if (!certificate || !key || SSL_CTX_use_certificate(context_.get(), certificate.get()) != 1 ||
      SSL_CTX_use_PrivateKey(context_.get(), key.get()) != 1) {
    throw_tls(take_error(), "use a self-signed certificate");
  }
  self_signed_ = true;
  remember_certificate();
}

void TlsContext::remember_certificate() {
  X509* certificate = SSL_CTX_get0_certificate(context_.get());
  if (certificate == nullptr) return;
  fingerprint_ = hex_fingerprint(certificate);
  BioPtr out(BIO_new(BIO_s_mem()));
  if (out && PEM_write_bio_X509(out.get(), certificate) == 1) {
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    certificate_pem_.assign(data, static_cast<std::size_t>(size));
  }
  ERR_clear_error();
}

TlsEngine TlsContext::engine(int fd, std::string_view server_hostname) const {
  SSL* ssl = SSL_new(context_.get());
  if (ssl == nullptr) throw_tls(take_error(), "SSL_new");
  TlsEngine engine(ssl, fd);
  BIO* bio = BIO_new(TlsEngine::Io::method());
  if (bio == nullptr) throw_tls(take_error(), "BIO_new");
  SSL_set_bio(ssl, bio, bio);  // one BIO both ways, owned by the session
  if (server_side_) {
    SSL_set_accept_state(ssl);
    return engine;
  }
  SSL_set_connect_state(ssl);
  if (server_hostname.empty()) return engine;
  const std::string host(server_hostname);
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  } else {
    SSL_set1_host(ssl, host.c_str());
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
  }
  return engine;
}

TlsStream TlsContext::wrap_socket(Socket socket, std::string_view server_hostname) const {
  if (server_side_) throw std::logic_error("wrap_socket(socket, hostname) needs a client context");
  auto peer = socket.try_getpeername();
  const std::string port = peer && peer->port() != 0 ? ":" + std::to_string(peer->port()) : "";
  TlsEngine session = engine(socket.fileno(), server_hostname);
  TlsStream stream(std::move(socket), std::move(session), std::string(server_hostname) + port);
  stream.drive([&](TlsEngine& e) { return e.handshake(); }, "TLS handshake with");
  return stream;
}

TlsStream TlsContext::wrap_socket(Socket socket) const {
  if (!server_side_) throw std::logic_error("wrap_socket(socket) needs a server context");
  auto peer = socket.try_getpeername();
  TlsEngine session = engine(socket.fileno());
  TlsStream stream(std::move(socket), std::move(session), peer ? peer->to_string() : "a client");
  stream.drive([&](TlsEngine& e) { return e.handshake(); }, "TLS handshake with");
  return stream;
}

TlsEngine::TlsEngine(ssl_st* ssl, int fd) noexcept : ssl_(ssl), fd_(fd) {}
TlsEngine::TlsEngine(TlsEngine&&) noexcept = default;
TlsEngine& TlsEngine::operator=(TlsEngine&&) noexcept = default;
TlsEngine::~TlsEngine() = default;

template <class Call>
TlsEngine::Step TlsEngine::run(Call call) {
  // The BIO finds the engine through its data: set on each call, so that the engine may move.
  BIO_set_data(SSL_get_rbio(ssl_.get()), this);
  ERR_clear_error();
  transport_error_ = {};
  std::size_t bytes = 0;
  const int result = call(bytes);
  if (result > 0) return {Step::done, bytes, {}};
  switch (const int error = SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      return {Step::want_read, 0, {}};
    case SSL_ERROR_WANT_WRITE:
      return {Step::want_write, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {Step::closed, 0, {}};
    default:
      return {Step::failed, 0, failure(error)};
  }
}

TlsEngine::Step TlsEngine::handshake() {
  return run([this](std::size_t&) { return SSL_do_handshake(ssl_.get()); });
}

TlsEngine::Step TlsEngine::read(std::span<char> buffer) {
  if (buffer.empty()) return {};
  const Step step = run([&](std::size_t& bytes) {
    return SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &bytes);
  });
  read_wanted_socket_ = step.status == Step::want_read;
  return step;
}

TlsEngine::Step TlsEngine::write(std::string_view data) {
  if (data.empty()) return {};
  return run([&](std::size_t& bytes) {
    return SSL_write_ex(ssl_.get(), data.data(), data.size(), &bytes);
  });
}

TlsEngine::Step TlsEngine::shutdown() {
  // 0 (our close_notify sent, the peer's not yet seen) is as done as we wait for.
  return run([this](std::size_t&) { return SSL_shutdown(ssl_.get()) >= 0 ? 1 : -1; });
}

// Why the session failed: the peer's certificate, then OpenSSL's reason, then the socket's.
std::error_code TlsEngine::failure(int error) {
  SSL* ssl = ssl_.get();
  const long verified = SSL_get_verify_result(ssl);
  if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) != 0 && verified != X509_V_OK &&
      !SSL_is_init_finished(ssl)) {
    ERR_clear_error();
    return {static_cast<int>(verified), tls_verify_category()};
  }
  if (transport_error_) {
    ERR_clear_error();
    return transport_error_;
  }
  const std::error_code code = take_error();
  if (error == SSL_ERROR_SYSCALL && eof_ && code == std::errc::protocol_error) {
    return unexpected_eof();
  }
  return code;
}

std::error_code TlsEngine::unexpected_eof() noexcept {
  return tls_reason(SSL_R_UNEXPECTED_EOF_WHILE_READING);
}

bool TlsEngine::handshake_done() const noexcept {
  return SSL_is_init_finished(ssl_.get()) == 1;
}

bool TlsEngine::buffered() const noexcept {
  return !read_wanted_socket_ && SSL_has_pending(ssl_.get()) == 1;
}

std::string TlsEngine::version() const {
  return SSL_get_version(ssl_.get());
}

std::string TlsEngine::cipher() const {
  const SSL_CIPHER* current = SSL_get_current_cipher(ssl_.get());
  return current == nullptr ? "" : SSL_CIPHER_get_name(current);
}

std::string TlsEngine::selected_alpn_protocol() const {
  const unsigned char* data = nullptr;
  unsigned size = 0;
  SSL_get0_alpn_selected(ssl_.get(), &data, &size);
  return {reinterpret_cast<const char*>(data), size};
}

std::string TlsEngine::peer_subject() const {
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  if (peer == nullptr) return {};
  char text[512];
  X509_NAME_oneline(X509_get_subject_name(peer), text, sizeof text);
  return text;
}

std::shared_ptr<ssl_session_st> TlsEngine::session() const {
  SSL_SESSION* current = SSL_get1_session(ssl_.get());
  if (current == nullptr || SSL_SESSION_is_resumable(current) != 1) {
    SSL_SESSION_free(current);
    return nullptr;
  }
  return {current, SSL_SESSION_free};
}

void TlsEngine::set_session(const std::shared_ptr<ssl_session_st>& session) {
  if (session) SSL_set_session(ssl_.get(), session.get());
}

bool TlsEngine::session_reused() const noexcept {
  return SSL_session_reused(ssl_.get()) == 1;
}

TlsStream::TlsStream(Socket socket, TlsEngine engine, std::string peer)
    : socket_(std::move(socket)), engine_(std::move(engine)), peer_(std::move(peer)) {}

TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

template <class Call>
TlsEngine::Step TlsStream::drive(Call call, std::string_view operation) {
  const Timeout timeout = socket_.gettimeout();
  const sys::Deadline deadline = deadline_for(timeout);
  for (;;) {
    const TlsEngine::Step step = call(engine_);
    short events = 0;
    switch (step.status) {
      case TlsEngine::Step::done:
      case TlsEngine::Step::closed:
        return step;
      case TlsEngine::Step::want_read:
        events = POLLIN;
        break;
      case TlsEngine::Step::want_write:
        events = POLLOUT;
        break;
      case TlsEngine::Step::failed:
        throw_tls(step.error, std::string(operation) + " " + peer_);
    }
    // A non-blocking socket (timeout 0) says so rather than wait.
    const std::error_code waited =
        timeout && timeout->count() == 0
            ? std::make_error_code(std::errc::resource_unavailable_try_again)
            : sys::wait(socket_.fileno(), events, deadline);
    if (waited) throw_tls(waited, std::string(operation) + " " + peer_);
  }
}

std::size_t TlsStream::recv_into(std::span<char> buffer) {
  const auto step = drive([&](TlsEngine& e) { return e.read(buffer); }, "TLS recv from");
  return step.status == TlsEngine::Step::done ? step.bytes : 0;
}

std::string TlsStream::recv(std::size_t bufsize) {
  std::string data(bufsize, '\0');
  data.resize(recv_into(data));
  return data;
}

void TlsStream::sendall(std::string_view data) {
  while (!data.empty()) {
    const auto step = drive([&](TlsEngine& e) { return e.write(data); }, "TLS send to");
    if (step.status != TlsEngine::Step::done) {
      throw_tls(tls_reason(SSL_R_PROTOCOL_IS_SHUTDOWN), "TLS send to " + peer_);
    }
    data.remove_prefix(step.bytes);
  }
}

void TlsStream::shutdown() noexcept {
  // The alert is small enough for an idle socket's buffer: no wait for it.
  static_cast<void>(engine_.shutdown());
  ERR_clear_error();
}

}  // namespace sockit
