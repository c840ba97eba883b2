// sockit serve: the small services (echo, daytime, qotd over TCP and UDP) and a static HTTP
// server on every core, until SIGINT, SIGTERM or SIGHUP, which drains them and prints their
// counters.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chat/directory.hpp"
#include "command.hpp"
#include "common.hpp"
#include "servers/chat.hpp"
#include "servers/daytime.hpp"
#include "servers/echo.hpp"
#include "servers/http.hpp"
#include "servers/qotd.hpp"
#include "sockit/io.hpp"
#include "sockit/loop_group.hpp"
#include "sockit/server.hpp"
#include "sockit/tls.hpp"

namespace sockit::tools {
namespace {

// A service `sockit serve` knows, and where it listens by default (port base + this).
struct ServiceKind {
  std::string_view name;
  std::uint16_t standard_port;
  // The command printed to try it; {host}, {port} and {hostport} are filled in.
  std::string_view tcp_try;
  std::string_view udp_try;  // empty: the service has no UDP side
  // With TLS on: the standard port of the service's TLS listener (0: none), its option, and
  // how to try it ({cert}: the certificate file to trust).
  std::uint16_t tls_port = 0;
  std::string_view tls_option;
  std::string_view tls_try;
};

constexpr ServiceKind kServices[] = {
    {"echo", 7, "sockit tcp {host} {port}", "sockit udp {host} {port} --send hello", 0, "", ""},
    {"daytime", 13, "sockit tcp {host} {port} </dev/null", "sockit udp {host} {port} --send ''", 0,
     "", ""},
    {"qotd", 17, "sockit tcp {host} {port} </dev/null", "sockit udp {host} {port} --send ''", 0, "",
     ""},
    {"chat", 23, "sockit tcp {host} {port}", "", 992, "chat-tls",
     "openssl s_client -quiet -CAfile {cert} -connect {hostport}"},
    {"http", 80, "sockit http http://{hostport}/", "", 443, "https",
     "curl --cacert {cert} https://{hostport}/"},
};

struct ServeOptions {
  std::vector<std::string> services;
  std::vector<std::string> binds;
  int port_base = 8000;
  std::map<std::string, int> ports;  // per-service --NAME-port
  std::size_t threads = 0;
  std::size_t max_connections = 0;
  std::string idle_timeout = "60s";
  std::string drain_timeout = "5s";
  std::string send_timeout = "60s";
  std::vector<std::string> allow;
  std::vector<std::string> deny;
  std::string daytime_format = "human";
  std::string quotes_file;
  std::string root;
  bool follow_symlinks = false;
  bool no_listing = false;
  std::string header_timeout = "10s";
  std::string cache_valid = "1s";
  chat::ChatOptions chat;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_key_password;
  bool tls_self_signed = false;
  std::string tls_client_ca;
  std::size_t max_handshakes = 256;
  bool verbose = false;

