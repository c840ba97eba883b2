// An HTTP/1.1 client: requests over kept-alive plain or TLS connections, responses framed by
// ResponseReader and streamed to an Events object as they arrive, redirects, timeouts, and
// the time each step took. `sockit http` is a front end to it.
//
//   auto reply = sockit::http::get("http://127.0.0.1:8000/index.html");
//   if (reply.status == 200) std::cout << reply.body;
//
// Connections: an idle connection to the same scheme, host and port is reused. One is kept
// only when the server allows it and nothing arrived past the response (a server that sends
// more than it framed could otherwise answer the next request in advance). A reused
// connection that the server closed before answering is replaced by a new one and the
// request sent again only when its method is idempotent (RFC 9110 9.2.2); a POST is never
// sent twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sockit/http/url.hpp"
#include "sockit/socket.hpp"
#include "sockit/tls.hpp"

namespace sockit::http {

// A response that breaks the protocol or ends early.
class ProtocolError final : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct HeaderField {
  std::string name;
  std::string value;
};

// A header change, as curl's -H: "Name: value" replaces the default header of that name (or
// adds one), and "Name:" removes it. std::invalid_argument for anything else.
struct HeaderChange {
  std::string name;
  std::optional<std::string> value;  // nullopt: remove
};
HeaderChange parse_header_change(std::string_view line);

struct ClientRequest {
  std::string method = "GET";
  Url url;
  std::vector<HeaderChange> changes;  // applied in order to the default headers
  std::optional<std::string> body;    // sent with a Content-Length
};

// The head a request sends: the request line, Host, User-Agent, Accept (and Content-Length
// and Content-Type for a body) changed by the request's changes, and the final CRLF.
std::string format_head(const ClientRequest& request);

// A response head, copied out of the receive buffer.
struct ResponseHead {
  int status = 0;
  std::string reason;
  std::string raw;  // as received, the final CRLF included
  std::vector<HeaderField> headers;
  // The first header of that name (case-insensitively), or an empty string.
  std::string header(std::string_view name) const;
};

// A whole response, for callers that want the body in memory.
struct FullResponse : ResponseHead {
  std::string body;
};

// 301, 302, 303, 307 and 308.
bool is_redirect(int status) noexcept;
// GET, HEAD, OPTIONS, TRACE, PUT and DELETE (RFC 9110 9.2.2): safe to send again.
bool is_idempotent(std::string_view method) noexcept;
// The request that a redirect response asks for, or nullopt when it is no redirect or has no
// Location. 301, 302 and 303 turn a POST into a GET without a body (303 any method but
// HEAD); 307 and 308 repeat the method and body. Authorization and Cookie changes are
// dropped when the redirect changes scheme, host or port (as curl does since
// CVE-2022-27776). An invalid Location is an Error.
std::optional<ClientRequest> redirect(const ClientRequest& request, const ResponseHead& response);

// Seconds from the start of an exchange at which each step ended. A reused connection
// resolves, connects and handshakes nothing: those stay 0.
struct Timing {
  double resolve = 0;
  double connect = 0;
  double tls = 0;
  double first_byte = 0;
  double total = 0;
};

// What the client reports as an exchange goes on. The defaults ignore it all.
class Events {
 public:
  virtual ~Events() = default;
  virtual void note(std::string_view /*text*/) {}              // curl's "* " lines
  virtual void request_sent(std::string_view /*head*/) {}      // the head as sent
  virtual void response_head(const ResponseHead& /*head*/) {}  // before its body
  // Body bytes as they arrive; expected is the Content-Length when there is one.
  virtual void body(std::string_view /*data*/, std::optional<std::uint64_t> /*expected*/) {}
};

// As curl's --resolve HOST:PORT:ADDRESS: connect there for HOST:PORT instead of resolving.
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
  explicit Client(ClientOptions options = {});
  Client(ClientOptions options, Events& events);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends request and reads its response, handing the body to the events as it arrives.
  // Errors: sockit::Error (connect, TLS, timeouts), ProtocolError (the response).
  ResponseHead exchange(const ClientRequest& request, Timing& timing);
  // Sends request, following up to max_redirects redirects, and returns the last response
  // whole; the events see notes and heads but not the body.
  FullResponse fetch(ClientRequest request, int max_redirects = 20);
  FullResponse get(std::string_view url);

 private:
  std::unique_ptr<Connection> take_or_open(const Url& url, Timing& timing);
  std::unique_ptr<Connection> open(const Url& url, Timing& timing);
  Socket connect(const Url& url, Timing& timing);
  std::optional<ResponseHead> try_exchange(Connection& connection, const ClientRequest& request,
                                           Timing& timing, bool& keep);

  ClientOptions options_;
  Events* events_;
  std::chrono::steady_clock::time_point start_;              // of the current exchange
  std::optional<TlsContext> tls_;                            // made for the first https URL
  std::map<std::string, std::unique_ptr<Connection>> idle_;  // by scheme://host:port
  int connections_ = 0;                                      // opened so far, for notes
};

// One GET with a client of its own, following redirects.
FullResponse get(std::string_view url, ClientOptions options = {});

}  // namespace sockit::http
