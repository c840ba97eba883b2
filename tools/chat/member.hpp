// One member of the chat, on a line-based (TCP) or WebSocket connection: the commands it
// sends, and the bounded queue of what it has yet to receive.
//
// Delivery never waits for a member. Lines are queued (as shared buffers) and written at once
// with one sendmsg for as many as fit; only when the peer's socket buffer is full does a writer
// task wait for it to drain. A member that falls more than --chat-queue bytes behind is
// disconnected (its queue dropped, its socket shut down): it costs the others nothing before,
// and at most that much memory.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chat/directory.hpp"
#include "sockit/async.hpp"
#include "sockit/http/websocket.hpp"
#include "sockit/server.hpp"
#include "sockit/task.hpp"

namespace sockit::tools::chat {

class Member {
 public:
  // websocket: lines travel as text messages, input is WebSocket frames.
  Member(Hub& hub, Directory& directory, Connection& connection, bool websocket);
  ~Member();
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  // The welcome, the lobby's history, and the others told.
  void enter(std::size_t hub_index);
  // Queues lines and writes what the socket takes now.
  void send(std::span<const Line> lines);
  void send(Batch& batch);
  void notify(std::string_view text) { send_line(make_line(text)); }

  // Handles what arrived; keeps what it could not handle yet (a partial line, or input past
  // the rate limit) for resume().
  void receive(std::string_view data);
  // Handles kept input that the rate limit held back; false if there was nothing to do.
  bool resume();
  // How long to wait before the rate limit lets the next line through (zero: now).
  std::chrono::duration<double> throttle() noexcept;

  // The member quit, was disconnected, or its connection broke.
  bool closing() const noexcept { return closing_; }
  // Ends membership: tells the room, and waits for a writer task to stop.
  Task<> leave();
  // The server stops: the member is told, and the room is given the reason.
  void shut_down();

 private:
  friend class Hub;
  struct Outgoing {
    Line line;
    bool raw = false;  // a ready WebSocket frame (pong, close), sent as it is
  };
  class WriterDone;

  // Consumes whole lines (or frames) from the front of data until the rate limit or the end
  // of the member stops it; returns the bytes used.
  std::size_t consume(std::string_view data);
  std::size_t consume_lines(std::string_view data);
  std::size_t consume_frames(std::string_view data);
  // One line as it came, without its '\n': a final '\r' dropped, one over --chat-max-line
  // refused, an empty one ignored; the others cost a token and are handled.
  void take_line(std::string_view line);
  void refuse_long_line();
  // Answers an HTTP request sent to the line chat with a notice, and closes.
  void refuse_http();
  void handle_line(std::string_view line);
  void handle_command(std::string_view name, std::string_view argument);
  void say(std::string text);
  void publish_pending();
  void send_line(Line line) { send({&line, 1}); }
  void send_frame(sockit::http::websocket::Opcode opcode, std::string_view payload);
  // Sends what was just queued, or leaves it to a writer task; evicts past --chat-queue.
  void push(Outgoing outgoing);
  // One line to a line-based member with nothing queued: sent at once, the rest queued.
  void send_now(const Line& line);
  void queued();
  void close_websocket(sockit::http::websocket::CloseCode code, std::string_view reason);

  // Writes what the socket takes; false after a write error (the queue is dropped then).
  bool flush();
  std::size_t wire_size(const Outgoing& outgoing) const noexcept;
  void advance(std::size_t sent) noexcept;
  void release_queue() noexcept;
  void spend_token() noexcept;
  double burst() const noexcept;
  // Refuses (with a notice) a WebSocket message of more lines than a burst.
  bool too_many_lines(std::string_view text);
  bool has_token() const noexcept;
  // Empties the queue but for the rest of an entry partly sent.
  void drop_unsent();
  void evict();
  Task<> write_later();

  Hub& hub_;
  Directory& directory_;
  Connection& connection_;
  const std::uint64_t id_;
  std::string nick_;
  std::string input_;            // received, not handled yet
  std::vector<Line> pending_;    // chat lines to publish at the end of this input
  std::vector<Outgoing> queue_;  // to send: queue_[head_] onwards
  std::size_t head_ = 0;
  std::size_t offset_ = 0;        // bytes of queue_[head_] on the wire already
  std::size_t queued_bytes_ = 0;  // wire bytes still to send
  std::unique_ptr<sockit::http::websocket::Decoder> decoder_;  // WebSocket members only
  double tokens_ = 0;
  SteadyClock::time_point refilled_;
  std::string reason_;
  SendWait<WaitWritable>* writer_wait_ = nullptr;  // the writer task's parked wait
  std::coroutine_handle<> leaving_;                // leave(), waiting for the writer task
  bool writing_ = false;                           // a writer task runs
  bool skipping_ = false;                          // dropping the rest of a line that was too long
  bool closing_ = false;
  bool evicted_ = false;

  Hub::Room* room_ = nullptr;  // the hub's entry of the member's room
  std::size_t room_slot_ = 0;
};

}  // namespace sockit::tools::chat
