#include "sockit/http/client.hpp"

#include <algorithm>
#include <array>
#include <span>
#include <stdexcept>
#include <utility>
#include <variant>

#include "sockit/http/parser.hpp"
#include "sockit/http/response_reader.hpp"
#include "sockit/select.hpp"
#include "sockit/version.hpp"

#include "http/text.hpp"

namespace sockit::http {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kUserAgent = "sockit/" SOCKIT_VERSION;
// Room for the largest head the parser accepts (64 KiB) and a read after it.
constexpr std::size_t kBufferSize = 96 * 1024;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string connection_key(const Url& url) {
  return url.scheme + "://" + url.authority();
}

bool asks_to_close(const ClientRequest& request) {
  return std::any_of(request.changes.begin(), request.changes.end(), [](const HeaderChange& c) {
    return iequals(c.name, "Connection") && c.value && has_token(*c.value, "close");
  });
}

ResponseHead copy_head(const Response& response, std::string_view data) {
  ResponseHead head;
  head.status = response.status;
  head.reason = std::string(response.reason);
  head.raw = std::string(data.substr(0, response.head_size));
  for (const auto& field : response.headers) {
    head.headers.push_back({std::string(field.name), std::string(field.value)});
  }
  return head;
}

struct Field {
  HeaderField header;
  bool is_default;
};

void apply(std::vector<Field>& fields, const HeaderChange& change) {
  auto is_replaced = [&](const Field& f) {
    return f.is_default && iequals(f.header.name, change.name);
  };
  const auto first = std::find_if(fields.begin(), fields.end(), is_replaced);
  if (!change.value) {
    fields.erase(std::remove_if(fields.begin(), fields.end(), is_replaced), fields.end());
  } else if (first != fields.end()) {
    *first = {{change.name, *change.value}, false};
  } else {
    fields.push_back({{change.name, *change.value}, false});
  }
}

}  // namespace

HeaderChange parse_header_change(std::string_view line) {
  const auto colon = line.find(':');
  const auto name = line.substr(0, colon);
  if (colon == std::string_view::npos || !is_token(name)) {
    throw std::invalid_argument("-H '" + std::string(line) + "': expected 'Name: value'");
  }
  const auto value = trim_ows(line.substr(colon + 1));
  if (value.find_first_of("\r\n", 0) != std::string_view::npos ||
      value.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("-H '" + std::string(name) +
                                "': a value cannot hold CR, LF or NUL");
  }
  if (value.empty()) return {std::string(name), std::nullopt};
  return {std::string(name), std::string(value)};
}

std::string format_head(const ClientRequest& request) {
  std::vector<Field> fields = {{{"Host", request.url.authority()}, true},
                               {{"User-Agent", std::string(kUserAgent)}, true},
                               {{"Accept", "*/*"}, true}};
  if (request.body) {
    fields.push_back({{"Content-Length", std::to_string(request.body->size())}, true});
    fields.push_back({{"Content-Type", "application/x-www-form-urlencoded"}, true});
  }
  for (const auto& change : request.changes)
    apply(fields, change);
  std::string head = request.method + " " + request.url.target + " HTTP/1.1\r\n";
  for (const auto& field : fields) {
    head.append(field.header.name).append(": ").append(field.header.value).append("\r\n");
  }
  return head + "\r\n";
}

std::string ResponseHead::header(std::string_view name) const {
  for (const auto& field : headers) {
    if (iequals(field.name, name)) return field.value;
  }
  return {};
}

bool is_redirect(int status) noexcept {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_idempotent(std::string_view method) noexcept {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

std::optional<ClientRequest> redirect(const ClientRequest& request, const ResponseHead& response) {
  if (!is_redirect(response.status)) return std::nullopt;
  const std::string location = response.header("Location");
  if (location.empty()) return std::nullopt;
  auto target = request.url.resolve(location);
  if (!target) throw_error(target.error(), "redirect to '" + location + "'");
  ClientRequest next = request;
  next.url = std::move(*target);
  const bool post = request.method == "POST";
  const bool to_get =
      response.status == 303 ? request.method != "HEAD" : post && response.status <= 302;
  if (to_get) {
    next.method = "GET";
    next.body.reset();
  }
  const bool same_origin = next.url.scheme == request.url.scheme &&
                           next.url.host == request.url.host && next.url.port == request.url.port;
  if (!same_origin) {
    std::erase_if(next.changes, [](const HeaderChange& change) {
      return iequals(change.name, "Authorization") || iequals(change.name, "Cookie");
    });
  }
  return next;
}

ResolveOverride parse_resolve_override(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return std::invalid_argument("--resolve '" + std::string(text) + "': " + std::string(why));
  };
  const auto first = text.find(':');
  const auto second = text.find(':', first == std::string_view::npos ? first : first + 1);
  if (second == std::string_view::npos) throw bad("expected HOST:PORT:ADDRESS");
  auto port = parse_port(text.substr(first + 1, second - first - 1));
  if (!port || *port == 0) throw bad("bad port");
  std::string_view address = text.substr(second + 1);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (!Endpoint::from_ip(address, *port)) throw bad("ADDRESS must be a numeric IP address");
  return {text::lowered(text.substr(0, first)), *port, std::string(address)};
}

// One connection, plain or TLS, with the bytes received past the last response.
class Connection {
 public:
  Connection(std::variant<Socket, TlsStream> stream, std::string key, int number)
      : stream_(std::move(stream)), key_(std::move(key)), number_(number) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (auto* tls = std::get_if<TlsStream>(&stream_)) tls->shutdown();
  }

  std::size_t recv_into(std::span<char> buffer) {
    return std::visit([&](auto& stream) { return stream.recv_into(buffer); }, stream_);
  }
  void sendall(std::string_view data) {
    std::visit([&](auto& stream) { stream.sendall(data); }, stream_);
  }
  // Whether the server sent something (bytes or its close) while no request was
  // outstanding. Only plain connections are checked: a TLS server may send session tickets.
  bool spoke_while_idle() const {
    const auto* socket = std::get_if<Socket>(&stream_);
    if (socket == nullptr) return false;
    std::array<pollfd, 1> fds{{{socket->fileno(), POLLIN, 0}}};
    return poll(fds, std::chrono::duration<double>(0)) > 0;
  }
  ReadBuffer& buffer() noexcept { return buffer_; }
  const std::string& key() const noexcept { return key_; }
  int number() const noexcept { return number_; }
  bool reused = false;

 private:
  std::variant<Socket, TlsStream> stream_;
  std::string key_;
  int number_;
  ReadBuffer buffer_{kBufferSize};
};

