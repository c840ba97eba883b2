#include "sockit/http/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace sockit::http {
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

constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 35\r\n"
    "Retry-After: 1\r\nConnection: close\r\n\r\nbusy: too many connections, retry\r\n";
static_assert(kBusy.size() - kBusy.find("\r\n\r\n") - 4 == 35);

constexpr std::string_view kPlainToTls =
    "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 64\r\n"
    "Connection: close\r\n\r\nThis port speaks HTTPS: send the request with https:// instead\r\n";
static_assert(kPlainToTls.size() - kPlainToTls.find("\r\n\r\n") - 4 == 64);

}  // namespace

// What one connection keeps across awaits.
struct FileService::Exchange {
  explicit Exchange(const Limits& limits) : parser(limits) {}

  RequestParser parser;
  Reply reply;
  // Bytes received but not yet used: a partial head, or pipelined requests.
  std::string pending;
  // The request (or parse error) to decide on: the front of pending or of the scratch buffer.
  std::string_view data;
  ParseStatus status = ParseStatus::incomplete;
  // Whether pending holds a pipelined request that has not been parsed yet.
  bool pipelined = false;
  // Bytes of a request body still to come and be dropped.
  std::uint64_t discard = 0;
  // Whether the last request said the client closes after the reply.
  bool client_closes = false;
  // The reply switches the connection to another protocol.
  bool upgrade = false;
  // Of the reply in flight: bytes sent so far, head and body.
  std::uint64_t sent = 0;
  std::optional<SteadyClock::time_point> head_deadline;
  std::string log_line;
};

FileService::FileService(EventLoop& loop, ServerLimits& limits, const ServerOptions& options)
    : Service(loop, "http", limits), options_(options), files_(options.files) {}

FileService::Answer FileService::answer(const Request& /*request*/, Reply& /*reply*/) {
  return Answer::none;
}

Task<> FileService::serve_upgraded(Connection& /*connection*/, std::string /*early*/) {
  co_return;
}

std::string_view FileService::refusal() const noexcept {
  return kBusy;
}

std::string_view FileService::plaintext_refusal() const noexcept {
  return kPlainToTls;
}

Task<> FileService::serve(Connection& connection) {
  Exchange exchange(options_.parser);
  for (;;) {
    switch (receive(exchange, connection)) {
      case Next::close:
        co_return;
      case Next::wait_request:
        if (connection.draining() || !co_await connection.wait_for_request()) co_return;
        continue;
      case Next::wait_head: {
        if (!exchange.head_deadline) {
          exchange.head_deadline = deadline_after(options_.header_timeout);
        }
        const auto left = *exchange.head_deadline - SteadyClock::now();
        if (left <= SteadyClock::duration::zero() ||
            !co_await with_timeout(left, connection.stream().wait_readable())) {
          co_return;
        }
        continue;
      }
      case Next::decide:
        break;
    }
    decide(exchange, connection);

    Reply& reply = exchange.reply;
    bool sent = send_head(exchange, connection);
    // What the writes got out, also when they failed, counts in the access log.
    const std::uint64_t out_before = connection.bytes_out() - exchange.sent;
    if (sent && exchange.sent < reply.data.size()) {
      sent = static_cast<bool>(
          co_await connection.write_all(std::string_view(reply.data).substr(exchange.sent)));
    }
    if (sent && reply.file) {
      const auto done = co_await connection.send_file(reply.file, reply.offset, reply.length);
      sent = done && *done == reply.length;
    }
    exchange.sent = connection.bytes_out() - out_before;
    switch (finish(exchange, connection, sent)) {
      case After::keep_alive:
        continue;
      case After::close:
        co_return;
      case After::upgrade:
        co_await serve_upgraded(connection, std::move(exchange.pending));
        co_return;
    }
  }
}

