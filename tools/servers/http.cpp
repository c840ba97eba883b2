#include "servers/http.hpp"

#include "sockit/http/websocket.hpp"

namespace sockit::tools::servers {

HttpService::Answer HttpService::answer(const http::Request& request, http::Reply& reply) {
  if (chat_ == nullptr) return Answer::none;
  const auto path = request.target.substr(0, request.target.find('?'));
  if (path == "/chat") {
    // Other methods get the static files' 405 or 501.
    if (request.method != "GET" && request.method != "HEAD") return Answer::none;
    // The page needs nothing but itself and its own WebSocket.
    files().respond_page(request, kChatPage, reply,
                         {{"Content-Security-Policy",
                           "default-src 'none'; connect-src 'self'; style-src 'unsafe-inline'; "
                           "script-src 'unsafe-inline'; img-src 'self'"}});
    return Answer::replied;
  }
  if (path != "/chat/ws") return Answer::none;
  if (!chat_->origin_allowed(request)) {
    files().respond_error(403, "a page of another origin may not join (see --chat-allow-origin)",
                          reply);
    return Answer::replied;
  }
  const auto refusal = http::websocket::check_upgrade(request);
  if (refusal.empty()) {
    reply.clear();
    reply.status = 101;
    reply.data = http::websocket::upgrade_response(request.header("Sec-WebSocket-Key"));
    return Answer::upgrade;
  }
  if (http::websocket::version_mismatch(request)) {
    // RFC 6455 4.4: the versions this server speaks.
    files().respond_error(426, refusal, reply, {{"Sec-WebSocket-Version", "13"}});
  } else {
    files().respond_error(400, refusal, reply);
  }
  return Answer::replied;
}

Task<> HttpService::serve_upgraded(Connection& connection, std::string early) {
  return chat_->serve_websocket(connection, std::move(early));
}

}  // namespace sockit::tools::servers
