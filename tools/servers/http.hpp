// `sockit serve http`: the library's HTTP file service (sockit/http/server.hpp) with the
// built-in page about the running services when there is no root, and, with chat running,
// the chat page at /chat and its WebSocket at /chat/ws.
#pragma once

#include "servers/chat.hpp"
#include "sockit/http/server.hpp"

namespace sockit::tools::servers {

class HttpService final : public http::FileService {
 public:
  using FileService::FileService;

  // Serves the chat page at /chat and hands WebSocket upgrades at /chat/ws to chat.
  void set_chat(ChatService* chat) noexcept { chat_ = chat; }

 protected:
  Answer answer(const http::Request& request, http::Reply& reply) override;
  Task<> serve_upgraded(Connection& connection, std::string early) override;

 private:
  ChatService* chat_ = nullptr;
};

}  // namespace sockit::tools::servers
