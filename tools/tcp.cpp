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
#include <string>
#include <vector>

#include "command.hpp"
#include "common.hpp"
#include "sockit/io.hpp"

namespace sockit::tools {
namespace {

constexpr std::size_t kBufferSize = 64 * 1024;
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

// Sends our FIN. A failure means the peer is already gone: a reset still unread is reported
// by the next recv, and after the peer's own close there is nothing left to tell.
void half_close(Socket& socket) {
  static_cast<void>(socket.try_shutdown(Shut::wr));
}

void write_stdout(std::string_view data) {
  if (auto written = write_all(kStdout, data); !written) {
    throw LocalIoError(written.error(), "write stdout");
  }
}

// Copies stdin to the socket and the socket to stdout in one poll loop until both directions
// have ended. Each direction holds at most one buffer: stdin is read only once the socket has
// taken the previous chunk, and the socket only once stdout has.
class Relay {
 public:
  Relay(Socket& socket, std::string peer, bool& stdin_done, bool exit_on_close)
      : socket_(socket),
        peer_(std::move(peer)),
        stdin_done_(stdin_done),
        exit_on_close_(exit_on_close) {}

  Counts run() {
    socket_.settimeout(Duration(0));
    if (stdin_done_) finish_sending();
    while (!(sending_done_ && receiving_done_)) {
      if (!step()) break;
    }
    return counts_;
  }

 private:
  bool stdin_wanted() const { return !sending_done_ && pending_.empty(); }

  short socket_events() const {
    const int events = (receiving_done_ ? 0 : POLLIN) | (pending_.empty() ? 0 : POLLOUT);
    return static_cast<short>(events);
  }

  // One poll round; false when the peer closed and --exit-on-close says to stop.
  bool step() {
    const short events = socket_events();
    // A descriptor with nothing wanted is left out: its hang-up would wake poll forever.
    std::array<pollfd, 2> fds{pollfd{stdin_wanted() ? kStdin : -1, POLLIN, 0},
                              pollfd{events != 0 ? socket_.fileno() : -1, events, 0}};
    sockit::poll(fds, std::nullopt);
    const short socket_ready = fds[1].revents;
    const short failed = POLLERR | POLLHUP;
    if ((socket_ready & (POLLOUT | failed)) != 0 && !pending_.empty()) send_pending();
    if ((socket_ready & (POLLIN | failed)) != 0 && !receiving_done_) {
      if (!receive()) return false;
    }
    if (fds[0].revents != 0) read_stdin();
    return true;
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
      finish_sending();
      return;
    }
    pending_ = std::string_view(to_socket_.data(), *n);
    send_pending();
  }

  void send_pending() {
    auto sent = socket_.try_send(pending_);
    if (!sent) {
      if (would_block(sent.error())) return;
      throw_error(sent.error(), "send " + peer_);
    }
    counts_.sent += *sent;
    pending_.remove_prefix(*sent);
  }

  // False when the peer closed and we are to stop at once.
  bool receive() {
    auto n = socket_.try_recv_into(from_socket_);
    if (!n) {
      if (would_block(n.error())) return true;
      throw_error(n.error(), "recv " + peer_);
    }
    if (*n == 0) {
      receiving_done_ = true;
      return !exit_on_close_;
    }
    counts_.received += *n;
    write_stdout(std::string_view(from_socket_.data(), *n));
    return true;
  }

  void finish_sending() {
    half_close(socket_);
    sending_done_ = true;
  }

  Socket& socket_;
  std::string peer_;
  bool& stdin_done_;  // stdin reached its end; a -k listener remembers it across clients
  bool exit_on_close_;
  std::vector<char> to_socket_ = std::vector<char>(kBufferSize);
  std::vector<char> from_socket_ = std::vector<char>(kBufferSize);
  std::string_view pending_;  // the part of to_socket_ the socket has not taken yet
  bool sending_done_ = false;
  bool receiving_done_ = false;
  Counts counts_;
};

// --send: the text, then (unless --no-shutdown) our FIN, then the reply until the peer closes
// or stays quiet for --idle.
Counts send_text(Socket& socket, const std::string& peer, const TcpOptions& options) {
  const std::string& text = *options.send;
  socket.settimeout(parse_duration(options.idle));
  socket.sendall(text);
  Counts counts{text.size(), 0};
  if (!options.no_shutdown) half_close(socket);
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    auto n = socket.try_recv_into(buffer);
    if (!n) {
      if (n.error() == std::errc::timed_out) return counts;
      throw_error(n.error(), "recv " + peer);
    }
    if (*n == 0) return counts;
    counts.received += *n;
    write_stdout(std::string_view(buffer.data(), *n));
  }
}

// peer names the other end in messages; getpeername cannot, once a client has reset.
void serve(Socket& socket, const std::string& peer, const TcpOptions& options, bool& stdin_done,
           const Log& log) {
  apply_socket_options(socket, options);
  const Counts counts = options.send ? send_text(socket, peer, options)
                                     : Relay(socket, peer, stdin_done, options.exit_on_close).run();
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

int listen_and_serve(const Address& address, const TcpOptions& options, const Log& log) {
  const bool has_file = address.local && !address.host.starts_with('@');
  if (has_file) remove_stale_socket(address.host);
  Socket listener = open_listener(address, family(options));
  std::optional<SocketFile> socket_file;
  if (has_file) socket_file.emplace(address.host);
  log("listening on " + describe(listener.getsockname()));
  bool stdin_done = false;
  do {
    auto [conn, from] = listener.accept();
    const std::string peer = describe(from);
    log("accepted from " + peer);
    try {
      serve(conn, peer, options, stdin_done, log);
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

int run(const TcpOptions& options) {
  const Address address = target(options);
  const Log log("tcp", options.verbose);
  if (options.listen) return listen_and_serve(address, options, log);
  const Timeout wait = options.wait.empty() ? Timeout{} : Timeout{parse_duration(options.wait)};
  Socket socket = create_connection(address, wait, std::nullopt, family(options));
  const std::string peer = peer_name(socket, address);
  log("connected to " + peer + " from " + describe(socket.getsockname()));
  bool stdin_done = false;
  serve(socket, peer, options, stdin_done, log);
  return 0;
}

}  // namespace

Run setup_tcp(CLI::App& app) {
  auto options = std::make_shared<TcpOptions>();
  app.add_option("host", options->host, "Host name, IP address, unix:/path or unix:@name")
      ->required();
  app.add_option("port", options->port, "Port number or service name (none for unix:)");
  auto* listen = app.add_flag("-l,--listen", options->listen,
                              "Listen on HOST PORT and serve one client (see -k)");
  app.add_flag("-k,--keep-open", options->keep_open,
               "With -l, serve one client after another until killed")
      ->needs(listen);
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
  app.footer(
      "Copies stdin to the connection and the connection to stdout until both have ended;\n"
      "end of stdin sends FIN and the reply is still read.\n\n"
      "Examples:\n  sockit tcp localhost 8001\n"
      "  sockit tcp time.nist.gov daytime --send ''\n"
      "  sockit tcp example.com 80 --send 'HEAD / HTTP/1.0\\r\\n\\r\\n'\n"
      "  sockit tcp -l 127.0.0.1 0 -v\n  sockit tcp -l -k unix:/tmp/echo.sock\n"
      "  sockit tcp -6 -w 2s ::1 22");
  return [options] { return run(*options); };
}

}  // namespace sockit::tools
