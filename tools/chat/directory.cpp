#include "chat/directory.hpp"

#include <utility>

#include "chat/member.hpp"
#include "chat/text.hpp"
#include "sockit/http/websocket.hpp"

namespace sockit::tools::chat {
namespace {

// /who names this many members of a big room, and /rooms this many rooms; the rest are counted.
constexpr std::size_t kMaxListed = 100;

}  // namespace

Line make_line(std::string_view text) {
  std::string line;
  line.reserve(text.size() + 1);
  line.append(text).push_back('\n');
  return std::make_shared<const std::string>(std::move(line));
}

const Line& Batch::joined() {
  if (!joined_) {
    std::string text;
    for (const auto& line : lines_)
      text += *line;
    joined_ = std::make_shared<const std::string>(std::move(text));
  }
  return joined_;
}

const Line& Batch::frames() {
  if (!frames_) {
    std::string text;
    for (const auto& line : lines_) {
      const std::string_view body(line->data(), line->size() - 1);
      sockit::http::websocket::append_frame(text, sockit::http::websocket::Opcode::text, body);
    }
    frames_ = std::make_shared<const std::string>(std::move(text));
  }
  return frames_;
}

void Hub::add(Member& member) {
  members_.emplace(member.id(), &member);
}

void Hub::remove(Member& member) noexcept {
  leave_room(member.id());
  members_.erase(member.id());
}

void Hub::enter_room(std::uint64_t id, const std::string& room) {
  const auto it = members_.find(id);
  if (it == members_.end()) return;
  Member& member = *it->second;
  leave_room(id);
  Room& entry = *rooms_.try_emplace(room).first;
  member.room_ = &entry;
  member.room_slot_ = entry.second.size();
  entry.second.push_back(&member);
}

void Hub::leave_room(std::uint64_t id) {
  const auto it = members_.find(id);
  if (it == members_.end() || it->second->room_ == nullptr) return;
  Member& member = *it->second;
  auto& list = member.room_->second;
  // Swap with the last: a room's order of delivery is not its order of joining.
  list[member.room_slot_] = list.back();
  list[member.room_slot_]->room_slot_ = member.room_slot_;
  list.pop_back();
  // Erased by iterator: the key to find it by lives in the entry itself.
  if (list.empty()) rooms_.erase(rooms_.find(member.room_->first));
  member.room_ = nullptr;
}

void Hub::deliver(const std::string& room, const std::vector<Line>& lines, std::uint64_t except) {
  const auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  Batch batch(lines);
  for (Member* member : it->second) {
    if (member->id() != except) member->send(batch);
  }
}

void Hub::deliver_to(std::uint64_t id, const Line& line) {
  if (const auto it = members_.find(id); it != members_.end()) it->second->send({&line, 1});
}

Directory::Directory(ChatOptions options, std::size_t hubs)
    : options_(std::move(options)), hubs_(hubs, nullptr) {
  room_of(fold(options_.lobby), options_.lobby);
}

void Directory::attach(std::size_t index, Hub& hub) {
  std::lock_guard lock(mutex_);
  hubs_.at(index) = &hub;
}

Directory::Room& Directory::room_of(const std::string& key, std::string_view name) {
  auto [it, created] = rooms_.try_emplace(key);
  if (created) {
    it->second.name = name;
    it->second.on_hub.assign(hubs_.size(), 0);
  }
  return it->second;
}

Directory::Entered Directory::enter(std::size_t hub, std::uint64_t id) {
  std::lock_guard lock(mutex_);
  std::string nick;
  do {
    nick = "guest" + std::to_string(++guests_);
  } while (nicks_.contains(nick));
  nicks_.emplace(nick, id);
  Entry& entry = entries_.emplace(id, Entry{hub, nick, fold(options_.lobby)}).first->second;
  Room& room = rooms_.at(entry.room);
  add_to_room(id, entry, room);
  return {nick, room.name, {room.history.begin(), room.history.end()}};
}

void Directory::add_to_room(std::uint64_t id, Entry& entry, Room& room) {
  room.members.emplace(fold(entry.nick), id);
  ++room.on_hub[entry.hub];
  Hub* hub = hubs_[entry.hub];
  hub->loop().post([hub, id, key = entry.room] { hub->enter_room(id, key); });
  announce(room, entry.room, "*** " + entry.nick + " joined " + room.name, id);
}

void Directory::remove_from_room(std::uint64_t id, Entry& entry, std::string_view notice) {
  const auto it = rooms_.find(entry.room);
  Room& room = it->second;
  room.members.erase(fold(entry.nick));
  --room.on_hub[entry.hub];
  Hub* hub = hubs_[entry.hub];
  hub->loop().post([hub, id] { hub->leave_room(id); });
  announce(room, entry.room, notice, id);
  if (room.members.empty() && entry.room != fold(options_.lobby)) rooms_.erase(it);
}

void Directory::leave(std::uint64_t id, std::string_view reason) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  std::string notice = "*** " + entry.nick + " left";
  notice += reason.empty() ? " " + rooms_.at(entry.room).name : " (" + std::string(reason) + ")";
  remove_from_room(id, entry, notice);
  nicks_.erase(fold(entry.nick));
  entries_.erase(it);
}