  bool tls() const { return tls_self_signed || !tls_cert.empty(); }
};

// The certificate file that try-it lines name: the one given, or the throwaway certificate
// written to a temporary file that goes away with the server.
class CertificateFile {
 public:
  CertificateFile(const TlsContext& context, const std::string& given) : path_(given) {
    if (!given.empty()) return;
    path_ = (std::filesystem::temp_directory_path() /
             ("sockit-serve-" + std::to_string(::getpid()) + "-cert.pem"))
                .string();
    std::ofstream out(path_);
    out << context.certificate_pem();
    check_written(out, path_);
    owned_ = true;
  }
  ~CertificateFile() {
    std::error_code ignored;
    if (owned_) std::filesystem::remove(path_, ignored);
  }
  CertificateFile(const CertificateFile&) = delete;
  CertificateFile& operator=(const CertificateFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool owned_ = false;
};

const ServiceKind& find_kind(std::string_view name) {
  for (const auto& kind : kServices) {
    if (kind.name == name) return kind;
  }
  throw std::invalid_argument("unknown service '" + std::string(name) + "'");
}

std::vector<Network> parse_networks(const std::vector<std::string>& texts) {
  std::vector<Network> networks;
  for (const auto& text : texts) {
    auto network = Network::parse(text);
    if (!network) {
      throw std::invalid_argument("bad CIDR block '" + text + "': " + network.error().message());
    }
    networks.push_back(*network);
  }
  return networks;
}

std::string fill(std::string_view pattern, const Endpoint& endpoint, const std::string& cert = {}) {
  std::string text(pattern);
  auto replace = [&text](std::string_view key, const std::string& value) {
    if (auto at = text.find(key); at != std::string::npos) text.replace(at, key.size(), value);
  };
  replace("{cert}", cert);
  replace("{hostport}", endpoint.to_string());
  replace("{host}", endpoint.host());
  replace("{port}", std::to_string(endpoint.port()));
  return text;
}

// One run of `sockit serve`: the services it runs, on a sockit::Server over one loop per
// thread, and what it prints.
class Serve {
 public:
  explicit Serve(const ServeOptions& options)
      : options_(options), loops_(options.threads), server_(loops_) {
    limits_.max_connections = options.max_connections;
    limits_.idle_timeout = parse_duration(options.idle_timeout);
    limits_.send_timeout = parse_duration(options.send_timeout);
    limits_.access.allow = parse_networks(options.allow);
    limits_.access.deny = parse_networks(options.deny);
    limits_.verbose = options.verbose;
    limits_.handshake_timeout = parse_duration(options.header_timeout);
    limits_.max_handshakes = options.max_handshakes;
    drain_timeout_ = parse_duration(options.drain_timeout);
    if (!options.tls() && !options.tls_client_ca.empty()) {
      throw std::invalid_argument("--tls-client-ca needs --tls-cert or --tls-self-signed");
    }
    if (options.tls()) {
      TlsServerOptions tls;
      tls.certfile = options.tls_cert;
      tls.keyfile = options.tls_key;
      tls.key_password = options.tls_key_password;
      tls.client_ca = options.tls_client_ca;
      tls_ = std::make_unique<TlsContext>(tls);
      certificate_file_ = std::make_unique<CertificateFile>(*tls_, options.tls_cert);
    }
    if (options.daytime_format != "human" && options.daytime_format != "nist") {
      throw std::invalid_argument("--daytime-format is human or nist");
    }
    quotes_ = std::make_shared<const servers::QuoteBook>(
        options.quotes_file.empty() ? servers::QuoteBook()
                                    : servers::QuoteBook::load(options.quotes_file));
    http_.files.root = options.root;
    http_.files.follow_symlinks = options.follow_symlinks;
    http_.files.list_directories = !options.no_listing;
    http_.header_timeout = parse_duration(options.header_timeout);
    http_.files.cache_valid =
        std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(options.cache_valid));
  }

  int run() {
    raise_open_file_limit();
    const auto names = service_names();
    if (std::find(names.begin(), names.end(), "chat") != names.end()) {
      directory_ = std::make_unique<chat::Directory>(options_.chat, loops_.size());
    }
    if (tls_) print_certificate();
    for (const auto& name : names)
      open_service(find_kind(name));
    set_http_pages();
    server_.on_note([](const std::string& note) { print_error("serve", note); });
    server_.run(drain_timeout_, [this] {
      std::cout << "ready: " << join(service_names()) << " on " << loops_.size()
                << (loops_.size() == 1 ? " thread" : " threads") << "; Ctrl-C stops" << std::endl;
    });
    print_totals();
    return 0;
  }

 private:
  std::vector<std::string> service_names() const {
    if (!options_.services.empty()) return options_.services;
    std::vector<std::string> all;
    for (const auto& kind : kServices)
      all.emplace_back(kind.name);
    return all;
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names)
      text += (text.empty() ? "" : ", ") + name;
    return text;
  }

  // The port of a listener: its --NAME-port, or BASE + its standard port.
  std::uint16_t port_of(std::string_view name, std::uint16_t standard) const {
    auto it = options_.ports.find(std::string(name));
    const int port = it != options_.ports.end() ? it->second : options_.port_base + standard;
    if (port < 0 || port > 65535) {
      throw std::invalid_argument("port " + std::to_string(port) + " of " + std::string(name) +
                                  " out of range 0-65535");
    }
    return static_cast<std::uint16_t>(port);
  }

