#include "servers/echo.hpp"

#include <string>

namespace sockit::servers {

Task<> EchoService::serve(Connection& connection) {
  Socket& socket = connection.stream().socket();
  // Holds bytes only while the peer reads slower than it sends, and is freed before the
  // connection waits idle.
  std::string pending;
  // One place waits for input (each co_await site costs the frame an awaiter). It is also
  // where a short read goes: that read emptied the socket, so the next bytes bring a new
  // edge and the read that could only say EAGAIN is skipped, unless the peer's FIN (whose
  // edge may be spent already) has been seen.
  bool wait_first = false;
  for (;;) {
    if (wait_first) {
      // Going idle: give the buffer back, so that an idle connection holds none.
      std::string().swap(pending);
      if (connection.draining() || co_await connection.wait_for_request()) co_return;
    }
    auto received = socket.try_recv_into(scratch());
    if (!received) {
      if (!would_block(received.error())) co_return;
      wait_first = true;
      continue;
    }
    if (*received == 0) co_return;
    wait_first = *received < scratch().size() && !connection.stream().hangup_seen();
    connection.count_in(*received);
    const std::string_view data(scratch().data(), *received);
    auto sent = socket.try_send(data);
    if (!sent && !would_block(sent.error())) co_return;
    const std::size_t done = sent ? *sent : 0;
    connection.count_out(done);
    if (done < data.size()) {
      // Back-pressure: keep this one chunk and read nothing more until the peer has taken
      // it, so a client that stops reading costs one chunk, never unbounded memory.
      pending.assign(data.substr(done));
      auto flushed = co_await connection.stream().write_all(pending);
      if (!flushed) co_return;
      connection.count_out(*flushed);
      // The capacity stays while the peer keeps sending: a streaming connection reuses it.
      pending.clear();
      // While the write waited, an edge for new input may have come and gone unseen.
      wait_first = false;
    }
    if (connection.draining()) co_return;
  }
}

std::string_view EchoService::reply(std::string_view request, std::span<char> /*out*/) {
  return request;
}

}  // namespace sockit::servers