std::string Directory::rename(std::uint64_t id, std::string_view wanted) {
  if (!valid_nick(wanted)) {
    return "a nick is 1-20 letters, digits, '_' or '-', starting with a letter";
  }
  if (is_guest_nick(wanted)) return "guest names are given, not taken";
  const std::string key = fold(wanted);
  std::lock_guard lock(mutex_);
  Entry& entry = entries_.at(id);
  const std::string old_key = fold(entry.nick);
  if (key != old_key && nicks_.contains(key)) return std::string(wanted) + " is taken";
  nicks_.erase(old_key);
  nicks_.emplace(key, id);
  Room& room = rooms_.at(entry.room);
  room.members.erase(old_key);
  room.members.emplace(key, id);
  const std::string old = std::exchange(entry.nick, std::string(wanted));
  announce(room, entry.room, "*** " + old + " is now known as " + entry.nick, id);
  return {};
}

std::string Directory::join(std::uint64_t id, std::string_view name, Entered& entered) {
  if (!valid_room(name)) return "a room is '#' and 1-30 letters, digits, '_' or '-'";
  const std::string key = fold(name);
  std::lock_guard lock(mutex_);
  Entry& entry = entries_.at(id);
  if (entry.room == key) return "you are in " + rooms_.at(key).name + " already";
  remove_from_room(id, entry, "*** " + entry.nick + " left " + rooms_.at(entry.room).name);
  entry.room = key;
  Room& room = room_of(key, name);
  add_to_room(id, entry, room);
  entered = {entry.nick, room.name, {room.history.begin(), room.history.end()}};
  return {};
}

void Directory::say(std::uint64_t from, std::vector<Line> lines) {
  std::lock_guard lock(mutex_);
  const std::string& key = entries_.at(from).room;
  publish(rooms_.at(key), key, std::move(lines), from, true);
}

bool Directory::tell(std::string_view nick, Line line) {
  std::lock_guard lock(mutex_);
  const auto it = nicks_.find(fold(nick));
  if (it == nicks_.end()) return false;
  Hub* hub = hubs_[entries_.at(it->second).hub];
  hub->loop().post([hub, id = it->second, line = std::move(line)] { hub->deliver_to(id, line); });
  return true;
}

void Directory::publish(Room& room, const std::string& key, std::vector<Line> lines,
                        std::uint64_t except, bool remember) {
  if (remember) {
    for (const auto& line : lines) {
      room.history.push_back(line);
      if (room.history.size() > options_.history) room.history.pop_front();
    }
  }
  const auto batch = std::make_shared<const std::vector<Line>>(std::move(lines));
  for (std::size_t i = 0; i < hubs_.size(); ++i) {
    if (room.on_hub[i] == 0) continue;
    Hub* hub = hubs_[i];
    hub->loop().post([hub, key, batch, except] { hub->deliver(key, *batch, except); });
  }
}

void Directory::announce(Room& room, const std::string& key, std::string_view text,
                         std::uint64_t except) {
  if (room.members.size() > options_.announce_max) return;
  publish(room, key, {make_line(text)}, except, false);
}

std::string Directory::who(std::uint64_t id, std::string_view name) {
  std::lock_guard lock(mutex_);
  const std::string key = name.empty() ? entries_.at(id).room : fold(name);
  const auto it = rooms_.find(key);
  if (it == rooms_.end()) return "*** error: there is no room " + std::string(name);
  const Room& room = it->second;
  std::string answer = "*** in " + room.name + " (" + std::to_string(room.members.size()) + "):";
  const char* separator = " ";
  std::size_t listed = 0;
  for (const auto& member : room.members) {
    if (listed++ == kMaxListed) {
      answer += " and " + std::to_string(room.members.size() - kMaxListed) + " more";
      break;
    }
    answer.append(separator).append(entries_.at(member.second).nick);
    separator = ", ";
  }
  return answer;
}

std::string Directory::rooms() {
  std::lock_guard lock(mutex_);
  std::string answer = "*** rooms:";
  const char* separator = " ";
  std::size_t listed = 0;
  for (const auto& [key, room] : rooms_) {
    if (listed++ == kMaxListed) {
      answer += " and " + std::to_string(rooms_.size() - kMaxListed) + " more";
      break;
    }
    answer.append(separator).append(room.name);
    answer.append(" (").append(std::to_string(room.members.size())).append(")");
    separator = ", ";
  }
  return answer;
}

}  // namespace sockit::tools::chat
