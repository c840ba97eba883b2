// Chat: the tutorials' broadcast server grown up. Line-based over TCP (nc, telnet, sockit tcp)
// and, through the http service, WebSocket at /chat/ws for the page at /chat: nicknames, rooms,
// commands, history, a rate limit per member, and bounded queues so that no slow member holds
// up the others (see chat/member.hpp and chat/directory.hpp).
#pragma once

#include <string>
#include <string_view>

#include "chat/directory.hpp"
#include "sockit/http/websocket.hpp"
#include "sockit/server.hpp"

namespace sockit::tools::servers {

// The chat page, from tools/servers/chat.html.
extern const std::string_view kChatPage;

class ChatService final : public Service {
 public:
  // index: this loop's place among the directory's hubs.
  ChatService(EventLoop& loop, ServerLimits& limits, chat::Directory& directory, std::size_t index);

  // A connection the http service has upgraded to WebSocket; early: what came after the
  // handshake.
  Task<> serve_websocket(Connection& connection, std::string early);
  // Whether the page that opens a WebSocket handshake may join (RFC 6455 section 10.2).
  bool origin_allowed(const http::Request& request) const noexcept {
    return http::websocket::origin_allowed(request, directory_.options().allowed_origins);
  }

 protected:
  Task<> serve(Connection& connection) override;
  std::string_view plaintext_refusal() const noexcept override {
    return "This port speaks TLS: connect with sockit tcp --ssl or openssl s_client\r\n";
  }

 private:
  Task<> run_member(Connection& connection, std::string early, bool websocket);

  tools::chat::Directory& directory_;
  tools::chat::Hub hub_;
  std::size_t index_;
};

}  // namespace sockit::tools::servers
