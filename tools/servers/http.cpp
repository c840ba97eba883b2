#include "servers/http.hpp"

#include <algorithm>
#include <cstdio>

#include "sockit/http/websocket.hpp"

namespace sockit::servers {
namespace {

// A request line in the access log, with quotes and backslashes escaped as nginx does.
void append_escaped(std::string& line, std::string_view text) {
  for (const char c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned char>(c));
      line.append(hex);
    } else {
      line.push_back(c);
    }
  }
}

}  // namespace

// What one connection keeps across awaits.
struct HttpService::Exchange {
  explicit Exchange(const http::Limits& limits) : parser(limits) {}

  http::RequestParser parser;
  http::Reply reply;
  // Bytes received but not yet used: a partial head, or pipelined requests.
  std::string pending;
  // Bytes of a request body still to come and be dropped.
  std::uint64_t discard = 0;
  // Whether the last request said the client closes after the reply.
  bool client_closes = false;
  // The reply switches the connection to WebSocket (chat).
  bool upgrade = false;
  std::string log_line;
};

HttpService::HttpService(EventLoop& loop, Limits& limits, const HttpOptions& options)
    : Service(loop, "http", limits), options_(options), files_(options.files) {}

Task<> HttpService::serve(Connection& connection) {
  Stream& stream = connection.stream();
  Socket& socket = stream.socket();
  Exchange exchange(options_.parser);
  std::string& pending = exchange.pending;
  // Whether pending holds a pipelined request that has not been parsed yet.
  bool pipelined = false;
  std::optional<SteadyClock::time_point> head_deadline;
  for (;;) {
    std::string_view data;
    if (pipelined) {
      pipelined = false;
      data = pending;
    } else {
      const auto received = connection.read(scratch());
      if (!received) {
        if (pending.empty() && exchange.discard == 0) {
          if (connection.draining() || co_await connection.wait_for_request()) co_return;
        } else {
          // A head (or a body) has begun: it has until the deadline to arrive in full.
          if (!head_deadline) {
            head_deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                     options_.header_timeout);
          }
          const auto left = *head_deadline - SteadyClock::now();
          if (left <= SteadyClock::duration::zero() ||
              co_await with_timeout(left, stream.wait_readable())) {
            co_return;
          }
        }
        continue;
      }
      if (*received == 0) co_return;
      data = std::string_view(scratch().data(), *received);
      if (exchange.discard > 0) {
        const auto dropped = std::min<std::uint64_t>(exchange.discard, data.size());
        exchange.discard -= dropped;
        data.remove_prefix(dropped);
        if (data.empty()) continue;
      }
      if (!pending.empty()) {
        pending.append(data);
        data = pending;
      }
    }

    const auto status = exchange.parser.parse(data);
    if (status == http::ParseStatus::incomplete) {
      if (pending.empty()) pending.assign(data);
      continue;
    }
    head_deadline.reset();
    http::Reply& reply = exchange.reply;
    std::size_t used = data.size();
    if (status == http::ParseStatus::error) {
      const auto error = exchange.parser.error();
      files_.respond_error(http::status_for(error), http::describe(error), reply);
      if (limits().verbose) log_request(exchange, connection, nullptr);
    } else {
      used = answer(exchange, connection, exchange.parser.request(), data);
    }
    // The request's views die here: scratch is shared, and pending changes.
    if (pending.empty()) {
      pending.assign(data.substr(used));
    } else {
      pending.erase(0, used);
    }
    pipelined = !pending.empty();
    exchange.parser.reset();

    const bool by_sendfile = static_cast<bool>(reply.file);
    // MSG_MORE holds a head back until the file's first bytes can share its packet.
    auto sent = socket.try_send(reply.data, by_sendfile ? MSG_MORE : 0);
    if (!sent && !would_block(sent.error())) co_return;
    const std::size_t done = sent ? *sent : 0;
    connection.count_out(done);
    if (done < reply.data.size()) {
      auto rest = co_await stream.write_all(std::string_view(reply.data).substr(done));
      if (!rest) co_return;
      connection.count_out(*rest);
    }
    if (by_sendfile) {
      auto body = co_await stream.sendfile(reply.file, reply.offset, reply.length);
      if (!body || *body != reply.length) co_return;
      connection.count_out(*body);
      reply.file.reset();
    }
    if (!exchange.log_line.empty()) {
      write_log_line(exchange.log_line);
      exchange.log_line.clear();
    }
    if (exchange.upgrade) {
      co_await chat_->serve_websocket(connection, std::move(pending));
      co_return;
    }
    if (reply.close) {
      // The client asked to close and everything it sent is read: nothing can reset the close.
      if (exchange.client_closes && pending.empty() && exchange.discard == 0) {
        connection.close_without_linger();
      }
      co_return;
    }
    if (connection.draining()) co_return;
  }
}

