#include "chat/member.hpp"

#include <algorithm>
#include <atomic>
#include <utility>

#include "chat/text.hpp"

namespace sockit::tools::chat {
namespace {

using sockit::http::websocket::CloseCode;
using sockit::http::websocket::Opcode;

std::atomic<std::uint64_t> next_id{1};

// Lines gathered into one sendmsg (two iovecs each for WebSocket: header and text).
constexpr std::size_t kBatch = 256;
// A WebSocket message may hold several lines; more than this is not chat.
constexpr std::size_t kMaxMessage = 64 * 1024;
// How long a leaving member's last lines may take to go out.
constexpr std::chrono::seconds kLastWords{2};
// How long an evicted member's parting notice waits for it to read again: it is slow, not
// gone, and holds nothing more than the notice (and the rest of a line on the wire) meanwhile.
constexpr std::chrono::seconds kSlowReaderLastWords{60};
// Sent entries are dropped from the front of the queue once this many have piled up.
constexpr std::size_t kCompactAfter = 1024;

constexpr std::string_view kHelp[] = {
    "*** commands:",
    "***   /nick NAME      choose your name (letters, digits, _ or -, from a letter)",
    "***   /who [#room]    who is in your room, or in #room",
    "***   /me TEXT        an action: * you TEXT",
    "***   /msg NICK TEXT  a private message",
    "***   /join #room     move to #room (created if new)",
    "***   /rooms          the rooms and how many are in each",
    "***   /quit [REASON]  leave",
    "***   anything else is said to your room; start with // to say something that starts "
    "with /",
};

// The first word of text, and the rest trimmed.
std::pair<std::string_view, std::string_view> split_word(std::string_view text) noexcept {
  const auto space = text.find_first_of(" \t");
  if (space == std::string_view::npos) return {text, {}};
  auto rest = text.substr(space);
  rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
  return {text.substr(0, space), rest};
}

}  // namespace

// leave(): waits until the writer task has ended, since the task uses the member.
class Member::WriterDone {
 public:
  explicit WriterDone(Member& member) noexcept : member_(member) {}
  bool await_ready() const noexcept { return !member_.writing_; }
  void await_suspend(std::coroutine_handle<> h) noexcept { member_.leaving_ = h; }
  void await_resume() const noexcept {}

