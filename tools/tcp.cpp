// sockit tcp: connect to or listen on a TCP (or Unix) stream and copy stdin and stdout through
// it, netcat done right: explicit half-close, bounded buffers, one clear line per failure.
#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "command.hpp"
#include "common.hpp"
#include "sockit/io.hpp"
#include "sockit/tls.hpp"

namespace sockit::tools {
namespace {

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr Duration kListenerHandshake{10};
constexpr int kStdin = 0;
constexpr int kStdout = 1;

struct TcpOptions {
  std::string host;
  std::string port;
  bool listen = false;
  bool keep_open = false;
  bool ipv4_only = false;
  bool ipv6_only = false;
  std::string wait;  // empty: the system's connect timeout
  std::string idle = "2s";
  std::optional<std::string> send;
  bool no_shutdown = false;
  bool exit_on_close = false;
  bool nodelay = false;
  bool keepalive = false;
  std::string keepalive_idle;
  int sndbuf = 0;
  int rcvbuf = 0;
  bool verbose = false;
  bool k = false;  // -k: --keep-open or --insecure, as -l says
  bool ssl = false;
  bool insecure = false;
  bool ssl_verify = false;
  std::string trustfile;   // client: the CAs to trust; listener: the CAs of client certificates
  std::string servername;  // SNI and the name verified; empty: HOST
  std::string alpn;        // comma list
  std::string cert;        // client: for mutual TLS; listener: its own (none: a throwaway one)
  std::string key;         // empty: in cert
};

struct Counts {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
};

// A failure of stdin or stdout rather than of the connection: it ends even a -k listener.
class LocalIoError final : public Error {
  using Error::Error;
};

Address target(const TcpOptions& options) {
  Address address = parse_target(options.host, options.port, "tcp");
  if (!options.listen && !address.local && address.port == 0) {
    throw std::invalid_argument("cannot connect to port 0 (port 0 means any port only with -l)");
  }
  if (address.local) {
    if (options.ipv4_only || options.ipv6_only) {
      throw std::invalid_argument("-4 and -6 do not apply to unix: targets");
    }
    if (options.nodelay || options.keepalive || !options.keepalive_idle.empty()) {
      throw std::invalid_argument("--nodelay and --keepalive apply to TCP only");
    }
  }
  return address;
}

Family family(const TcpOptions& options) {
  if (options.ipv4_only) return Family::inet;
  return options.ipv6_only ? Family::inet6 : Family::unspec;
}

// An endpoint as the verbose notes show it; a Unix client that never bound has no name.
std::string describe(const Endpoint& endpoint) {
  if (endpoint.family() == Family::local && endpoint.host().empty()) return "unix:(unnamed)";
  return endpoint.to_string();
}

// The peer as notes and errors name it. A peer that reset at once has no name left, so the
// target as given stands in for it.
std::string peer_name(const Socket& socket, const Address& target) {
  auto peer = socket.try_getpeername();
  return peer ? describe(*peer) : target.to_string();
}

void apply_socket_options(Socket& socket, const TcpOptions& options) {
  if (options.nodelay) socket.set(opt::no_delay{true});
  if (options.keepalive || !options.keepalive_idle.empty()) socket.set(opt::keep_alive{true});
  if (!options.keepalive_idle.empty()) {
    const Duration idle = parse_duration(options.keepalive_idle);
    // TCP_KEEPIDLE counts whole seconds; round up so a short idle never becomes 0 (invalid).
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(idle);
    socket.set(opt::keep_idle{std::max(seconds, std::chrono::seconds(1))});
  }
  if (options.sndbuf > 0) socket.set(opt::send_buffer{options.sndbuf});
  if (options.rcvbuf > 0) socket.set(opt::receive_buffer{options.rcvbuf});
}

// What one read or write of a connection did: moved bytes (a read's 0: the peer has ended
// the stream), or nothing yet because it waits for the socket (POLLIN or POLLOUT).
struct Transfer {
  std::size_t bytes = 0;
  short waits = 0;
};

// The connection the relay copies through: a plain socket or a TLS session over one. Both are
// non-blocking and say what they wait for, so that one poll loop drives either.
class Channel {
 public:
  Channel(Socket& socket, std::string peer) : socket_(socket), peer_(std::move(peer)) {
    socket_.settimeout(Duration(0));  // the relay's poll does the waiting
  }
  virtual ~Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  virtual Transfer send(std::string_view data) = 0;
  virtual Transfer recv(std::span<char> buffer) = 0;
  // Ends our direction: the TLS close_notify, then our FIN. 0 once done, else what it waits for.
  virtual short finish_sending() = 0;
  // Bytes already received and waiting beneath us, which no poll would announce.
  virtual bool buffered() const { return false; }

