// The text rules of the chat server, without sockets: what a member may be called, what a room
// may be called, how a line splits into a command, and how untrusted text is made safe to
// show on another member's terminal.
#pragma once

#include <string>
#include <string_view>

namespace sockit::tools::chat {

// text as valid UTF-8 that cannot drive a terminal: bytes that are not UTF-8 become U+FFFD,
// C0 controls (tab aside) and DEL are shown in caret notation ("^[" for ESC), and C1 controls
// and the bidirectional overrides (which can make text read backwards) as "<U+202E>".
std::string sanitize(std::string_view text);

// 1 to 20 letters, digits, '_' or '-', starting with a letter.
bool valid_nick(std::string_view nick) noexcept;
// "guest" and digits, case ignored: the names given to members who have not chosen one.
bool is_guest_nick(std::string_view nick) noexcept;
// '#' and 1 to 30 letters, digits, '_' or '-'.
bool valid_room(std::string_view room) noexcept;
// ASCII lower case: nicks and rooms are unique ignoring case.
std::string fold(std::string_view name);

struct Command {
  std::string_view name;      // without the '/'; empty for a chat line
  std::string_view argument;  // trimmed; for a chat line, the text
};

// An HTTP request line, "METHOD TARGET HTTP/d.d" (RFC 9112 section 3), as a browser or an
// HTTP client pointed at the line chat's port sends first: not chat, and never broadcast.
bool is_http_request_line(std::string_view line) noexcept;

// "/name argument" is a command; anything else, and "//text" (a chat line that starts with a
// '/'), is a chat line.
Command parse_command(std::string_view line) noexcept;

}  // namespace sockit::tools::chat
