// sockit udp: send datagrams and print the replies, or listen, print and echo (RFC 862).
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "command.hpp"
#include "common.hpp"
#include "sockit/socket.hpp"

namespace sockit::tools {
namespace {

// Room for the largest UDP payload, so no datagram is ever cut short.
constexpr std::size_t kMaxDatagram = 65536;

struct UdpOptions {
  std::string host;
  std::string port;
  bool ipv4_only = false;
  bool ipv6_only = false;
  bool listen = false;
  bool echo = false;
  bool broadcast = false;
  bool verbose = false;
  std::optional<std::string> send;
  std::string timeout = "2s";
  int retries = 0;
  std::size_t max = 0;  // 0: no limit
};

std::string format_seconds(Duration duration) {
  std::ostringstream out;
  out << duration.count() << 's';
  return out.str();
}

// One datagram per line: a newline is added unless the datagram ends with one. Flushed at
// once, as whoever reads our stdout may be waiting for exactly this datagram.
void print_datagram(std::string_view data) {
  std::cout << data;
  if (data.empty() || data.back() != '\n') std::cout << '\n';
  check_written(std::cout, "stdout");
}

std::string describe(const Endpoint& from, std::size_t size) {
  return from.to_string() + " (" + std::to_string(size) + " bytes)";
}

Family family_of(const UdpOptions& options) {
  if (options.ipv4_only) return Family::inet;
  return options.ipv6_only ? Family::inet6 : Family::unspec;
}

Endpoint resolve_target(const UdpOptions& options, int flags) {
  const Address target = parse_target(options.host, options.port, "udp");
  if (target.local) throw std::invalid_argument("udp takes a HOST and PORT, not a unix: path");
  return resolve(target, family_of(options), Type::dgram, flags).front();
}

// Sends datagrams to one peer and waits for each reply.
class Client {
 public:
  Client(const UdpOptions& options, Endpoint peer)
      : retries_(options.retries),
        peer_(std::move(peer)),
        socket_(peer_.family(), Type::dgram),
        timeout_(parse_duration(options.timeout)),
        log_("udp", options.verbose) {
    if (options.broadcast) {
      // Unconnected: the replies to a broadcast come from other addresses than it went to.
      socket_.set(opt::broadcast{true});
    } else {
      // Connected, so that an ICMP port unreachable comes back as ECONNREFUSED.
      socket_.connect(peer_);
    }
    socket_.settimeout(timeout_);
  }

  // Sends data until a reply comes, at most 1 + retries times; false when none came.
  bool exchange(std::string_view data) {
    for (int attempt = 0; attempt <= retries_; ++attempt) {
      socket_.sendto(data, peer_);
      if (receive_reply()) return true;
    }
    print_error("udp", "no reply from " + peer_.to_string() + " after " +
                           std::to_string(retries_ + 1) + " attempt(s) (timeout " +
                           format_seconds(timeout_) + ")");
    return false;
  }

 private:
  bool receive_reply() {
    auto received = socket_.try_recvfrom_into(buffer_);
    if (!received) {
      const auto code = received.error();
      // A zero timeout means do not wait, which the socket reports as would-block.
      if (code == std::errc::timed_out || code == std::errc::operation_would_block) return false;
      throw_error(code, "recvfrom " + peer_.to_string());
    }
    const auto& [size, from] = *received;
    log_("reply from " + describe(from, size));
    print_datagram(std::string_view(buffer_.data(), size));
    return true;
  }

  int retries_;
  Endpoint peer_;
  Socket socket_;
  Duration timeout_;
  Log log_;
  std::string buffer_ = std::string(kMaxDatagram, '\0');
};

int run_client(const UdpOptions& options) {
  Client client(options, resolve_target(options, 0));
  if (options.send) return client.exchange(*options.send) ? 0 : 1;
  for (std::string line; std::getline(std::cin, line);) {
    if (!client.exchange(line)) return 1;
  }
  return 0;
}

// An echo that fails reaches one peer only, so it is reported and the server goes on.
void echo(Socket& socket, std::string_view data, const Endpoint& to) {
  if (auto sent = socket.try_sendto(data, to); !sent) {
    print_error("udp", Error(sent.error(), "echo to " + to.to_string()).what());
  }
}

int run_listener(const UdpOptions& options) {
  const Log log("udp", options.verbose);
  const Endpoint local = resolve_target(options, AI_PASSIVE);
  Socket socket(local.family(), Type::dgram);
  if (options.broadcast) socket.set(opt::broadcast{true});
  socket.bind(local);
  log("listening on " + socket.getsockname().to_string());
  std::string buffer(kMaxDatagram, '\0');
  for (std::size_t count = 0; options.max == 0 || count < options.max; ++count) {
    const auto [size, from] = socket.recvfrom_into(buffer);
    const std::string_view data(buffer.data(), size);
    log("datagram from " + describe(from, size));
    print_datagram(data);
    if (options.echo) echo(socket, data, from);
  }
  return 0;
}

}  // namespace

Run setup_udp(CLI::App& app) {
  auto options = std::make_shared<UdpOptions>();
  app.add_option("host", options->host, "Host name or address (to send to, or to bind)")
      ->required();
  app.add_option("port", options->port, "Port number or UDP service name");
  auto* v4 = app.add_flag("-4", options->ipv4_only, "IPv4 only");
  app.add_flag("-6", options->ipv6_only, "IPv6 only")->excludes(v4);
  auto* listen = app.add_flag("-l,--listen", options->listen,
                              "Bind HOST PORT and print each datagram received");
  app.add_flag("--echo", options->echo, "Send each datagram back to its source")->needs(listen);
  app.add_option("--max", options->max, "Stop after N datagrams")
      ->check(CLI::PositiveNumber)
      ->needs(listen);
  app.add_option("--send", options->send,
                 "Send this one datagram (escapes \\n \\r \\t \\\\ \\0 \\xHH) instead of each "
                 "line of stdin")
      ->excludes(listen)
      ->transform(escapes_decoded());
  app.add_option("--timeout", options->timeout, "How long to wait for each reply")
      ->check(duration_validator())
      ->capture_default_str();
  app.add_option("--retries", options->retries, "Resend this many times when no reply comes")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--broadcast", options->broadcast, "Allow sending to a broadcast address");
  app.add_flag("-v,--verbose", options->verbose, "Report addresses and sizes on stderr");
  app.footer(
      "Examples:\n  sockit udp 127.0.0.1 7 --send 'hello\\n'\n"
      "  sockit udp 127.0.0.1 17 --send ''\n"
      "  printf 'a\\nb\\n' | sockit udp --timeout 500ms --retries 2 localhost 7\n"
      "  sockit udp -l -v 127.0.0.1 0 --echo --max 10");
  return [options] { return options->listen ? run_listener(*options) : run_client(*options); };
}

}  // namespace sockit::tools