 private:
  Member& member_;
};

Member::Member(Hub& hub, Directory& directory, Connection& connection, bool websocket)
    : hub_(hub),
      directory_(directory),
      connection_(connection),
      id_(next_id.fetch_add(1, std::memory_order_relaxed)),
      refilled_(SteadyClock::now()) {
  if (websocket) decoder_ = std::make_unique<sockit::http::websocket::Decoder>(kMaxMessage);
  tokens_ = burst();
  hub_.add(*this);
}

Member::~Member() {
  hub_.remove(*this);
}

void Member::enter(std::size_t hub_index) {
  auto entered = directory_.enter(hub_index, id_);
  nick_ = std::move(entered.nick);
  notify("*** Welcome to sockit chat, " + nick_ + ". You are in " + entered.room +
         ". /help lists the commands.");
  send(entered.history);
}

Task<> Member::leave() {
  directory_.leave(id_, reason_);
  if (!writing_) co_return;
  // The last lines (a close frame, "*** bye") get a moment to go out; a peer that takes
  // nothing does not hold the member longer than that.
  const auto grace = evicted_ ? kSlowReaderLastWords : kLastWords;
  const auto timer = hub_.loop().call_later(grace, [this] {
    if (writer_wait_) writer_wait_->cancel(std::make_error_code(std::errc::operation_canceled));
  });
  co_await WriterDone(*this);
  hub_.loop().cancel(timer);
}

void Member::shut_down() {
  reason_ = "server shutting down";
  if (decoder_) {
    close_websocket(CloseCode::going_away, "the server is shutting down");
  } else {
    notify("*** the server is shutting down");
  }
  closing_ = true;
}

// Input.

void Member::receive(std::string_view data) {
  if (input_.empty()) {
    const std::size_t used = consume(data);
    input_.assign(data.substr(used));
    return;
  }
  input_.append(data);
  resume();
}

bool Member::resume() {
  if (input_.empty()) return false;
  const std::size_t used = consume(input_);
  input_.erase(0, used);
  // The buffer of a burst is not kept by a member that goes quiet.
  if (input_.empty() && input_.capacity() > 1024) std::string().swap(input_);
  return used > 0;
}

std::size_t Member::consume(std::string_view data) {
  const std::size_t used = decoder_ ? consume_frames(data) : consume_lines(data);
  publish_pending();
  return used;
}

std::size_t Member::consume_lines(std::string_view data) {
  const std::size_t max_line = directory_.options().max_line;
  std::size_t used = 0;
  while (!closing_) {
    const auto end = data.find('\n', used);
    if (end == std::string_view::npos) {
      // No end in sight: a line already too long is dropped as it comes, not stored.
      if (data.size() - used > max_line + 1) {
        if (!skipping_) refuse_long_line();
        skipping_ = true;
        return data.size();
      }
      break;
    }
    std::string_view line = data.substr(used, end - used);
    if (skipping_) {
      skipping_ = false;
      used = end + 1;
      continue;
    }
    if (!has_token()) break;
    take_line(line);
    used = end + 1;
  }
  return used;
}

std::size_t Member::consume_frames(std::string_view data) {
  using Kind = sockit::http::websocket::Event::Kind;
  std::size_t used = 0;
  while (used < data.size() && !closing_ && has_token()) {
    sockit::http::websocket::Event event;
    used += decoder_->decode(data.substr(used), event);
    switch (event.kind) {
      case Kind::none:
      case Kind::pong:
        break;
      case Kind::text:
        if (too_many_lines(event.payload)) break;
        // A message's lines all go through; the debt delays the next message.
        for (std::string_view text = event.payload; !text.empty();) {
          const auto end = std::min(text.find('\n'), text.size());
          take_line(text.substr(0, end));
          text.remove_prefix(std::min(end + 1, text.size()));
        }
        break;
      case Kind::binary:
        close_websocket(CloseCode::unsupported_data, "this chat takes text messages only");
        break;
      case Kind::ping:
        send_frame(Opcode::pong, event.payload);
        break;
      case Kind::close:
        close_websocket(event.code == CloseCode::no_status ? CloseCode::normal : event.code, "");
        break;
      case Kind::error:
        close_websocket(event.code, event.payload);
        break;
    }
  }
  // One more call after the last message: the decoder then lets go of a large message's buffer.
  if (used == data.size() && !closing_) {
    sockit::http::websocket::Event rest;
    decoder_->decode({}, rest);
  }
  return used;
}

double Member::burst() const noexcept {
  return std::max(1.0, 2 * directory_.options().rate);
}

bool Member::too_many_lines(std::string_view text) {
  // A message's lines all go through at once, running the bucket into debt: more than a
  // burst of them would silence the member (pings and close included) for too long.
  const double rate = directory_.options().rate;
  const auto lines = static_cast<double>(std::count(text.begin(), text.end(), '\n') + 1);
  if (rate <= 0 || lines <= burst()) return false;
  notify("*** error: a message may hold at most " + std::to_string(static_cast<long>(burst())) +
         " lines; dropped");
  return true;
}

// The bucket is refilled by throttle() alone, which the reader calls before each read: the
// lines of one read cost no clock reads.
bool Member::has_token() const noexcept {
  return directory_.options().rate <= 0 || tokens_ >= 1;
}

void Member::spend_token() noexcept {
  if (directory_.options().rate > 0) tokens_ -= 1;
}

std::chrono::duration<double> Member::throttle() noexcept {
  const double rate = directory_.options().rate;
  if (rate <= 0) return {};
  const auto now = SteadyClock::now();
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  tokens_ = std::min(burst(), tokens_ + elapsed * rate);
  refilled_ = now;
  if (tokens_ >= 1) return {};
  return std::chrono::duration<double>((1 - tokens_) / rate);
}

void Member::take_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > directory_.options().max_line) return refuse_long_line();
  if (line.empty()) return;
  if (!decoder_ && is_http_request_line(line)) return refuse_http();
  spend_token();
  handle_line(line);
}

void Member::refuse_http() {
  notify(
      "*** error: this port speaks line chat, not HTTP (the web chat is at /chat on the "
      "http port); bye");
  closing_ = true;
}

void Member::refuse_long_line() {
  notify("*** error: line over " + std::to_string(directory_.options().max_line) +
         " bytes; dropped");
}