namespace {

// Hands a response's heads and body bytes to the events, and counts the body.
class Relay final : public ResponseObserver {
 public:
  explicit Relay(Events& events) : events_(events) {}

  void head(const Response& response, std::string_view raw) override {
    ResponseHead head = copy_head(response, raw);
    expected_.reset();
    if (response.body == BodyKind::length) expected_ = response.content_length;
    received_ = 0;
    events_.response_head(head);
    last_ = std::move(head);
  }
  void body(std::string_view data) override {
    received_ += data.size();
    events_.body(data, expected_);
  }

  ResponseHead& last() noexcept { return last_; }
  // Why a response cut short by the server's close is incomplete.
  std::string cut_short(const ResponseReader& reader, std::string_view authority) const {
    if (!reader.has_head()) {
      return "connection closed in the middle of the response head from " + std::string(authority);
    }
    if (reader.body_kind() == BodyKind::chunked) {
      return "connection closed in the middle of a chunked body";
    }
    return "connection closed after " + std::to_string(received_) + " of " +
           std::to_string(reader.content_length()) + " body bytes";
  }

 private:
  Events& events_;
  ResponseHead last_;
  std::optional<std::uint64_t> expected_;
  std::uint64_t received_ = 0;
};

// Collects the body of a fetch and passes everything else on.
class Collector final : public Events {
 public:
  explicit Collector(Events& next) : next_(next) {}
  void note(std::string_view text) override { next_.note(text); }
  void request_sent(std::string_view head) override { next_.request_sent(head); }
  void response_head(const ResponseHead& head) override {
    body_.clear();
    next_.response_head(head);
  }
  void body(std::string_view data, std::optional<std::uint64_t> /*expected*/) override {
    body_.append(data);
  }
  std::string take_body() noexcept { return std::move(body_); }

 private:
  Events& next_;
  std::string body_;
};

Events& no_events() {
  static Events none;
  return none;
}

}  // namespace

Client::Client(ClientOptions options) : Client(std::move(options), no_events()) {}

Client::Client(ClientOptions options, Events& events)
    : options_(std::move(options)), events_(&events) {}

Client::~Client() = default;

ResponseHead Client::exchange(const ClientRequest& request, Timing& timing) {
  start_ = Clock::now();
  for (;;) {
    timing = {};
    auto connection = take_or_open(request.url, timing);
    bool keep = false;
    auto head = try_exchange(*connection, request, timing, keep);
    if (!head) {
      events_->note("Connection #" + std::to_string(connection->number()) +
                    " was closed by the server; retrying on a new one");
      continue;
    }
    const std::string name =
        "Connection #" + std::to_string(connection->number()) + " to host " + request.url.host;
    if (keep) {
      events_->note(name + " left intact");
      idle_[connection->key()] = std::move(connection);
    } else {
      events_->note("Closing " + name);
    }
    timing.total = seconds_since(start_);
    return std::move(*head);
  }
}

FullResponse Client::fetch(ClientRequest request, int max_redirects) {
  Events& outer = *events_;
  Collector collector(outer);
  events_ = &collector;
  struct Restore {
    Client& client;
    Events& events;
    ~Restore() { client.events_ = &events; }
  } restore{*this, outer};
  for (int redirects = 0;; ++redirects) {
    Timing timing;
    ResponseHead head = exchange(request, timing);
    auto next = redirects < max_redirects ? redirect(request, head) : std::nullopt;
    if (!next) {
      FullResponse reply;
      static_cast<ResponseHead&>(reply) = std::move(head);
      reply.body = collector.take_body();
      return reply;
    }
    request = std::move(*next);
  }
}

