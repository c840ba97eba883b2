// The chat server's text rules, without sockets: what sanitize() makes of untrusted text, the
// names of members and rooms, and how a line splits into a command.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

#include "chat/text.hpp"
#include "sockit/utf8.hpp"

namespace {

using namespace sockit::tools::chat;
using namespace std::string_literals;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Whether text holds no byte that a terminal takes as a control: C0 but tab, and DEL. (C1
// controls in UTF-8 start with 0xC2, which sanitize() never lets through before 0x80-0x9F.)
bool no_controls(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) < 0xA0)
      return false;
  }
  return true;
}

std::string replacements(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i)
    text += kReplacement;
  return text;
}

TEST(Sanitize, PrintableTextAndTabPassAsTheyAre) {
  EXPECT_EQ(sanitize(""), "");
  EXPECT_EQ(sanitize("hello, world! ~{}"), "hello, world! ~{}");
  EXPECT_EQ(sanitize("a\tb"), "a\tb");
  const std::string text = "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80 \xE6\x97\xA5";  // é ✓ 😀 日
  EXPECT_EQ(sanitize(text), text);
  EXPECT_EQ(sanitize("\xC2\xA0"), "\xC2\xA0");  // U+00A0, just past the C1 controls
}

TEST(Sanitize, C0ControlsAndDelInCaretNotation) {
  EXPECT_EQ(sanitize("\x1b[2J\x1b]0;title\x07"), "^[[2J^[]0;title^G");
  EXPECT_EQ(sanitize("\x7f"), "^?");
  EXPECT_EQ(sanitize("a\rb\nc"), "a^Mb^Jc");
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\t') continue;
    const std::string expected = {'^', static_cast<char>(c + 0x40)};
    EXPECT_EQ(sanitize(std::string(1, static_cast<char>(c))), expected) << c;
  }
  EXPECT_EQ(sanitize("nul\0end"s), "nul^@end");
}

TEST(Sanitize, C1ControlsAndBidiOverridesByCodePoint) {
  EXPECT_EQ(sanitize("\xC2\x80"), "<U+0080>");
  EXPECT_EQ(sanitize("csi\xC2\x9B[31m"), "csi<U+009B>[31m");
  EXPECT_EQ(sanitize("\xC2\x9F"), "<U+009F>");
  EXPECT_EQ(sanitize("evil\xE2\x80\xAEtxt.exe"), "evil<U+202E>txt.exe");
  EXPECT_EQ(sanitize("\xE2\x80\xAA\xE2\x80\xAD\xE2\x81\xA6\xE2\x81\xA9"),
            "<U+202A><U+202D><U+2066><U+2069>");
  // Their neighbours are ordinary text.
  for (const std::string_view neighbour :
       {"\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\xA5", "\xE2\x81\xAA"}) {
    EXPECT_EQ(sanitize(neighbour), neighbour);
  }
}

TEST(Sanitize, EachByteOfAnInvalidSequenceIsOneReplacement) {
  EXPECT_EQ(sanitize("a\x80z"), "a" + replacements(1) + "z");       // lone continuation
  EXPECT_EQ(sanitize("\xC0\xAF"), replacements(2));                 // overlong '/'
  EXPECT_EQ(sanitize("\xC0\x9B"), replacements(2));                 // overlong ESC
  EXPECT_EQ(sanitize("\xE0\x80\xAF"), replacements(3));             // overlong, three bytes
  EXPECT_EQ(sanitize("\xED\xA0\x80"), replacements(3));             // a surrogate
  EXPECT_EQ(sanitize("\xF4\x90\x80\x80"), replacements(4));         // above U+10FFFF
  EXPECT_EQ(sanitize("\xE2\x82 x"), replacements(2) + " x");        // truncated
  EXPECT_EQ(sanitize("end\xF0\x9F\x98"), "end" + replacements(3));  // truncated at the end
  EXPECT_EQ(sanitize("\xFF\xFE\xF5"), replacements(3));
}

