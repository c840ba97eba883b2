#include "servers/chat.hpp"

#include "chat/member.hpp"

namespace sockit::tools::servers {

ChatService::ChatService(EventLoop& loop, ServerLimits& limits, chat::Directory& directory,
                         std::size_t index)
    : Service(loop, "chat", limits), directory_(directory), hub_(loop), index_(index) {
  directory_.attach(index_, hub_);
}

// Not coroutines themselves: each idle member then costs one frame fewer.
Task<> ChatService::serve(Connection& connection) {
  return run_member(connection, {}, false);
}

Task<> ChatService::serve_websocket(Connection& connection, std::string early) {
  return run_member(connection, std::move(early), true);
}

Task<> ChatService::run_member(Connection& connection, std::string early, bool websocket) {
  tools::chat::Member member(hub_, directory_, connection, websocket);
  member.enter(index_);
  if (!early.empty()) member.receive(early);
  for (;;) {
    if (member.closing()) break;
    if (connection.draining()) {
      member.shut_down();
      break;
    }
    if (const auto pause = member.throttle(); pause.count() > 0) {
      // The wait for input, bounded by the pause: a drain (or an eviction's shutdown) ends
      // it as it ends an idle wait. Input it woke for is read once the bucket allows.
      static_cast<void>(co_await with_timeout(pause, connection.wait_for_request()));
      continue;
    }
    if (member.resume()) continue;
    const auto received = connection.read(scratch());
    if (!received) {
      // Silence is normal in a chat: the idle timeout ends a wait, not the membership.
      static_cast<void>(co_await connection.wait_for_request());
      continue;
    }
    if (*received == 0) break;
    member.receive({scratch().data(), *received});
  }
  co_await member.leave();
}

}  // namespace sockit::tools::servers