FileService::Next FileService::receive(Exchange& exchange, Connection& connection) {
  std::string& pending = exchange.pending;
  for (;;) {
    std::string_view data;
    if (exchange.pipelined) {
      exchange.pipelined = false;
      data = pending;
    } else {
      const auto received = connection.read(scratch());
      if (!received) {
        return pending.empty() && exchange.discard == 0 ? Next::wait_request : Next::wait_head;
      }
      if (*received == 0) return Next::close;
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
    exchange.status = exchange.parser.parse(data);
    if (exchange.status == ParseStatus::incomplete) {
      if (pending.empty()) pending.assign(data);
      continue;
    }
    exchange.data = data;
    exchange.head_deadline.reset();
    return Next::decide;
  }
}

void FileService::decide(Exchange& exchange, const Connection& connection) {
  std::string& pending = exchange.pending;
  const std::string_view data = exchange.data;
  std::size_t used = data.size();
  if (exchange.status == ParseStatus::error) {
    const auto error = exchange.parser.error();
    files_.respond_error(status_for(error), describe(error), exchange.reply);
    if (limits().verbose) start_log_line(exchange, connection, nullptr);
  } else {
    const Request& request = exchange.parser.request();
    used = respond(exchange, request, data);
    if (limits().verbose) start_log_line(exchange, connection, &request);
  }
  // The request's views die here: scratch is shared, and pending changes.
  if (pending.empty()) {
    pending.assign(data.substr(used));
  } else {
    pending.erase(0, used);
  }
  exchange.data = {};
  exchange.pipelined = !pending.empty();
  exchange.parser.reset();
  exchange.sent = 0;
}

std::size_t FileService::respond(Exchange& exchange, const Request& request,
                                 std::string_view data) {
  Reply& reply = exchange.reply;
  std::size_t used = request.head_size;
  exchange.client_closes = !request.keep_alive;
  const bool chunked = request.body == BodyKind::chunked;
  if (chunked || request.content_length > options_.max_body) {
    // Not worth reading: the reply says so, and the connection closes after it.
    files_.respond_error(
        413,
        chunked ? "chunked request bodies are not accepted here" : "the request body is too large",
        reply);
    return used;
  }
  const Answer answered = answer(request, reply);
  exchange.upgrade = answered == Answer::upgrade;
  if (answered == Answer::none) files_.respond(request, reply);
  // A body the reply does not need is dropped, as much of it as is here now and the rest as it
  // comes, so that the next request on the connection starts where it should.
  const auto here = std::min<std::uint64_t>(request.content_length, data.size() - used);
  exchange.discard = request.content_length - here;
  return used + here;
}

bool FileService::send_head(Exchange& exchange, Connection& connection) {
  const Reply& reply = exchange.reply;
  // MSG_MORE holds a head back until the file's first bytes can share its packet.
  auto sent = connection.try_send(reply.data, reply.file ? MSG_MORE : 0);
  if (!sent) return would_block(sent.error());
  exchange.sent = *sent;
  return true;
}

FileService::After FileService::finish(Exchange& exchange, Connection& connection, bool sent) {
  Reply& reply = exchange.reply;
  if (!exchange.log_line.empty()) {
    // The body bytes that went out: all of them, or what an aborted or stalled reply got out.
    const std::uint64_t planned = reply.data.size() + (reply.file ? reply.length : 0);
    const std::uint64_t head = planned - reply.body_size;
    const std::uint64_t body = exchange.sent > head ? exchange.sent - head : 0;
    exchange.log_line.append(body == 0 ? std::string("-") : std::to_string(body));
    write_log_line(exchange.log_line);
    exchange.log_line.clear();
  }
  reply.file.reset();
  if (!sent) return After::close;
  if (exchange.upgrade) return After::upgrade;
  if (reply.close) {
    // The client asked to close and everything it sent is read: nothing can reset the close.
    if (exchange.client_closes && exchange.pending.empty() && exchange.discard == 0) {
      connection.close_without_linger();
    }
    return After::close;
  }
  return connection.draining() ? After::close : After::keep_alive;
}

void FileService::start_log_line(Exchange& exchange, const Connection& connection,
                                 const Request* request) {
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
}

const std::string& FileService::log_time() {
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

}  // namespace sockit::http