  int fileno() const { return socket_.fileno(); }
  const std::string& peer() const { return peer_; }

 protected:
  // Sends our FIN. A failure means the peer is already gone: a reset still unread is reported
  // by the next recv, and after the peer's own close there is nothing left to tell.
  void half_close() { static_cast<void>(socket_.try_shutdown(Shut::wr)); }

  Socket& socket_;
  std::string peer_;
};

class PlainChannel final : public Channel {
 public:
  using Channel::Channel;

  Transfer send(std::string_view data) override {
    auto sent = socket_.try_send(data);
    if (sent) return {*sent, 0};
    if (would_block(sent.error())) return {0, POLLOUT};
    throw_error(sent.error(), "send " + peer_);
  }

  Transfer recv(std::span<char> buffer) override {
    auto n = socket_.try_recv_into(buffer);
    if (n) return {*n, 0};
    if (would_block(n.error())) return {0, POLLIN};
    throw_error(n.error(), "recv " + peer_);
  }

  short finish_sending() override {
    half_close();
    return 0;
  }
};

class TlsChannel final : public Channel {
 public:
  TlsChannel(TlsStream& tls, std::string peer)
      : Channel(tls.socket(), std::move(peer)), engine_(tls.engine()) {}

  Transfer send(std::string_view data) override {
    const TlsEngine::Step step = engine_.write(data);
    if (step.status == TlsEngine::Step::closed) {
      throw_error(std::make_error_code(std::errc::broken_pipe), "TLS send to " + peer_);
    }
    return transfer(step, "TLS send to ");
  }

  // The peer's close_notify ends the stream, and so does its FIN without one: many peers
  // (ncat among them) close that way, and every byte before it was authenticated.
  Transfer recv(std::span<char> buffer) override {
    const TlsEngine::Step step = engine_.read(buffer);
    if (step.status == TlsEngine::Step::closed ||
        (step.status == TlsEngine::Step::failed && step.error == TlsEngine::unexpected_eof())) {
      return {};
    }
    return transfer(step, "TLS recv from ");
  }

  // A failed close_notify means the session or the peer is gone: the FIN follows regardless.
  short finish_sending() override {
    const TlsEngine::Step step = engine_.shutdown();
    if (const short waits = waits_of(step.status); waits != 0) return waits;
    half_close();
    return 0;
  }

  bool buffered() const override { return engine_.buffered(); }

 private:
  static short waits_of(TlsEngine::Step::Status status) {
    if (status == TlsEngine::Step::want_read) return POLLIN;
    return status == TlsEngine::Step::want_write ? POLLOUT : 0;
  }

  Transfer transfer(const TlsEngine::Step& step, std::string_view operation) {
    if (step.status == TlsEngine::Step::failed) {
      throw_tls(step.error, std::string(operation) + peer_);
    }
    return {step.bytes, waits_of(step.status)};
  }

  TlsEngine& engine_;
};

void write_stdout(std::string_view data) {
  if (auto written = write_all(kStdout, data); !written) {
    throw LocalIoError(written.error(), "write stdout");
  }
}

// Copies stdin (or the --send text) to the channel and the channel to stdout in one poll loop
// until both directions have ended. Each direction holds at most one buffer: stdin is read only
// once the channel has taken the previous chunk, and the channel only once stdout has.
class Relay {
 public:
  Relay(Channel& channel, bool& stdin_done, const TcpOptions& options)
      : channel_(channel), stdin_done_(stdin_done), options_(options) {
    if (options_.send) idle_ = parse_duration(options_.idle);
  }

  Counts run() {
    if (options_.send) {
      pending_ = *options_.send;
      if (pending_.empty()) end_of_input();
    } else if (stdin_done_) {
      end_of_input();
    }
    if (!pending_.empty()) send_pending();
    while (!(sending_done_ && receiving_done_)) {
      if (!step()) break;
    }
    return counts_;
  }