  std::unique_ptr<Service> make(const ServiceKind& kind, EventLoop& loop, std::size_t index) {
    if (kind.name == "echo") return std::make_unique<servers::EchoService>(loop, limits_);
    if (kind.name == "chat") {
      return std::make_unique<servers::ChatService>(loop, limits_, *directory_, index);
    }
    if (kind.name == "daytime") {
      const auto format = options_.daytime_format == "nist" ? servers::DaytimeFormat::nist
                                                            : servers::DaytimeFormat::human;
      return std::make_unique<servers::DaytimeService>(loop, limits_, format);
    }
    if (kind.name == "http") return std::make_unique<servers::HttpService>(loop, limits_, http_);
    return std::make_unique<servers::QotdService>(loop, limits_, quotes_);
  }

  // The addresses to bind: --bind as given, or loopback (IPv6 only where the host has it).
  std::vector<std::pair<Endpoint, bool>> bind_addresses() const {
    std::vector<std::pair<Endpoint, bool>> addresses;
    const bool defaults = options_.binds.empty();
    const std::vector<std::string> texts =
        defaults ? std::vector<std::string>{"127.0.0.1", "::1"} : options_.binds;
    for (const auto& text : texts) {
      const std::string_view host = text.size() > 2 && text.front() == '[' && text.back() == ']'
                                        ? std::string_view(text).substr(1, text.size() - 2)
                                        : std::string_view(text);
      auto endpoint = Endpoint::from_ip(host, 0);
      if (!endpoint) {
        throw std::invalid_argument("--bind " + text + ": " + endpoint.error().message() +
                                    " (give a numeric address)");
      }
      addresses.emplace_back(*endpoint, defaults);
    }
    return addresses;
  }

  void open_service(const ServiceKind& kind) {
    const std::size_t service = server_.add_service(
        [this, &kind](EventLoop& loop, std::size_t index) { return make(kind, loop, index); });
    const bool datagrams = !kind.udp_try.empty();
    open_listeners(port_of(kind.name, kind.standard_port), [&](const Endpoint& endpoint) {
      const Endpoint bound = server_.listen(service, endpoint, datagrams);
      print_listener(kind.name, "tcp", bound, fill(kind.tcp_try, bound));
      if (datagrams) print_listener(kind.name, "udp", bound, fill(kind.udp_try, bound));
      return bound;
    });
    if (!tls_ || kind.tls_port == 0) return;
    open_listeners(port_of(kind.tls_option, kind.tls_port), [&](const Endpoint& endpoint) {
      const Endpoint bound = server_.listen_tls(service, endpoint, *tls_);
      print_listener(kind.name, "tls", bound, fill(kind.tls_try, bound, certificate_file_->path()));
      return bound;
    });
  }

  // Calls listen(endpoint) for each bind address with port, then the port it got (port 0:
  // the first address's choice, so every address has the same).
  template <class Listen>
  void open_listeners(std::uint16_t port, Listen listen) {
    for (auto [endpoint, optional] : bind_addresses()) {
      endpoint.set_port(port);
      try {
        port = listen(endpoint).port();
      } catch (const Error& e) {
        // The default ::1 is skipped quietly on hosts without IPv6.
        if (optional && endpoint.family() == Family::inet6 &&
            (e.code() == std::errc::address_not_available ||
             e.code() == std::errc::address_family_not_supported)) {
          continue;
        }
        throw;
      }
    }
  }

  void print_certificate() const {
    std::cout << "tls        "
              << (tls_->self_signed() ? "throwaway self-signed certificate"
                                      : "certificate " + options_.tls_cert)
              << " (" << certificate_file_->path() << "), SHA-256 " << tls_->fingerprint() << '\n';
  }

  void print_listener(std::string_view name, std::string_view transport, const Endpoint& endpoint,
                      const std::string& try_it) {
    std::ostringstream line;
    line << std::left << std::setw(8) << name << " " << transport << "  " << std::setw(24)
         << endpoint.to_string() << " try: " << try_it;
    listening_.push_back(line.str());
    std::cout << "listening  " << line.str() << '\n';
  }

