// The request-handling core of an HTTP/1.1 server over the server framework (sockit/server.hpp):
// GET and HEAD of static files (StaticFiles), keep-alive and pipelining, a deadline for each
// request head (slowloris), request bodies read and dropped, writes bounded by the send
// timeout, an access log line per request in common log format, and a 503 for connections
// over the connection cap.
//
// A connection goes through the states that darkhttpd's connections go through, each a step
// of FileService: receive (read and parse a head, or wait for one), decide (the reply), send
// (head and body), and finish (log, then keep alive, close or hand the connection over).
//
// A subclass adds replies of its own (answer()) and takes over connections that switch
// protocols (serve_upgraded(), e.g. WebSocket).
#pragma once

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "sockit/http/parser.hpp"
#include "sockit/http/static_files.hpp"
#include "sockit/server.hpp"

namespace sockit::http {

struct ServerOptions {
  StaticFilesOptions files;
  // From the first byte of a request head until its end (nginx: client_header_timeout).
  std::chrono::duration<double> header_timeout{10};
  // Request bodies up to this size are read and dropped; larger ones get 413.
  std::uint64_t max_body = 1 << 20;
  Limits parser;
};

class FileService : public Service {
 public:
  FileService(EventLoop& loop, ServerLimits& limits, const ServerOptions& options);

  // The page "/" shows when there is no root.
  void set_page(std::string html) { files_.set_page(std::move(html)); }

 protected:
  // What answer() did with a request.
  enum class Answer {
    none,     // nothing: the static files answer
    replied,  // the reply is set
    upgrade,  // the reply (a 101) switches protocols: serve_upgraded() takes the connection
  };
  // A reply of the subclass's own to request, before the static files are asked.
  virtual Answer answer(const Request& request, Reply& reply);
  // Serves a connection after a 101 reply; early: what came after the request. By default the
  // connection closes.
  virtual Task<> serve_upgraded(Connection& connection, std::string early);
  const StaticFiles& files() const noexcept { return files_; }

  Task<> serve(Connection& connection) final;
  std::string_view refusal() const noexcept final;
  // A plain HTTP request to the HTTPS port: a 400 that says so, as nginx's 497 does.
  std::string_view plaintext_refusal() const noexcept final;

 private:
  struct Exchange;
  // Where a connection goes after receive().
  enum class Next {
    decide,        // a request (or a parse error) is ready
    wait_request,  // nothing pending: the idle wait
    wait_head,     // a head or body has begun: the wait bounded by the header timeout
    close,         // the peer closed or the connection failed
  };
  // After a reply has gone out.
  enum class After { keep_alive, close, upgrade };

  Next receive(Exchange& exchange, Connection& connection);
  void decide(Exchange& exchange, const Connection& connection);
  // Sends what it can of the head without waiting; false when the connection failed.
  bool send_head(Exchange& exchange, Connection& connection);
  After finish(Exchange& exchange, Connection& connection, bool sent);
  // The reply to the request at the front of data; returns how much of data it used.
  std::size_t respond(Exchange& exchange, const Request& request, std::string_view data);
  // The access log line of a request (nullptr: one that could not be parsed), without the
  // bytes sent, which only finish() knows.
  void start_log_line(Exchange& exchange, const Connection& connection, const Request* request);
  const std::string& log_time();

  ServerOptions options_;
  StaticFiles files_;
  std::time_t log_second_ = 0;
  std::string log_time_;
};

}  // namespace sockit::http
