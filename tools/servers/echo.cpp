#include "servers/echo.hpp"

#include <string>

namespace sockit::tools::servers {

Task<> EchoService::serve(Connection& connection) {
  // Holds bytes only while the peer reads slower than it sends, and is freed before the
  // connection waits idle.
  std::string pending;
  for (;;) {
    const auto received = connection.read(scratch());
    if (!received) {
      // Going idle: give the buffer back, so that an idle connection holds none. One place
      // waits for input: each co_await site costs the frame an awaiter.
      std::string().swap(pending);
      if (connection.draining() || !co_await connection.wait_for_request()) co_return;
      continue;
    }
    if (*received == 0) co_return;
    const std::string_view data(scratch().data(), *received);
    auto sent = connection.try_send(data);
    if (!sent && !would_block(sent.error())) co_return;
    const std::size_t done = sent ? *sent : 0;
    if (done < data.size()) {
      // Back-pressure: keep this one chunk and read nothing more until the peer has taken
      // it, so a client that stops reading costs one chunk, never unbounded memory.
      pending.assign(data.substr(done));
      if (!co_await write_rest(connection, pending)) co_return;
      // The capacity stays while the peer keeps sending: a streaming connection reuses it.
      pending.clear();
    }
    if (connection.draining()) co_return;
  }
}

// A coroutine of its own, so that the write's awaiter (with its send-timeout timer) takes
// room only while a peer is slow, not in the frame of every idle connection.
Task<bool> EchoService::write_rest(Connection& connection, std::string& pending) {
  co_return static_cast<bool>(co_await connection.write_all(pending));
}

std::string_view EchoService::reply(std::string_view request, std::span<char> /*out*/) {
  return request;
}

}  // namespace sockit::tools::servers