 private:
  bool sending() const { return !sending_done_ && (closing_ || !pending_.empty()); }

  bool stdin_wanted() const {
    return !options_.send && !sending_done_ && !closing_ && pending_.empty();
  }

  short channel_events() const {
    const int events = (receiving_done_ ? 0 : receive_waits_) | (sending() ? send_waits_ : 0);
    return static_cast<short>(events);
  }

  // One poll round; false when the relay is to stop at once: the peer closed and
  // --exit-on-close says so, or --send's peer stayed quiet for --idle.
  bool step() {
    const short events = channel_events();
    const bool buffered = !receiving_done_ && channel_.buffered();
    // A descriptor with nothing wanted is left out: its hang-up would wake poll forever.
    std::array<pollfd, 2> fds{pollfd{stdin_wanted() ? kStdin : -1, POLLIN, 0},
                              pollfd{events != 0 ? channel_.fileno() : -1, events, 0}};
    const Timeout wait = buffered ? Timeout(Duration(0)) : idle_;
    if (sockit::poll(fds, wait) == 0 && !buffered) return quiet();
    const short failed = POLLERR | POLLHUP;
    const short ready = static_cast<short>(fds[1].revents | (buffered ? receive_waits_ : 0));
    if (sending() && (ready & (send_waits_ | failed)) != 0) {
      closing_ ? finish_sending() : send_pending();
    }
    if (!receiving_done_ && (ready & (receive_waits_ | failed)) != 0) {
      if (!receive()) return false;
    }
    if (fds[0].revents != 0) read_stdin();
    return true;
  }

  // --idle ran out: the reply is over, unless the peer never took our text.
  bool quiet() {
    if (!sending_done_) {
      throw_error(std::make_error_code(std::errc::timed_out), "send " + channel_.peer());
    }
    return false;
  }

  void read_stdin() {
    auto n = read_some(kStdin, to_socket_);
    if (!n) {
      // A non-blocking stdin shared with another reader can lose a race for the data.
      if (would_block(n.error())) return;
      throw LocalIoError(n.error(), "read stdin");
    }
    if (*n == 0) {
      stdin_done_ = true;
      end_of_input();
      return;
    }
    pending_ = std::string_view(to_socket_.data(), *n);
    send_pending();
  }

  void send_pending() {
    const Transfer sent = channel_.send(pending_);
    send_waits_ = sent.waits != 0 ? sent.waits : POLLOUT;
    counts_.sent += sent.bytes;
    pending_.remove_prefix(sent.bytes);
    if (pending_.empty() && options_.send) end_of_input();
  }

  // False when the peer closed and we are to stop at once.
  bool receive() {
    const Transfer got = channel_.recv(from_socket_);
    receive_waits_ = got.waits != 0 ? got.waits : POLLIN;
    if (got.waits != 0) return true;
    if (got.bytes == 0) {
      receiving_done_ = true;
      return !options_.exit_on_close;
    }
    counts_.received += got.bytes;
    write_stdout(std::string_view(from_socket_.data(), got.bytes));
    return true;
  }

  // Everything to send has gone: end our direction, unless --no-shutdown keeps it open.
  void end_of_input() {
    if (options_.send && options_.no_shutdown) {
      sending_done_ = true;
      return;
    }
    closing_ = true;
    finish_sending();
  }

  void finish_sending() {
    const short waits = channel_.finish_sending();
    send_waits_ = waits;
    sending_done_ = waits == 0;
  }