void Member::handle_line(std::string_view line) {
  const auto command = parse_command(line);
  if (command.name.empty()) {
    if (!command.argument.empty()) say("<" + nick_ + "> " + sanitize(command.argument));
    return;
  }
  // A command may change the room or the name: what was said before it goes out first.
  publish_pending();
  handle_command(command.name, command.argument);
}

void Member::say(std::string text) {
  pending_.push_back(make_line(text));
}

void Member::publish_pending() {
  if (pending_.empty()) return;
  directory_.say(id_, std::exchange(pending_, {}));
}

void Member::handle_command(std::string_view name, std::string_view argument) {
  if (name == "nick") {
    if (auto error = directory_.rename(id_, argument); !error.empty()) {
      notify("*** error: " + error);
      return;
    }
    nick_ = argument;
    notify("*** you are now known as " + nick_);
  } else if (name == "who") {
    notify(directory_.who(id_, sanitize(argument)));
  } else if (name == "me") {
    if (argument.empty()) return notify("*** error: /me TEXT");
    say("* " + nick_ + " " + sanitize(argument));
    publish_pending();
  } else if (name == "msg") {
    const auto [target, text] = split_word(argument);
    if (target.empty() || text.empty()) return notify("*** error: /msg NICK TEXT");
    const std::string safe = sanitize(text);
    if (!directory_.tell(target, make_line("*" + nick_ + "* " + safe))) {
      return notify("*** error: no one is called " + sanitize(target));
    }
    notify("-> *" + std::string(target) + "* " + safe);
  } else if (name == "join") {
    Directory::Entered entered;
    if (auto error = directory_.join(id_, argument, entered); !error.empty()) {
      return notify("*** error: " + error);
    }
    notify("*** you are in " + entered.room);
    send(entered.history);
  } else if (name == "rooms") {
    notify(directory_.rooms());
  } else if (name == "quit") {
    reason_ = argument.empty() ? std::string() : sanitize(argument);
    notify("*** bye");
    if (decoder_) close_websocket(CloseCode::normal, "bye");
    closing_ = true;
  } else if (name == "help") {
    for (const auto text : kHelp)
      notify(text);
  } else {
    notify("*** error: no command /" + sanitize(name) + " (/help lists them)");
  }
}

// Output.

void Member::send_frame(Opcode opcode, std::string_view payload) {
  std::string frame;
  sockit::http::websocket::append_frame(frame, opcode, payload);
  push({std::make_shared<const std::string>(std::move(frame)), true});
  queued();
}

void Member::close_websocket(CloseCode code, std::string_view reason) {
  send_frame(Opcode::close, sockit::http::websocket::close_payload(code, reason));
  closing_ = true;
}

void Member::send(std::span<const Line> lines) {
  // Nothing follows a member's last line (or a WebSocket close frame, RFC 6455 5.5.1).
  if (closing_ || lines.empty() || !connection_.stream().is_open()) return;
  if (lines.size() == 1 && !decoder_ && head_ == queue_.size()) return send_now(lines.front());
  for (const auto& line : lines)
    push({line});
  queued();
}

void Member::send_now(const Line& line) {
  // The common case, one line to a member that keeps up: one plain send, no queue entry.
  auto sent = connection_.try_send(*line);
  if (!sent && !would_block(sent.error())) {
    closing_ = true;
    return;
  }
  const std::size_t done = sent ? *sent : 0;
  if (done == line->size()) return;
  push({line});
  advance(done);
  queued();
}

void Member::send(Batch& batch) {
  if (batch.lines().size() == 1) return send(batch.lines());
  if (closing_ || !connection_.stream().is_open()) return;
  push(decoder_ ? Outgoing{batch.frames(), true} : Outgoing{batch.joined(), false});
  queued();
}

void Member::push(Outgoing outgoing) {
  queue_.push_back(std::move(outgoing));
  queued_bytes_ += wire_size(queue_.back());
}

void Member::queued() {
  if (!writing_ && !flush()) {
    closing_ = true;
    return;
  }
  // Only what the socket did not take counts against the limit.
  if (queued_bytes_ > directory_.options().max_queue) return evict();
  if (!writing_ && head_ < queue_.size()) {
    writing_ = true;
    spawn(hub_.loop(), write_later());
  }
}

std::size_t Member::wire_size(const Outgoing& outgoing) const noexcept {
  const std::size_t size = outgoing.line->size();
  if (!decoder_ || outgoing.raw) return size;
  char header[10];
  return sockit::http::websocket::frame_header(Opcode::text, size - 1, header) + size - 1;
}

