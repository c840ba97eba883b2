// Who is where in the chat server, across every event loop. The Directory, shared by all loops
// behind one mutex, holds the nicknames, the rooms, their members and their history; every
// loop has a Hub that holds its own members and delivers to them.
//
// A message is one immutable buffer (Line), shared by every queue it is in, whatever the
// number of recipients. The Directory hands it to each loop with members in its room through
// the loop's post queue while it holds its lock: every loop receives a room's messages in the
// same order, and membership changes travel the same queues, so a member who joins gets each
// message once, from the room's history or live, never both.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sockit/event_loop.hpp"

namespace sockit::tools::chat {

// One message as sent on a line-based connection: its text and a final '\n'.
using Line = std::shared_ptr<const std::string>;
Line make_line(std::string_view text);

// The lines of one delivery to a hub, and the same lines joined into one buffer, made once for
// all the hub's members who get them: a fast sender's read of many lines then costs each
// member one queue entry and one iovec, not one per line.
class Batch {
 public:
  explicit Batch(const std::vector<Line>& lines) noexcept : lines_(lines) {}

  const std::vector<Line>& lines() const noexcept { return lines_; }
  // The lines as one buffer, as a line-based member receives them.
  const Line& joined();
  // The lines as one buffer of WebSocket text frames.
  const Line& frames();

 private:
  const std::vector<Line>& lines_;
  Line joined_;
  Line frames_;
};

struct ChatOptions {
  std::size_t max_line = 1024;         // bytes of one line, before its '\n'
  double rate = 10;                    // lines a member may send per second (0: no limit)
  std::size_t max_queue = 256 * 1024;  // unsent bytes a member may fall behind by
  std::size_t history = 20;            // messages of a room replayed to who joins it
  // Join and leave notices go to rooms of up to this many members: in a big room they would
  // be most of the traffic (10,000 members joining one by one make 50 million notices).
  std::size_t announce_max = 200;
  std::string lobby = "#lobby";
  // Origins of pages, besides the server's own, that may join over WebSocket.
  std::vector<std::string> allowed_origins;
};

class Member;

// The members of one loop, by id and by room. Used on its loop's thread only.
class Hub {
 public:
  // A room with members on this loop: its folded name and those members. A member keeps a
  // pointer to its room's entry, which stays put as the map grows.
  using Room = std::pair<const std::string, std::vector<Member*>>;

  explicit Hub(EventLoop& loop) noexcept : loop_(loop) {}
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  EventLoop& loop() const noexcept { return loop_; }
  void add(Member& member);
  // Leaves the member's room too: a member that is gone gets nothing more.
  void remove(Member& member) noexcept;

  // What the Directory posts. A member may be gone by then: ids, not pointers, travel.
  void enter_room(std::uint64_t id, const std::string& room);
  void leave_room(std::uint64_t id);
  void deliver(const std::string& room, const std::vector<Line>& lines, std::uint64_t except);
  void deliver_to(std::uint64_t id, const Line& line);

 private:
  EventLoop& loop_;
  std::unordered_map<std::uint64_t, Member*> members_;
  // A room goes when its last member on this loop leaves it.
  std::unordered_map<std::string, std::vector<Member*>> rooms_;
};

class Directory {
 public:
  Directory(ChatOptions options, std::size_t hubs);
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;

  const ChatOptions& options() const noexcept { return options_; }
  // Registers the hub of loop index (before any member arrives).
  void attach(std::size_t index, Hub& hub);

  struct Entered {
    std::string nick;
    std::string room;  // as its creator spelled it
    std::vector<Line> history;
  };
  // A new member: a guest name, in the lobby.
  Entered enter(std::size_t hub, std::uint64_t id);
  // The member is gone; reason ends the room's notice ("bob left (reason)"), or is empty.
  void leave(std::uint64_t id, std::string_view reason);
  // An error to show the member, or empty when the member is now called wanted.
  std::string rename(std::uint64_t id, std::string_view wanted);
  // Moves the member to room (created if new): an error, or empty and entered filled.
  std::string join(std::uint64_t id, std::string_view room, Entered& entered);
  // Sends lines to the other members of the member's room.
  void say(std::uint64_t from, std::vector<Line> lines);
  // Sends line to the member called nick (any case); false if there is none.
  bool tell(std::string_view nick, Line line);
  // The "*** in #room (n): a, b" answer of /who, for the member's room or the one named.
  std::string who(std::uint64_t id, std::string_view room);
  std::string rooms();

 private:
  struct Room {
    std::string name;
    std::map<std::string, std::uint64_t> members;  // folded nick -> id, for /who's order
    std::vector<std::size_t> on_hub;               // members per loop
    std::deque<Line> history;
  };
  struct Entry {
    std::size_t hub;
    std::string nick;
    std::string room;  // folded
  };

  // All of these run with mutex_ held.
  Room& room_of(const std::string& key, std::string_view name);
  void add_to_room(std::uint64_t id, Entry& entry, Room& room);
  void remove_from_room(std::uint64_t id, Entry& entry, std::string_view notice);
  void publish(Room& room, const std::string& key, std::vector<Line> lines, std::uint64_t except,
               bool remember);
  void announce(Room& room, const std::string& key, std::string_view text, std::uint64_t except);

  const ChatOptions options_;
  std::mutex mutex_;
  std::vector<Hub*> hubs_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<std::string, std::uint64_t> nicks_;  // folded nick -> id
  std::map<std::string, Room> rooms_;                     // folded name -> room
  std::uint64_t guests_ = 0;
};

}  // namespace sockit::tools::chat