std::size_t HttpService::answer(Exchange& exchange, const Connection& connection,
                                const http::Request& request, std::string_view data) {
  http::Reply& reply = exchange.reply;
  std::size_t used = request.head_size;
  exchange.client_closes = !request.keep_alive;
  const bool chunked = request.body == http::BodyKind::chunked;
  if (chunked || request.content_length > options_.max_body) {
    // Not worth reading: the reply says so, and the connection closes after it.
    files_.respond_error(
        413,
        chunked ? "chunked request bodies are not accepted here" : "the request body is too large",
        reply);
  } else {
    if (!answer_chat(exchange, request)) files_.respond(request, reply);
    // A body the reply does not need is dropped, as much of it as is here now and the rest
    // as it comes, so that the next request on the connection starts where it should.
    const auto here = std::min<std::uint64_t>(request.content_length, data.size() - used);
    used += here;
    exchange.discard = request.content_length - here;
  }
  if (limits().verbose) log_request(exchange, connection, &request);
  return used;
}

bool HttpService::answer_chat(Exchange& exchange, const http::Request& request) {
  if (chat_ == nullptr) return false;
  const auto path = request.target.substr(0, request.target.find('?'));
  http::Reply& reply = exchange.reply;
  if (path == "/chat") {
    // Other methods get the static files' 405 or 501.
    if (request.method != "GET" && request.method != "HEAD") return false;
    // The page needs nothing but itself and its own WebSocket.
    files_.respond_page(request, kChatPage, reply,
                        {{"Content-Security-Policy",
                          "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; "
                          "script-src 'unsafe-inline'; img-src 'self'"}});
    return true;
  }
  if (path != "/chat/ws") return false;
  if (!chat_->origin_allowed(request)) {
    files_.respond_error(403, "a page of another origin may not join (see --chat-allow-origin)",
                         reply);
    return true;
  }
  const auto refusal = http::websocket::check_upgrade(request);
  if (refusal.empty()) {
    reply.clear();
    reply.status = 101;
    reply.data = http::websocket::upgrade_response(request.header("Sec-WebSocket-Key"));
    exchange.upgrade = true;
    return true;
  }
  if (http::websocket::version_mismatch(request)) {
    // RFC 6455 4.4: the versions this server speaks.
    files_.respond_error(426, refusal, reply, {{"Sec-WebSocket-Version", "13"}});
  } else {
    files_.respond_error(400, refusal, reply);
  }
  return true;
}

void HttpService::log_request(Exchange& exchange, const Connection& connection,
                              const http::Request* request) {
  std::string& line = exchange.log_line;
  line = connection.peer().host();
  line.append(" - - [").append(log_time()).append("] \"");
  if (request == nullptr) {
    line.push_back('-');
  } else {
    append_escaped(line, request->method);
    line.push_back(' ');
    append_escaped(line, request->target);
    line.append(request->version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
  }
  line.append("\" ").append(std::to_string(exchange.reply.status)).push_back(' ');
  const auto bytes = exchange.reply.body_size;
  line.append(bytes == 0 ? std::string("-") : std::to_string(bytes));
}

const std::string& HttpService::log_time() {
  const std::time_t now = std::time(nullptr);
  if (now != log_second_) {
    log_second_ = now;
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    const auto size = std::strftime(text, sizeof text, "%d/%b/%Y:%H:%M:%S +0000", &utc);
    log_time_.assign(text, size);
  }
  return log_time_;
}

}  // namespace sockit::servers
