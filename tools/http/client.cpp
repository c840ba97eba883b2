#include "http/client.hpp"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <utility>
#include <variant>

#include "sockit/http/parser.hpp"
#include "sockit/version.hpp"

namespace sockit::tools::http {
namespace {

using sockit::http::BodyKind;
using sockit::http::ChunkedDecoder;
using sockit::http::iequals;
using sockit::http::ParseStatus;
using sockit::http::ResponseParser;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUserAgent = "sockit/" SOCKIT_VERSION;
constexpr std::size_t kBufferSize = 64 * 1024;

// A response that breaks the protocol or ends early: the operation failed, not the usage.
class ProtocolError final : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// RFC 9110 tchar: the characters of a header name.
bool is_token_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trimmed(std::string_view text) noexcept {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") + 1 - first);
}

std::string connection_key(const Url& url) {
  return url.scheme + "://" + url.authority();
}

bool asks_to_close(const Request& request) {
  return std::any_of(request.changes.begin(), request.changes.end(), [](const HeaderChange& c) {
    return iequals(c.name, "Connection") && c.value && sockit::http::has_token(*c.value, "close");
  });
}

ResponseHead copy_head(const sockit::http::Response& response, std::string_view data) {
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
  if (colon == std::string_view::npos || name.empty() ||
      !std::all_of(name.begin(), name.end(), is_token_char)) {
    throw std::invalid_argument("-H '" + std::string(line) + "': expected 'Name: value'");
  }
  const auto value = trimmed(line.substr(colon + 1));
  if (value.find_first_of("\r\n", 0) != std::string_view::npos ||
      value.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("-H '" + std::string(name) +
                                "': a value cannot hold CR, LF or NUL");
  }
  if (value.empty()) return {std::string(name), std::nullopt};
  return {std::string(name), std::string(value)};
}

std::string format_head(const Request& request) {
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

std::optional<Request> redirect(const Request& request, const ResponseHead& response) {
  if (!is_redirect(response.status)) return std::nullopt;
  const std::string location = response.header("Location");
  if (location.empty()) return std::nullopt;
  auto target = request.url.resolve(location);
  if (!target) throw_error(target.error(), "redirect to '" + location + "'");
  Request next = request;
  next.url = std::move(*target);
  const bool post = request.method == "POST";
  const bool to_get =
      response.status == 303 ? request.method != "HEAD" : post && response.status <= 302;
  if (to_get) {
    next.method = "GET";
    next.body.reset();
  }
  if (next.url.host != request.url.host) {
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
  std::string host(text.substr(0, first));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; });
  return {std::move(host), *port, std::string(address)};
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
  // Appends what arrives next to pending(); false at the end of the stream.
  bool receive_more() {
    const std::size_t n = recv_into(scratch_);
    pending_.append(scratch_.data(), n);
    return n != 0;
  }
  std::string& pending() noexcept { return pending_; }
  std::span<char> scratch() noexcept { return scratch_; }
  const std::string& key() const noexcept { return key_; }
  int number() const noexcept { return number_; }
  bool reused = false;

 private:
  std::variant<Socket, TlsStream> stream_;
  std::string key_;
  int number_;
  std::string pending_;
  std::vector<char> scratch_ = std::vector<char>(kBufferSize);
};

namespace {

void read_length(Connection& connection, std::uint64_t length, Events& events) {
  std::string& data = connection.pending();
  std::uint64_t left = length;
  const auto buffered = static_cast<std::size_t>(std::min<std::uint64_t>(left, data.size()));
  if (buffered > 0) {
    events.body(std::string_view(data).substr(0, buffered), length);
    data.erase(0, buffered);
    left -= buffered;
  }
  while (left > 0) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBufferSize));
    const auto chunk = connection.scratch().first(want);
    const std::size_t n = connection.recv_into(chunk);
    if (n == 0) {
      throw ProtocolError("connection closed after " + std::to_string(length - left) + " of " +
                          std::to_string(length) + " body bytes");
    }
    events.body(std::string_view(chunk.data(), n), length);
    left -= n;
  }
}

void read_chunked(Connection& connection, Events& events) {
  std::string& data = connection.pending();
  ChunkedDecoder decoder;
  std::size_t used = 0;
  while (!decoder.done()) {
    const auto step = decoder.decode(std::string_view(data).substr(used));
    if (step.status == ParseStatus::error) {
      throw ProtocolError("malformed chunked body: " +
                          std::string(sockit::http::describe(decoder.error())));
    }
    if (!step.data.empty()) events.body(step.data, std::nullopt);
    used += step.consumed;
    if (step.status == ParseStatus::incomplete && step.consumed == 0) {
      data.erase(0, used);
      used = 0;
      if (!connection.receive_more()) {
        throw ProtocolError("connection closed in the middle of a chunked body");
      }
    }
  }
  data.erase(0, used);
}

void read_until_close(Connection& connection, Events& events) {
  std::string& data = connection.pending();
  if (!data.empty()) events.body(data, std::nullopt);
  data.clear();
  while (const std::size_t n = connection.recv_into(connection.scratch())) {
    events.body(std::string_view(connection.scratch().data(), n), std::nullopt);
  }
}