FullResponse Client::get(std::string_view url) {
  auto parsed = Url::parse(url);
  if (!parsed) throw_error(parsed.error(), "URL '" + std::string(url) + "'");
  return fetch(ClientRequest{"GET", std::move(*parsed), {}, std::nullopt});
}

FullResponse get(std::string_view url, ClientOptions options) {
  Client client(std::move(options));
  return client.get(url);
}

std::unique_ptr<Connection> Client::take_or_open(const Url& url, Timing& timing) {
  const auto idle = idle_.find(connection_key(url));
  if (idle == idle_.end()) return open(url, timing);
  auto connection = std::move(idle->second);
  idle_.erase(idle);
  if (connection->spoke_while_idle()) {
    events_->note("Connection #" + std::to_string(connection->number()) +
                  " received data or a close while idle; not reused");
    return open(url, timing);
  }
  connection->reused = true;
  events_->note("Re-using existing connection #" + std::to_string(connection->number()) +
                " with host " + url.host);
  return connection;
}

std::unique_ptr<Connection> Client::open(const Url& url, Timing& timing) {
  Socket socket = connect(url, timing);
  const int number = connections_++;
  if (!url.is_https()) {
    return std::make_unique<Connection>(std::move(socket), connection_key(url), number);
  }
  if (!tls_) tls_.emplace(options_.tls);
  TlsStream stream = tls_->wrap_socket(std::move(socket), url.host);
  timing.tls = seconds_since(start_);
  events_->note("TLS connection using " + stream.version() + " / " + stream.cipher());
  const std::string alpn = stream.selected_alpn_protocol();
  events_->note(alpn.empty() ? "ALPN: server did not agree to a protocol"
                             : "ALPN: server accepted " + alpn);
  if (!options_.tls.verify) events_->note("Certificate not verified (--insecure)");
  return std::make_unique<Connection>(std::move(stream), connection_key(url), number);
}

Socket Client::connect(const Url& url, Timing& timing) {
  const std::string number = " (#" + std::to_string(connections_) + ")";
  if (!options_.unix_socket.empty()) {
    const Address path(options_.unix_socket, 0, true);
    events_->note("  Trying " + path.to_string() + "...");
    Socket socket = create_connection(path, options_.timeout);
    timing.connect = seconds_since(start_);
    events_->note("Connected to " + url.host + " via " + path.to_string() + number);
    return socket;
  }
  std::string host = url.host;
  for (const auto& override : options_.resolve) {
    if (override.host == url.host && override.port == url.port) host = override.address;
  }
  const auto endpoints = resolve(Address(host, url.port));
  timing.resolve = seconds_since(start_);
  std::error_code failure;
  for (const auto& endpoint : endpoints) {
    events_->note("  Trying " + endpoint.to_string() + "...");
    auto socket = try_create_connection(Address::from_endpoint(endpoint), options_.timeout);
    if (!socket) {
      failure = socket.error();
      continue;
    }
    timing.connect = seconds_since(start_);
    events_->note("Connected to " + url.host + " (" + endpoint.host() + ") port " +
                  std::to_string(url.port) + number);
    return std::move(socket).value();
  }
  throw_error(failure, "connect " + endpoints.back().to_string());
}

// nullopt: a reused connection that the server had closed, for an idempotent request that
// may be sent again on a new one.
std::optional<ResponseHead> Client::try_exchange(Connection& connection,
                                                 const ClientRequest& request, Timing& timing,
                                                 bool& keep) {
  const bool may_retry = connection.reused && is_idempotent(request.method);
  const std::string head = format_head(request);
  events_->request_sent(head);
  try {
    connection.sendall(request.body ? head + *request.body : head);
  } catch (const ConnectionError&) {
    if (may_retry) return std::nullopt;
    throw;
  }
  Relay relay(*events_);
  ResponseReader reader(request.method, &relay);
  ReadBuffer& buffer = connection.buffer();
  bool received = false;
  for (;;) {
    const auto step = reader.advance(buffer);
    if (step == ResponseReader::Step::done) break;
    if (step == ResponseReader::Step::error) {
      throw ProtocolError("malformed response from " + request.url.authority() + ": " +
                          std::string(describe(reader.error())));
    }
    std::size_t n = 0;
    try {
      n = connection.recv_into(buffer.space());
    } catch (const ConnectionError&) {
      if (may_retry && !received) return std::nullopt;
      throw;
    }
    if (n == 0) {
      if (reader.finish_at_close()) break;
      if (may_retry && !received) return std::nullopt;
      if (!received) throw ProtocolError("empty reply from " + request.url.authority());
      throw ProtocolError(relay.cut_short(reader, request.url.authority()));
    }
    if (!received) timing.first_byte = seconds_since(start_);
    received = true;
    buffer.commit(n);
  }
  // Bytes past the response with no request outstanding: the connection is out of step.
  keep = reader.keep_alive() && reader.status() != 101 && !asks_to_close(request) &&
         buffer.pending().empty();
  if (!buffer.pending().empty()) {
    events_->note("The server sent more than the response; the connection is not reused");
  }
  return std::move(relay.last());
}

}  // namespace sockit::http
