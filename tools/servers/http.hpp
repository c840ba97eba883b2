// HTTP (RFC 9112) over the static file server of sockit/http: GET and HEAD of the files below a
// root, or of a built-in page about the running services when there is no root. Keep-alive and
// pipelining; a deadline for each request head, so that slow clients (slowloris) cannot hold
// the server; -v writes an access log line per request in common log format.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "servers/chat.hpp"
#include "servers/service.hpp"
#include "sockit/http/parser.hpp"
#include "sockit/http/static_files.hpp"

namespace sockit::servers {

struct HttpOptions {
  http::StaticFilesOptions files;
  // From the first byte of a request head until its end (nginx: client_header_timeout).
  std::chrono::duration<double> header_timeout{10};
  // Request bodies up to this size are read and dropped; larger ones get 413.
  std::uint64_t max_body = 1 << 20;
  http::Limits parser;
};

class HttpService final : public Service {
 public:
  HttpService(EventLoop& loop, Limits& limits, const HttpOptions& options);

  // The page "/" shows when there is no root.
  void set_page(std::string html) { files_.set_page(std::move(html)); }
  // Serves the chat page at /chat and hands WebSocket upgrades at /chat/ws to chat.
  void set_chat(ChatService* chat) noexcept { chat_ = chat; }

 protected:
  Task<> serve(Connection& connection) override;

 private:
  struct Exchange;
  // Decides the reply to the request at the front of data; returns how much of data it used.
  std::size_t answer(Exchange& exchange, const Connection& connection, const http::Request& request,
                     std::string_view data);
  // The access log line of a request (nullptr: one that could not be parsed).
  void log_request(Exchange& exchange, const Connection& connection, const http::Request* request);
  const std::string& log_time();
  // The reply to a request for /chat or /chat/ws; false for any other target.
  bool answer_chat(Exchange& exchange, const http::Request& request);

  HttpOptions options_;
  http::StaticFiles files_;
  ChatService* chat_ = nullptr;
  std::time_t log_second_ = 0;
  std::string log_time_;
};

}  // namespace sockit::servers