  // The page the http service shows at "/" when it has no --root: what is running, and how
  // to try each service. With chat running, the http service also serves the chat page.
  void set_http_pages() {
    std::string page =
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sockit serve</title>"
        "</head>\n<body><h1>sockit serve</h1>\n<p>Running on " +
        std::to_string(loops_.size()) + (loops_.size() == 1 ? " thread" : " threads") +
        ". Give <code>--root DIR</code> to serve files.</p>\n";
    if (directory_) page += "<p><a href=\"/chat\">Chat</a> from the browser.</p>\n";
    page += "<pre>\n";
    for (const auto& line : listening_)
      page += http::html_escape(line) + "\n";
    page += "</pre></body></html>\n";
    for (std::size_t loop = 0; loop < loops_.size(); ++loop) {
      servers::ChatService* chat = nullptr;
      for (std::size_t service = 0; service < server_.services(); ++service) {
        if (auto* room = dynamic_cast<servers::ChatService*>(&server_.instance(service, loop)))
          chat = room;
      }
      for (std::size_t service = 0; service < server_.services(); ++service) {
        if (auto* web = dynamic_cast<servers::HttpService*>(&server_.instance(service, loop))) {
          web->set_page(page);
          web->set_chat(chat);
        }
      }
    }
  }

  void print_totals() const {
    const auto names = service_names();
    for (std::size_t service = 0; service < names.size(); ++service) {
      const auto total = server_.stats(service);
      std::cout << std::left << std::setw(8) << names[service] << " connections "
                << total.connections << "  rejected " << total.rejected << "  datagrams "
                << total.datagrams << "  bytes in " << total.bytes_in << "  bytes out "
                << total.bytes_out << '\n';
    }
    std::cout.flush();
  }

  const ServeOptions& options_;
  ServerLimits limits_;
  std::chrono::duration<double> drain_timeout_{5};
  std::shared_ptr<const servers::QuoteBook> quotes_;
  http::ServerOptions http_;
  // Shared by the chat service of every loop; outlives them.
  std::unique_ptr<chat::Directory> directory_;
  // With --tls-cert or --tls-self-signed: the context of every TLS listener.
  std::unique_ptr<TlsContext> tls_;
  std::unique_ptr<CertificateFile> certificate_file_;
  std::vector<std::string> listening_;  // one line per listener, as printed
  LoopGroup loops_;
  // Declared after the loops so that its services are destroyed first.
  Server server_;
};

}  // namespace