TEST(Sanitize, AnyBytesGiveHarmlessUtf8ThatSanitizesToItself) {
  std::mt19937 random(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 40);
  for (int i = 0; i < 20'000; ++i) {
    std::string text(length(random), '\0');
    for (char& c : text)
      c = static_cast<char>(byte(random));
    const std::string safe = sanitize(text);
    ASSERT_TRUE(sockit::utf8::valid(safe)) << testing::PrintToString(text);
    ASSERT_TRUE(no_controls(safe)) << testing::PrintToString(text);
    ASSERT_EQ(sanitize(safe), safe) << testing::PrintToString(text);
  }
}

TEST(Names, ValidNick) {
  for (const std::string_view nick : {"a", "alice", "Bob_the-2nd", "guest", "aaaaaaaaaaaaaaaaaaaa"})
    EXPECT_TRUE(valid_nick(nick)) << nick;
  for (const std::string_view nick :
       {"", "1a", "_a", "-a", "aaaaaaaaaaaaaaaaaaaaa", "a b", "a.b", "bj\xC3\xB8rn", "a\x1b"})
    EXPECT_FALSE(valid_nick(nick)) << nick;
}

TEST(Names, GuestNicksAreGuestAndDigitsInAnyCase) {
  for (const std::string_view nick : {"guest1", "GUEST12", "Guest007"})
    EXPECT_TRUE(is_guest_nick(nick)) << nick;
  for (const std::string_view nick :
       {"", "guest", "guests", "guest1a", "guest-1", "xguest1", "gues1"})
    EXPECT_FALSE(is_guest_nick(nick)) << nick;
}

TEST(Names, ValidRoom) {
  for (const std::string_view room :
       {"#a", "#lobby", "#Rust_2-x", "#1", "#rrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"})
    EXPECT_TRUE(valid_room(room)) << room;
  for (const std::string_view room :
       {"", "#", "lobby", "##a", "#a b", "#a.b", "#\xC3\xA9", "#rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"})
    EXPECT_FALSE(valid_room(room)) << room;
}

TEST(Names, FoldLowersAsciiOnly) {
  EXPECT_EQ(fold("AbC-_9#Z"), "abc-_9#z");
  EXPECT_EQ(fold("\xC3\x89"), "\xC3\x89");  // É stays: names are ASCII
  EXPECT_EQ(fold(""), "");
}

void expect_command(std::string_view line, std::string_view name, std::string_view argument) {
  const Command command = parse_command(line);
  EXPECT_EQ(command.name, name) << testing::PrintToString(std::string(line));
  EXPECT_EQ(command.argument, argument) << testing::PrintToString(std::string(line));
}

TEST(ParseCommand, NameAndTrimmedArgument) {
  expect_command("/nick alice", "nick", "alice");
  expect_command("/who", "who", "");
  expect_command("/nick ", "nick", "");
  expect_command("/msg  bob   hi there \t", "msg", "bob   hi there");
  expect_command("/quit\tgone", "quit", "gone");
  expect_command("/\x1b[2J", "\x1b[2J", "");
}

TEST(ParseCommand, EverythingElseIsAChatLine) {
  expect_command("hello", "", "hello");
  expect_command(" /nick x", "", " /nick x");
  expect_command("//help", "", "/help");
  expect_command("//", "", "/");
  expect_command("/", "", "/");
  expect_command("/ shrug", "", "/ shrug");
  expect_command("", "", "");
}

TEST(HttpRequestLine, WhatBrowsersAndClientsSendFirst) {
  for (const char* line :
       {"GET / HTTP/1.1", "GET /chat?x=1 HTTP/1.0", "POST /a/b HTTP/1.1", "PRI * HTTP/2.0",
        "M-SEARCH * HTTP/1.1", "CONNECT example.com:443 HTTP/1.1"}) {
    EXPECT_TRUE(is_http_request_line(line)) << line;
  }
}

TEST(HttpRequestLine, ChatThatMentionsHttpIsNot) {
  for (const char* line : {"GET HTTP/1.1", "get / HTTP/1.1", "GET / HTTP/1.1 please",
                           "GET  HTTP/1.1", " / HTTP/1.1", "GET / http/1.1", "GET / HTTP/11",
                           "GET / HTTP/1.1x", "I GET it HTTP/1.1 now", "", "GET", "hello world"}) {
    EXPECT_FALSE(is_http_request_line(line)) << line;
  }
}

}  // namespace