  Channel& channel_;
  bool& stdin_done_;  // stdin reached its end; a -k listener remembers it across clients
  const TcpOptions& options_;
  Timeout idle_;  // --send: how long a quiet peer is waited for
  std::vector<char> to_socket_ = std::vector<char>(kBufferSize);
  std::vector<char> from_socket_ = std::vector<char>(kBufferSize);
  std::string_view pending_;  // what the channel has not taken yet, of to_socket_ or --send
  short send_waits_ = POLLOUT;
  short receive_waits_ = POLLIN;
  bool closing_ = false;  // our close_notify and FIN are on their way
  bool sending_done_ = false;
  bool receiving_done_ = false;
  Counts counts_;
};

// The relay over a session of tls, whose handshake the socket's timeout bounds: -w for a
// client, kListenerHandshake for a listener, so that a client that never sends its hello
// cannot hold a -k listener.
Counts relay_tls(const TlsContext& tls, Socket socket, const std::string& peer,
                 const TcpOptions& options, bool& stdin_done, const Log& log) {
  if (tls.server_side()) socket.settimeout(kListenerHandshake);
  TlsStream stream = tls.server_side() ? tls.wrap_socket(std::move(socket))
                                       : tls.wrap_socket(std::move(socket), options.servername);
  const TlsEngine& session = stream.engine();
  const std::string alpn = session.selected_alpn_protocol();
  log("TLS " + session.version() + " " + session.cipher() + (alpn.empty() ? "" : " ALPN " + alpn));
  TlsChannel channel(stream, peer);
  return Relay(channel, stdin_done, options).run();
}

// peer names the other end in messages; getpeername cannot, once a client has reset. tls is
// null without --ssl.
void serve(Socket socket, const std::string& peer, const TcpOptions& options, const TlsContext* tls,
           bool& stdin_done, const Log& log) {
  apply_socket_options(socket, options);
  Counts counts;
  if (tls != nullptr) {
    counts = relay_tls(*tls, std::move(socket), peer, options, stdin_done, log);
  } else {
    PlainChannel channel(socket, peer);
    counts = Relay(channel, stdin_done, options).run();
  }
  log("closed (sent " + std::to_string(counts.sent) + " bytes, received " +
      std::to_string(counts.received) + " bytes)");
}

// Removes a path listener's socket file when the listener goes away.
class SocketFile {
 public:
  explicit SocketFile(std::filesystem::path path) : path_(std::move(path)) {}
  SocketFile(const SocketFile&) = delete;
  SocketFile& operator=(const SocketFile&) = delete;
  ~SocketFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }

 private:
  std::filesystem::path path_;
};

// A socket file left by an earlier listener would make bind fail; any other file at the
// path is not ours, and bind's EADDRINUSE reports it.
void remove_stale_socket(const std::filesystem::path& path) {
  std::error_code ignored;
  if (std::filesystem::is_socket(std::filesystem::symlink_status(path, ignored))) {
    std::filesystem::remove(path, ignored);
  }
}

Socket open_listener(const Address& address, Family only) {
  if (address.local) return create_server(address);
  const Endpoint local = resolve(address, only, Type::stream, AI_PASSIVE).front();
  return create_server(Address::from_endpoint(local), ServerOptions{.family = local.family()});
}

// A tool that speaks TLS over a stream need not speak HTTP: ALPN only as --ssl-alpn says.
std::vector<std::string> alpn_protocols(std::string_view list) {
  std::vector<std::string> protocols;
  if (list.empty()) return protocols;
  for (std::size_t start = 0;;) {
    const std::size_t comma = list.find(',', start);
    std::string_view name = list.substr(start, comma - start);
    if (name.empty())
      throw std::invalid_argument("--ssl-alpn: empty protocol name in " + std::string(list));
    protocols.emplace_back(name);
    if (comma == std::string_view::npos) return protocols;
    start = comma + 1;
  }
}

// --ssl: the context every connection's session shares. Made before any socket, so that a bad
// certificate or key fails before the listener binds. Never moved: a server context's ALPN
// callback points into it.
std::unique_ptr<const TlsContext> tls_context(const TcpOptions& options) {
  if (!options.ssl) return nullptr;
  if (options.listen) {
    TlsServerOptions server;
    server.certfile = options.cert;
    server.keyfile = options.key;
    server.alpn = alpn_protocols(options.alpn);
    server.client_ca = options.trustfile;
    return std::make_unique<const TlsContext>(server);
  }
  TlsClientOptions client;
  client.cafile = options.trustfile;
  client.verify = !options.insecure;
  client.alpn = alpn_protocols(options.alpn);
  client.certfile = options.cert;
  client.keyfile = options.key;
  return std::make_unique<const TlsContext>(client);
}

// A listener's certificate as a client can pin it; always for a throwaway one, which nothing
// else identifies.
void report_certificate(const TlsContext& tls, const Log& log) {
  const std::string line = "TLS certificate SHA-256 fingerprint " + tls.fingerprint();
  if (tls.self_signed()) {
    print_error("tcp", line + " (self-signed)");
  } else {
    log(line);
  }
}

int listen_and_serve(const Address& address, const TcpOptions& options, const TlsContext* tls,
                     const Log& log) {
  const bool has_file = address.local && !address.host.starts_with('@');
  if (has_file) remove_stale_socket(address.host);
  Socket listener = open_listener(address, family(options));
  std::optional<SocketFile> socket_file;
  if (has_file) socket_file.emplace(address.host);
  log("listening on " + describe(listener.getsockname()));
  if (tls != nullptr) report_certificate(*tls, log);
  bool stdin_done = false;
  do {
    auto [conn, from] = listener.accept();
    const std::string peer = describe(from);
    log("accepted from " + peer);
    try {
      serve(std::move(conn), peer, options, tls, stdin_done, log);
    } catch (const LocalIoError&) {
      throw;
    } catch (const Error& e) {
      // One client's failure ends only that client when serving one after another.
      if (!options.keep_open) throw;
      print_error("tcp", e.what());
    }
  } while (options.keep_open);
  return 0;
}

// -k is ncat's --keep-open for a listener and curl's --insecure for a TLS client; the TLS
// options that fit one side only are refused on the other. Fills in the name a client
// verifies: HOST, or localhost for a Unix socket (which names no host).
void settle_tls_options(TcpOptions& options, const Address& address) {
  if (options.k) {
    if (options.listen) {
      options.keep_open = true;
    } else if (options.ssl) {
      options.insecure = true;
    } else {
      throw std::invalid_argument("-k needs -l (keep open) or --ssl (no certificate verification)");
    }
  }
  if (options.listen) {
    if (options.ssl_verify && options.trustfile.empty()) {
      throw std::invalid_argument(
          "--ssl-verify on a listener needs --ssl-trustfile (the client CAs)");
    }
    return;
  }
  if (options.insecure && (options.ssl_verify || !options.trustfile.empty())) {
    throw std::invalid_argument("-k/--insecure contradicts --ssl-verify and --ssl-trustfile");
  }
  if (options.servername.empty()) options.servername = address.local ? "localhost" : address.host;
}

int run(TcpOptions options) {
  const Address address = target(options);
  settle_tls_options(options, address);
  const Log log("tcp", options.verbose);
  const std::unique_ptr<const TlsContext> tls = tls_context(options);
  if (options.listen) return listen_and_serve(address, options, tls.get(), log);
  const Timeout wait = options.wait.empty() ? Timeout{} : Timeout{parse_duration(options.wait)};
  Socket socket = create_connection(address, wait, std::nullopt, family(options));
  const std::string peer = peer_name(socket, address);
  log("connected to " + peer + " from " + describe(socket.getsockname()));
  bool stdin_done = false;
  serve(std::move(socket), peer, options, tls.get(), stdin_done, log);
  return 0;
}

}  // namespace

void add_tls_options(CLI::App& app, TcpOptions& options, CLI::Option* listen) {
  auto* ssl = app.add_flag("--ssl", options.ssl, "Speak TLS over the connection");
  app.add_flag("--insecure", options.insecure,
               "Client: accept any certificate and name (as curl -k)")
      ->excludes(listen)
      ->needs(ssl);
  app.add_flag("--ssl-verify", options.ssl_verify,
               "Client: verify the server (the default); listener: require client certificates")
      ->needs(ssl);
  app.add_option("--ssl-trustfile", options.trustfile,
                 "PEM CA certificates: client, to trust instead of the system's; listener, that "
                 "client certificates must chain to (mutual TLS)")
      ->check(non_empty("FILE"))
      ->needs(ssl);
  app.add_option("--ssl-servername", options.servername,
                 "Client: the name sent (SNI) and verified; default: HOST")
      ->check(non_empty("NAME"))
      ->excludes(listen)
      ->needs(ssl);
  app.add_option("--ssl-alpn", options.alpn,
                 "Comma list of ALPN protocols: offered by a client, spoken by a listener")
      ->check(non_empty("LIST"))
      ->needs(ssl);
  auto* cert = app.add_option("--cert,--ssl-cert", options.cert,
                              "PEM certificate: client, for mutual TLS; listener, its own "
                              "(default: a throwaway self-signed one)")
                   ->check(non_empty("FILE"))
                   ->needs(ssl);
  app.add_option("--key,--ssl-key", options.key, "PEM private key of --cert; default: in --cert")
      ->check(non_empty("FILE"))
      ->needs(cert);
}