Run setup_serve(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  std::vector<std::string> names;
  for (const auto& kind : kServices)
    names.emplace_back(kind.name);
  app.add_option("service", options->services, "Services to run (default: all)")
      ->check(CLI::IsMember(names));
  app.add_option("--bind", options->binds,
                 "Address to listen on, repeatable (default: 127.0.0.1 and ::1)")
      ->allow_extra_args(false);
  app.add_option(
         "--port-base", options->port_base,
         "A service listens on BASE + its standard port (echo 7, daytime 13, qotd 17, chat 23, "
         "http 80)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  for (const auto& kind : kServices) {
    // (option, what it is the port of); a pair rather than a structured binding, which clang
    // 14 cannot capture.
    for (const auto& listener :
         {std::pair{std::string(kind.name), std::string(kind.name)},
          std::pair{std::string(kind.tls_option), std::string(kind.name) + " over TLS"}}) {
      const std::string& name = listener.first;
      if (name.empty()) continue;
      app.add_option_function<int>(
             "--" + name + "-port", [options, name](int port) { options->ports[name] = port; },
             "Port of " + listener.second + " (0: any free port)")
          ->check(CLI::Range(0, 65535));
    }
  }
  app.add_option("--threads", options->threads, "Event loops, one per thread (default: cores)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1024}));
  app.add_option("--max-conns", options->max_connections,
                 "Most open TCP connections at once, over all services (0: no limit)");
  app.add_option("--idle-timeout", options->idle_timeout,
                 "Close a connection idle this long (at most twice this long)")
      ->capture_default_str()
      ->check(duration_validator());
  app.add_option("--drain-timeout", options->drain_timeout,
                 "On SIGINT, SIGTERM or SIGHUP, how long open connections may take to finish "
                 "(a second signal closes them at once; SIGUSR1 and SIGUSR2 are ignored)")
      ->capture_default_str()
      ->check(duration_validator());
  app.add_option("--send-timeout", options->send_timeout,
                 "Close a connection whose reply makes no progress for this long (0: never)")
      ->capture_default_str()
      ->check(duration_validator());
  app.add_option("--allow", options->allow, "Serve only peers in this CIDR block (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--deny", options->deny, "Refuse peers in this CIDR block (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--daytime-format", options->daytime_format, "human or nist")
      ->capture_default_str()
      ->check(CLI::IsMember({"human", "nist"}));
  app.add_option("--quotes", options->quotes_file,
                 "QOTD quotes: fortune format (% lines between quotes) or one per line");
  app.add_option("--root", options->root,
                 "http: serve the files below this directory (default: a page about the "
                 "running services)")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--follow-symlinks", options->follow_symlinks,
               "http: let symlinks lead outside the root");
  app.add_flag("--no-listing", options->no_listing,
               "http: answer 403 for directories without index.html instead of listing them");
  app.add_option("--header-timeout", options->header_timeout,
                 "http: how long a client may take to send a request head")
      ->capture_default_str()
      ->check(positive_duration_validator());
  app.add_option("--cache-valid", options->cache_valid,
                 "http: serve files up to 16 KiB from memory for this long before looking at "
                 "them again (0: always look)")
      ->capture_default_str()
      ->check(duration_validator());
  app.add_option("--chat-rate", options->chat.rate,
                 "chat: lines a member may send per second, in bursts of twice that; faster "
                 "senders are read more slowly (0: no limit)")
      ->capture_default_str()
      ->check(finite_non_negative());
  app.add_option("--chat-queue", options->chat.max_queue,
                 "chat: disconnect a member that falls this far behind in unsent messages "
                 "(bytes; K, M suffixes)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40))
      ->default_str("256K");
  app.add_option("--chat-history", options->chat.history,
                 "chat: messages of a room shown to who joins it")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  app.add_option("--chat-allow-origin", options->chat.allowed_origins,
                 "chat: let pages of this origin join over WebSocket besides the server's own "
                 "(as browsers send it: http://host:port; repeatable)")
      ->allow_extra_args(false);
  app.add_option("--chat-max-line", options->chat.max_line, "chat: longest line, in bytes")
      ->capture_default_str()
      ->check(CLI::Range(16, 65536));
  auto* cert = app.add_option("--tls-cert", options->tls_cert,
                              "TLS: certificate chain (PEM) for https (BASE + 443) and the TLS "
                              "chat (BASE + 992)")
                   ->check(CLI::ExistingFile);
  app.add_option("--tls-key", options->tls_key,
                 "TLS: the certificate's key (default: in --tls-cert)")
      ->check(CLI::ExistingFile)
      ->needs(cert);
  app.add_option("--tls-key-password", options->tls_key_password,
                 "TLS: password of an encrypted key")
      ->needs(cert);
  app.add_flag("--tls-self-signed", options->tls_self_signed,
               "TLS: as --tls-cert, with a throwaway self-signed certificate "
               "(its SHA-256 fingerprint is printed)")
      ->excludes(cert);
  app.add_option("--tls-client-ca", options->tls_client_ca,
                 "TLS: require client certificates that chain to these (PEM)")
      ->check(CLI::ExistingFile);
  app.add_option("--max-handshakes", options->max_handshakes,
                 "TLS: handshakes in progress per thread; more connections are closed at once "
                 "(0: no limit)")
      ->capture_default_str();
  app.add_flag("-v,--verbose", options->verbose,
               "Log one line per connection on stderr (http: an access log line per request)");
  app.footer(
      "Examples:\n  sockit serve\n  sockit serve echo --echo-port 7007 --threads 4\n"
      "  sockit serve http --root ./public --http-port 8080 -v\n"
      "  sockit serve chat http     # then nc localhost 8023, or http://localhost:8080/chat\n"
      "  sockit serve --bind 0.0.0.0 --allow 10.0.0.0/8 --deny 10.0.9.0/24\n"
      "  sockit serve http chat --tls-self-signed   # https on 8443, TLS chat on 8992\n"
      "  sockit serve http --tls-cert cert.pem --tls-key key.pem --https-port 443");
  return [options] {
    Serve serve(*options);
    return serve.run();
  };
}

}  // namespace sockit::tools