void read_body(Connection& connection, BodyKind kind, std::uint64_t length, Events& events) {
  switch (kind) {
    case BodyKind::none:
      return;
    case BodyKind::length:
      return read_length(connection, length, events);
    case BodyKind::chunked:
      return read_chunked(connection, events);
    case BodyKind::until_close:
      return read_until_close(connection, events);
  }
}

}  // namespace

Client::Client(ClientOptions options, Events& events)
    : options_(std::move(options)), events_(events) {}

Client::~Client() = default;

ResponseHead Client::exchange(const Request& request, Timing& timing) {
  start_ = Clock::now();
  for (;;) {
    timing = {};
    auto connection = take_or_open(request.url, timing);
    bool keep = false;
    auto head = try_exchange(*connection, request, timing, keep);
    if (!head) {
      events_.note("Connection #" + std::to_string(connection->number()) +
                   " was closed by the server; retrying on a new one");
      continue;
    }
    const std::string name =
        "Connection #" + std::to_string(connection->number()) + " to host " + request.url.host;
    if (keep) {
      events_.note(name + " left intact");
      idle_[connection->key()] = std::move(connection);
    } else {
      events_.note("Closing " + name);
    }
    timing.total = seconds_since(start_);
    return std::move(*head);
  }
}

std::unique_ptr<Connection> Client::take_or_open(const Url& url, Timing& timing) {
  const auto idle = idle_.find(connection_key(url));
  if (idle == idle_.end()) return open(url, timing);
  auto connection = std::move(idle->second);
  idle_.erase(idle);
  connection->reused = true;
  events_.note("Re-using existing connection #" + std::to_string(connection->number()) +
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
  events_.note("TLS connection using " + stream.version() + " / " + stream.cipher());
  const std::string alpn = stream.selected_alpn_protocol();
  events_.note(alpn.empty() ? "ALPN: server did not agree to a protocol"
                            : "ALPN: server accepted " + alpn);
  if (!options_.tls.verify) events_.note("Certificate not verified (--insecure)");
  return std::make_unique<Connection>(std::move(stream), connection_key(url), number);
}

Socket Client::connect(const Url& url, Timing& timing) {
  const std::string number = " (#" + std::to_string(connections_) + ")";
  if (!options_.unix_socket.empty()) {
    const Address path(options_.unix_socket, 0, true);
    events_.note("  Trying " + path.to_string() + "...");
    Socket socket = create_connection(path, options_.timeout);
    timing.connect = seconds_since(start_);
    events_.note("Connected to " + url.host + " via " + path.to_string() + number);
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
    events_.note("  Trying " + endpoint.to_string() + "...");
    auto socket = try_create_connection(Address::from_endpoint(endpoint), options_.timeout);
    if (!socket) {
      failure = socket.error();
      continue;
    }
    timing.connect = seconds_since(start_);
    events_.note("Connected to " + url.host + " (" + endpoint.host() + ") port " +
                 std::to_string(url.port) + number);
    return std::move(socket).value();
  }
  throw_error(failure, "connect " + endpoints.back().to_string());
}

std::optional<ResponseHead> Client::try_exchange(Connection& connection, const Request& request,
                                                 Timing& timing, bool& keep) {
  const std::string head = format_head(request);
  events_.request_sent(head);
  try {
    connection.sendall(request.body ? head + *request.body : head);
  } catch (const ConnectionError&) {
    if (connection.reused) return std::nullopt;
    throw;
  }
  ResponseParser parser;
  parser.set_request_method(request.method);
  std::string& data = connection.pending();
  for (;;) {
    const ParseStatus status = parser.parse(data);
    if (status == ParseStatus::error) {
      throw ProtocolError("malformed response from " + request.url.authority() + ": " +
                          std::string(sockit::http::describe(parser.error())));
    }
    if (status == ParseStatus::incomplete) {
      bool more = false;
      try {
        more = connection.receive_more();
      } catch (const ConnectionError&) {
        if (connection.reused && data.empty()) return std::nullopt;
        throw;
      }
      if (!more) {
        // A kept-alive connection the server closed meanwhile: try again on a new one.
        if (connection.reused && data.empty()) return std::nullopt;
        throw ProtocolError(data.empty() ? "empty reply from " + request.url.authority()
                                         : "connection closed in the middle of the response "
                                           "head from " +
                                               request.url.authority());
      }
      if (timing.first_byte == 0) timing.first_byte = seconds_since(start_);
      continue;
    }
    const auto& response = parser.response();
    ResponseHead result = copy_head(response, data);
    const BodyKind kind = response.body;
    const std::uint64_t length = response.content_length;
    const bool alive = response.keep_alive;
    data.erase(0, response.head_size);
    events_.response_head(result);
    // An interim response (100 Continue, 103 Early Hints) precedes the real one.
    if (result.status < 200 && result.status != 101) {
      parser.reset();
      continue;
    }
    read_body(connection, kind, length, events_);
    keep =
        alive && kind != BodyKind::until_close && result.status != 101 && !asks_to_close(request);
    return result;
  }
}

}  // namespace sockit::tools::http