Run setup_tcp(CLI::App& app) {
  auto options = std::make_shared<TcpOptions>();
  app.add_option("host", options->host, "Host name, IP address, unix:/path or unix:@name")
      ->required();
  app.add_option("port", options->port, "Port number or service name (none for unix:)");
  auto* listen = app.add_flag("-l,--listen", options->listen,
                              "Listen on HOST PORT and serve one client (see -k)");
  app.add_flag("--keep-open", options->keep_open,
               "With -l, serve one client after another until killed")
      ->needs(listen);
  app.add_flag("-k", options->k, "With -l: --keep-open; with --ssl as a client: --insecure");
  auto* v4 = app.add_flag("-4", options->ipv4_only, "IPv4 addresses only");
  app.add_flag("-6", options->ipv6_only, "IPv6 addresses only")->excludes(v4);
  app.add_option("-w,--wait", options->wait,
                 "Connect timeout (2, 2.5s, 250ms); default: the system's")
      ->check(positive_duration_validator())
      ->excludes(listen);
  auto* send =
      app.add_option_function<std::string>(
             "--send", [options](const std::string& text) { options->send = text; },
             "Send TEXT (escapes \\r \\n \\t \\\\ \\0 \\xHH), shut down writing, print the reply")
          ->transform(escapes_decoded());
  app.add_flag("--no-shutdown", options->no_shutdown, "With --send, keep writing open")
      ->needs(send);
  app.add_option("-q,--idle", options->idle, "With --send, stop when the peer is quiet this long")
      ->check(positive_duration_validator())
      ->capture_default_str()
      ->needs(send);
  app.add_flag("--exit-on-close", options->exit_on_close,
               "Exit as soon as the peer closes, even if stdin has more")
      ->excludes(send);
  app.add_flag("--nodelay", options->nodelay, "Set TCP_NODELAY (no Nagle delay)");
  app.add_flag("--keepalive", options->keepalive, "Set SO_KEEPALIVE");
  app.add_option("--keepalive-idle", options->keepalive_idle,
                 "Idle time before the first keepalive probe (implies --keepalive)")
      ->check(positive_duration_validator());
  app.add_option("--sndbuf", options->sndbuf, "SO_SNDBUF in bytes")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_option("--rcvbuf", options->rcvbuf, "SO_RCVBUF in bytes")
      ->check(CLI::Range(1, INT32_MAX));
  app.add_flag("-v,--verbose", options->verbose, "Report connections and byte counts on stderr");
  add_tls_options(app, *options, listen);
  app.footer(
      "Copies stdin to the connection and the connection to stdout until both have ended;\n"
      "end of stdin sends FIN and the reply is still read.\n"
      "--ssl speaks TLS over the stream (TCP or unix:): end of stdin sends close_notify, then\n"
      "FIN. A client verifies the server against the system's CAs (or --ssl-trustfile) for HOST\n"
      "(or --ssl-servername; localhost for unix:). -k means --keep-open with -l and --insecure\n"
      "for a client.\n\n"
      "Examples:\n  sockit tcp localhost 8001\n"
      "  sockit tcp time.nist.gov daytime --send ''\n"
      "  sockit tcp example.com 80 --send 'HEAD / HTTP/1.0\\r\\n\\r\\n'\n"
      "  sockit tcp -l 127.0.0.1 0 -v\n  sockit tcp -l -k unix:/tmp/echo.sock\n"
      "  sockit tcp -6 -w 2s ::1 22\n"
      "  sockit tcp --ssl example.com 443 --send 'HEAD / HTTP/1.0\\r\\n\\r\\n'\n"
      "  sockit tcp --ssl --ssl-trustfile ca.pem --cert me.pem --key me-key.pem localhost 8443\n"
      "  sockit tcp -l -k --ssl 127.0.0.1 8443   (prints its certificate's SHA-256 fingerprint)\n"
      "  sockit tcp -l --ssl --ssl-cert cert.pem --ssl-key key.pem --ssl-trustfile clients.pem "
      "0.0.0.0 8443");
  return [options] { return run(*options); };
}

}  // namespace sockit::tools