bool Member::flush() {
  while (head_ < queue_.size()) {
    iovec parts[2 * kBatch];
    char headers[kBatch][10];
    std::size_t count = 0;
    std::size_t wanted = 0;
    for (std::size_t i = head_; i < queue_.size() && i - head_ < kBatch; ++i) {
      std::string_view body = *queue_[i].line;
      if (decoder_ && !queue_[i].raw) {
        body.remove_suffix(1);  // the '\n': a message is a line already
        const auto size =
            sockit::http::websocket::frame_header(Opcode::text, body.size(), headers[i - head_]);
        parts[count++] = {headers[i - head_], size};
      }
      parts[count++] = {const_cast<char*>(body.data()), body.size()};
    }
    std::size_t first = 0;
    for (std::size_t skip = offset_; skip > 0 || parts[first].iov_len == 0;) {
      if (skip < parts[first].iov_len) {
        parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + skip;
        parts[first].iov_len -= skip;
        break;
      }
      skip -= parts[first].iov_len;
      ++first;
    }
    for (std::size_t i = first; i < count; ++i)
      wanted += parts[i].iov_len;
    auto sent = connection_.try_sendmsg({parts + first, count - first});
    if (!sent) {
      if (would_block(sent.error())) return true;
      release_queue();
      return false;
    }
    advance(*sent);
    if (*sent < wanted) return true;
  }
  release_queue();
  return true;
}

void Member::advance(std::size_t sent) noexcept {
  queued_bytes_ -= sent;
  sent += offset_;
  offset_ = 0;
  while (head_ < queue_.size()) {
    const std::size_t size = wire_size(queue_[head_]);
    if (sent < size) {
      offset_ = sent;
      break;
    }
    sent -= size;
    queue_[head_++].line.reset();
  }
  if (head_ >= kCompactAfter) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void Member::release_queue() noexcept {
  // An idle member keeps no queue memory: the vector goes back once it held a backlog.
  if (queue_.capacity() > 16) {
    std::vector<Outgoing>().swap(queue_);
  } else {
    queue_.clear();
  }
  head_ = 0;
  offset_ = 0;
  queued_bytes_ = 0;
}

void Member::drop_unsent() {
  const std::size_t offset = offset_;
  Outgoing on_wire = offset > 0 ? std::move(queue_[head_]) : Outgoing{};
  release_queue();
  if (offset == 0) return;
  queued_bytes_ = wire_size(on_wire) - offset;
  offset_ = offset;
  queue_.push_back(std::move(on_wire));
}

void Member::evict() {
  evicted_ = true;
  closing_ = true;
  reason_ = "too slow to keep up";
  // The backlog goes, but not the rest of a line on the wire: the parting notice follows
  // whole lines only, and is queued whole, for when the member reads again.
  drop_unsent();
  const std::string why = "disconnected: more than " +
                          std::to_string(directory_.options().max_queue / 1024) +
                          " KiB of messages unread";
  std::string last;
  if (decoder_) {
    sockit::http::websocket::append_frame(
        last, Opcode::close,
        sockit::http::websocket::close_payload(CloseCode::policy_violation, why));
  } else {
    last = "*** " + why + "\n";
  }
  push({std::make_shared<const std::string>(std::move(last)), true});
  // Wakes the reader at once (epoll reports a socket shut down for reading as readable); the
  // writer goes on until the notice is out, or leave() gives up on it.
  (void)connection_.stream().shutdown(Shut::rd);
  if (!writing_) {
    writing_ = true;
    spawn(hub_.loop(), write_later());
  }
}

Task<> Member::write_later() {
  while (flush() && head_ < queue_.size()) {
    // Bounded by the send timeout: a member that takes nothing for that long is cut off.
    auto wait = connection_.send(connection_.stream().wait_writable());
    writer_wait_ = &wait;
    const auto error = (co_await wait).error();
    writer_wait_ = nullptr;
    if (error == std::errc::timed_out) {
      closing_ = true;
      reason_ = "not reading";
      release_queue();
      (void)connection_.stream().shutdown(Shut::rdwr);  // wakes the reader, as evict() does
    }
    if (error) break;
  }
  writing_ = false;
  if (leaving_) hub_.loop().schedule(std::exchange(leaving_, {}));
}

}  // namespace sockit::tools::chat
