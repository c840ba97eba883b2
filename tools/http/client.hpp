// The engine of `sockit http`: requests over kept-alive plain or TLS connections, responses
// read with the library's parser and streamed to the caller as they arrive, redirects, and the
// time each step took.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/http/url.hpp"
#include "sockit/socket.hpp"
#include "sockit/tls.hpp"

namespace sockit::tools::http {

using sockit::http::Url;

struct HeaderField {
  std::string name;
  std::string value;
};

// A -H line: "Name: value" replaces the default header of that name (or adds one), and
// "Name:" removes it. std::invalid_argument for anything else.
struct HeaderChange {
  std::string name;
  std::optional<std::string> value;  // nullopt: remove
};
HeaderChange parse_header_change(std::string_view line);

struct Request {
  std::string method = "GET";
  Url url;
  std::vector<HeaderChange> changes;  // the user's -H lines, applied in order
  std::optional<std::string> body;    // sent with a Content-Length
};

// The head a request sends: the request line, Host, User-Agent, Accept (and Content-Length
// and Content-Type for a body) changed by the request's -H lines, and the final CRLF.
std::string format_head(const Request& request);

// A response head, copied out of the receive buffer.
struct ResponseHead {
  int status = 0;
  std::string reason;
  std::string raw;  // as received, the final CRLF included
  std::vector<HeaderField> headers;
  // The first header of that name (case-insensitively), or an empty string.
  std::string header(std::string_view name) const;
};

// 301, 302, 303, 307 and 308.
bool is_redirect(int status) noexcept;
// The request that a redirect response asks for, or nullopt when it is no redirect or has no
// Location. 301, 302 and 303 turn a POST into a GET without a body (303 any method but
// HEAD); 307 and 308 repeat the method and body. Authorization and Cookie changes are
// dropped when the redirect leaves the host. An invalid Location is an Error.
std::optional<Request> redirect(const Request& request, const ResponseHead& response);

// Seconds from the start of an exchange at which each step ended. A reused connection
// resolves, connects and handshakes nothing: those stay 0.
struct Timing {
  double resolve = 0;
  double connect = 0;
  double tls = 0;
  double first_byte = 0;
  double total = 0;
};

// What the client reports as an exchange goes on.
class Events {
 public:
  virtual ~Events() = default;
  virtual void note(std::string_view text) = 0;              // curl's "* " lines
  virtual void request_sent(std::string_view head) = 0;      // the head as sent
  virtual void response_head(const ResponseHead& head) = 0;  // before its body
  // Body bytes as they arrive; expected is the Content-Length when there is one.
  virtual void body(std::string_view data, std::optional<std::uint64_t> expected) = 0;
};

// --resolve HOST:PORT:ADDRESS: connect there for HOST:PORT instead of resolving HOST.
struct ResolveOverride {
  std::string host;
  std::uint16_t port = 0;
  std::string address;
};
// std::invalid_argument when text is not HOST:PORT:ADDRESS with a numeric ADDRESS.
ResolveOverride parse_resolve_override(std::string_view text);

struct ClientOptions {
  Timeout timeout;  // each connect, handshake and wait for the server
  TlsClientOptions tls;
  std::vector<ResolveOverride> resolve;
  std::string unix_socket;  // every request goes there when set
};

class Connection;  // one plain or TLS connection and what it received; client.cpp

class Client {
 public:
  Client(ClientOptions options, Events& events);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends request and reads its response, handing the body to the events as it arrives.
  // An idle connection to the same scheme, host and port is reused (a fresh one replaces it
  // when the server closed it meanwhile), and this one is kept when the server allows.
  ResponseHead exchange(const Request& request, Timing& timing);

 private:
  std::unique_ptr<Connection> take_or_open(const Url& url, Timing& timing);
  std::unique_ptr<Connection> open(const Url& url, Timing& timing);
  Socket connect(const Url& url, Timing& timing);
  std::optional<ResponseHead> try_exchange(Connection& connection, const Request& request,
                                           Timing& timing, bool& keep);

  ClientOptions options_;
  Events& events_;
  std::chrono::steady_clock::time_point start_;              // of the current exchange
  std::optional<TlsContext> tls_;                            // made for the first https URL
  std::map<std::string, std::unique_ptr<Connection>> idle_;  // by scheme://host:port
  int connections_ = 0;                                      // opened so far, for notes
};

}  // namespace sockit::tools::http
