#include "sockit/http/parser.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <new>

#include "http/text.hpp"

namespace sockit::http {
namespace {

using detail::FieldLines;
using detail::FieldSpan;
using detail::Framing;

constexpr std::size_t npos = std::string_view::npos;
// Offsets into a head are 32 bits: no head may be longer.
constexpr std::size_t max_offset = std::numeric_limits<std::uint32_t>::max();
// Content-Length and chunk sizes stay below 2^63, so that they fit an off_t.
constexpr std::uint64_t max_length = std::numeric_limits<std::int64_t>::max();

// Letters, digits and others: a byte's membership in a set, looked up rather than searched
// for, since the parser asks it of every byte of a field.
constexpr std::array<bool, 256> make_table(std::string_view others) {
  std::array<bool, 256> table{};
  for (int c = '0'; c <= '9'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) {
    table[static_cast<std::size_t>(c)] = true;
    table[static_cast<std::size_t>(c - 'a' + 'A')] = true;
  }
  for (char c : others)
    table[static_cast<unsigned char>(c)] = true;
  return table;
}
constexpr std::array<bool, 256> token_table = make_table("!#$%&'*+-.^_`|~");
// RFC 3986 host and port characters: unreserved, percent-encoded, sub-delims, ':' and the
// brackets of an IPv6 literal.
constexpr std::array<bool, 256> host_table = make_table("-._~%!$&'()*+,;=:[]");

bool is_token(char c) noexcept {
  return token_table[static_cast<unsigned char>(c)];
}
bool is_ows(char c) noexcept {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

using text::for_each_element;
using text::hex_value;

// A byte that may not appear in a field value, a reason phrase or a chunk extension: the
// control characters but HTAB, and DEL.
bool is_ctl(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && u != '\t') || u == 0x7f;
}

// The word-at-a-time scans below find the first byte that matches from the lowest one set.
static_assert(std::endian::native == std::endian::little);
constexpr std::uint64_t ones = 0x0101010101010101;
constexpr std::uint64_t highs = 0x8080808080808080;

std::uint64_t load8(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}
// Nonzero when a byte of word is below n (n <= 128), or is DEL; the lowest bit set is in the
// first such byte (little-endian: the first in memory).
std::uint64_t below_or_del(std::uint64_t word, std::uint64_t n) noexcept {
  const std::uint64_t del = word ^ (0x7f * ones);
  return ((word - n * ones) & ~word & highs) | ((del - ones) & ~del & highs);
}

// The first byte of [p, end) that fails `ok`: eight bytes at a time, where the first byte
// below `below` or DEL (the only bytes that might fail it) is found from the word's mask.
template <class Ok>
const char* skip_valid(const char* p, const char* end, std::uint64_t below, Ok ok) noexcept {
  while (end - p >= 8) {
    const std::uint64_t mask = below_or_del(load8(p), below);
    if (mask == 0) {
      p += 8;
      continue;
    }
    p += std::countr_zero(mask) / 8;
    if (!ok(*p)) return p;
    ++p;
  }
  while (p != end && ok(*p))
    ++p;
  return p;
}

// A field value, reason phrase or request target: where it stops being one.
const char* skip_field_value(const char* p, const char* end) noexcept {
  return skip_valid(p, end, 0x20, [](char c) { return !is_ctl(c); });
}
const char* skip_target(const char* p, const char* end) noexcept {
  return skip_valid(p, end, 0x21, [](char c) { return c != ' ' && !is_ctl(c) && c != '\t'; });
}

// The first `byte` in [p, end), or end; a word at a time.
const char* find_byte(const char* p, const char* end, char byte) noexcept {
  const std::uint64_t pattern = ones * static_cast<unsigned char>(byte);
  for (; end - p >= 8; p += 8) {
    const std::uint64_t x = load8(p) ^ pattern;
    const std::uint64_t zero = (x - ones) & ~x & highs;
    if (zero != 0) return p + std::countr_zero(zero) / 8;
  }
  while (p != end && *p != byte)
    ++p;
  return p;
}

// The first byte of [p, end) that is not a token character. A field name ends at its colon:
// that is found a word at a time, and the bytes before it are checked together.
const char* skip_token(const char* p, const char* end) noexcept {
  const char* const colon = find_byte(p, end, ':');
  bool all = true;
  for (const char* q = p; q != colon; ++q)
    all &= is_token(*q);
  if (all) return colon;
  while (is_token(*p))
    ++p;
  return p;
}

bool equals_lower(std::string_view text, std::string_view lower) noexcept {
  return text.size() == lower.size() &&
         std::equal(text.begin(), text.end(), lower.begin(),
                    [](char a, char b) { return text::lower(a) == b; });
}

// The offsets come from this data, so the view is inside it.
std::string_view view(std::string_view data, std::uint32_t offset, std::uint32_t size) noexcept {
  return {data.data() + offset, size};
}

// The LF at or after `from` and before `end`, or npos.
std::size_t find_lf(std::string_view data, std::size_t from, std::size_t end) noexcept {
  if (from >= end) return npos;
  const void* lf = std::memchr(data.data() + from, '\n', end - from);
  return lf == nullptr ? npos
                       : static_cast<std::size_t>(static_cast<const char*>(lf) - data.data());
}

// The end of a line's content: its LF, or the CR before it.
std::size_t content_end(std::string_view data, std::size_t start, std::size_t lf) noexcept {
  return lf > start && data[lf - 1] == '\r' ? lf - 1 : lf;
}

ParseError parse_content_length(Framing& framing, std::string_view value) noexcept {
  // A list of equal values ("5, 5", from a proxy that merged fields) is one value, as
  // RFC 9110 8.6 allows; different values are an attempt at request smuggling.
  ParseError error = ParseError::none;
  for_each_element(value, [&](std::string_view element) {
    std::uint64_t length = 0;
    for (char c : element) {
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (!is_digit(c) || length > (max_length - digit) / 10) {
        error = ParseError::bad_content_length;
        return false;
      }
      length = length * 10 + digit;
    }
    if (element.empty()) {
      error = ParseError::bad_content_length;
      return false;
    }
    if (framing.has_content_length && framing.content_length != length) {
      error = ParseError::conflicting_content_length;
      return false;
    }
    framing.has_content_length = true;
    framing.content_length = length;
    return true;
  });
  return error;
}

void note_transfer_encoding(Framing& framing, std::string_view value) noexcept {
  framing.has_transfer_encoding = true;
  for_each_element(value, [&](std::string_view coding) {
    if (coding.empty()) return true;
    framing.final_chunked = equals_lower(coding, "chunked");
    if (framing.final_chunked) {
      if (framing.chunked < 255) ++framing.chunked;
    } else {
      framing.other_coding = true;
    }
    return true;
  });
}

// Empty is allowed (a target without an authority).
bool is_host_value(std::string_view value) noexcept {
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return host_table[static_cast<unsigned char>(c)]; });
}

void note_connection(Framing& framing, std::string_view value) noexcept {
  for_each_element(value, [&](std::string_view option) {
    framing.connection_close |= iequals(option, "close");
    framing.connection_keep_alive |= iequals(option, "keep-alive");
    return true;
  });
}

// Takes note of the fields that frame the body or decide the connection's fate. Most fields
// are none of them: the first letter and the size turn those away.
ParseError note_field(Framing& framing, std::string_view name, std::string_view value) noexcept {
  const char first = static_cast<char>(name[0] | 0x20);
  if (first == 'c') {
    if (name.size() == 14 && equals_lower(name, "content-length")) {
      return parse_content_length(framing, value);
    }
    if (name.size() == 10 && equals_lower(name, "connection")) note_connection(framing, value);
  } else if (first == 'h') {
    if (name.size() == 4 && equals_lower(name, "host")) {
      if (framing.hosts < 255) ++framing.hosts;
      framing.bad_host |= !is_host_value(value);
    }
  } else if (first == 't') {
    if (name.size() == 17 && equals_lower(name, "transfer-encoding")) {
      note_transfer_encoding(framing, value);
    }
  }
  return ParseError::none;
}

// Room for the fields of a typical request: the tables grow (grow()) for more, up to the limit,
// rather than hold room for max_headers in every idle connection (4.8 KiB at 100).
constexpr std::size_t kInitialFields = 16;

void reserve(FieldLines& fields, const Limits& limits) {
  const std::size_t room = std::min(limits.max_headers, kInitialFields);
  fields.spans.reserve(room);
  fields.headers.reserve(room);
}

// Doubles both tables (the views are made into headers without allocating), up to the limit;
// false when memory runs out, which the parser reports as too many fields.
bool grow(FieldLines& fields, const Limits& limits) noexcept {
  const std::size_t room = std::min(limits.max_headers, 2 * fields.spans.capacity() + 1);
  try {
    fields.spans.reserve(room);
    fields.headers.reserve(room);
  } catch (const std::bad_alloc&) {
    return false;
  }
  return true;
}

// Parses field lines from fields.next_line up to the empty line that ends the section, each
// byte once: a line cut off by the end of data is resumed where it was left.
// complete: fields.next_line is the size of the section so far, its final line included.
// on_field(name, value) sees every field as it is parsed and may reject it.
template <class OnField>
ParseStatus parse_fields(FieldLines& fields, std::string_view data, const Limits& limits,
                         ParseError& error, OnField on_field) noexcept {
  const std::size_t window = std::min(data.size(), limits.max_head_bytes);
  const char* const base = data.data();
  const char* const end = base + window;
  const auto fail = [&](ParseError why) {
    error = why;
    return ParseStatus::error;
  };
  const auto incomplete = [&](const char* at) {
    fields.scanned = static_cast<std::size_t>(at - base);
    if (window < limits.max_head_bytes) return ParseStatus::incomplete;
    return fail(ParseError::headers_too_large);
  };
  for (;;) {
    const char* const line = base + fields.next_line;
    const char* p = base + fields.scanned;
    if (fields.colon == 0) {
      if (p == line && p != end && !is_token(*p)) {  // the empty line, or no name
        if (*p == '\r' && p + 1 == end) return incomplete(p);
        if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
          fields.next_line = fields.scanned = static_cast<std::size_t>(p + (*p == '\r') + 1 - base);
          return ParseStatus::complete;
        }
        return fail(is_ows(*p) ? ParseError::obsolete_line_folding : ParseError::bad_header);
      }
      p = skip_token(p, end);
      if (p == end) return incomplete(p);
      if (*p != ':') return fail(ParseError::bad_header);
      fields.colon = static_cast<std::size_t>(p - base);
      ++p;
    }
    p = skip_field_value(p, end);
    if (p == end || (*p == '\r' && p + 1 == end)) return incomplete(p);
    if (*p != '\n' && (*p != '\r' || p[1] != '\n')) return fail(ParseError::bad_header);
    if (fields.spans.size() == limits.max_headers) return fail(ParseError::too_many_headers);
    if (fields.spans.size() == fields.spans.capacity() && !grow(fields, limits)) {
      return fail(ParseError::too_many_headers);
    }
    const char* value = base + fields.colon + 1;
    const char* value_end = p;
    while (value != value_end && is_ows(*value))
      ++value;
    while (value_end != value && is_ows(value_end[-1]))
      --value_end;
    const FieldSpan span{static_cast<std::uint32_t>(line - base),
                         static_cast<std::uint32_t>(fields.colon - fields.next_line),
                         static_cast<std::uint32_t>(value - base),
                         static_cast<std::uint32_t>(value_end - value)};
    const ParseError rejected = on_field(view(data, span.name_offset, span.name_size),
                                         view(data, span.value_offset, span.value_size));
    if (rejected != ParseError::none) return fail(rejected);
    fields.spans.push_back(span);
    fields.next_line = fields.scanned = static_cast<std::size_t>(p + (*p == '\r') + 1 - base);
    fields.colon = 0;
  }
}

void make_header_views(FieldLines& fields, std::string_view data) noexcept {
  fields.headers.clear();
  for (const FieldSpan& span : fields.spans) {
    fields.headers.push_back({view(data, span.name_offset, span.name_size),
                              view(data, span.value_offset, span.value_size)});
  }
}

void clear(FieldLines& fields) noexcept {
  fields.spans.clear();
  fields.headers.clear();
  fields.next_line = 0;
  fields.scanned = 0;
  fields.colon = 0;
}

Limits clamped(Limits limits) noexcept {
  limits.max_head_bytes = std::min(limits.max_head_bytes, max_offset);
  limits.max_request_line = std::min(limits.max_request_line, max_offset);
  return limits;
}

// "HTTP/1.x": the minor version, as RFC 9112 2.3 has it processed (1.2 is read as 1.1, the
// highest we implement); -1 for another major version, -2 for no version at all.
constexpr int other_major = -1;
constexpr int not_a_version = -2;
int parse_version(std::string_view text) noexcept {
  if (text.size() != 8 || text.substr(0, 5) != "HTTP/" || !is_digit(text[5]) || text[6] != '.' ||
      !is_digit(text[7])) {
    return not_a_version;
  }
  if (text[5] != '1') return other_major;
  return text[7] == '0' ? 0 : 1;
}

bool keep_alive(int version_minor, const Framing& framing) noexcept {
  if (framing.connection_close) return false;
  return version_minor >= 1 || framing.connection_keep_alive;
}

}  // namespace

std::string_view describe(ParseError error) noexcept {
  switch (error) {
    case ParseError::none:
      return "no error";
    case ParseError::bad_request_line:
      return "malformed request line";
    case ParseError::bad_method:
      return "method is not a token";
    case ParseError::bad_target:
      return "malformed request target";
    case ParseError::bad_version:
      return "malformed HTTP version";
    case ParseError::unsupported_version:
      return "unsupported HTTP version";
    case ParseError::request_line_too_long:
      return "request line too long";
    case ParseError::bad_status_line:
      return "malformed status line";
    case ParseError::bad_header:
      return "malformed header field";
    case ParseError::obsolete_line_folding:
      return "obsolete line folding";
    case ParseError::headers_too_large:
      return "header section too large";
    case ParseError::too_many_headers:
      return "too many header fields";
    case ParseError::bad_content_length:
      return "malformed Content-Length";
    case ParseError::conflicting_content_length:
      return "conflicting Content-Length values";
    case ParseError::content_length_with_transfer_encoding:
      return "both Content-Length and Transfer-Encoding";
    case ParseError::unsupported_transfer_encoding:
      return "unsupported transfer coding";
    case ParseError::missing_host:
      return "missing or repeated Host";
    case ParseError::bad_host:
      return "malformed Host";
    case ParseError::bad_chunk:
      return "malformed chunk";
    case ParseError::chunk_too_large:
      return "chunk too large";
  }
  return "unknown error";
}

int status_for(ParseError error) noexcept {
  switch (error) {
    case ParseError::none:
      return 200;
    case ParseError::request_line_too_long:
      return 414;
    case ParseError::headers_too_large:
    case ParseError::too_many_headers:
      return 431;
    case ParseError::unsupported_transfer_encoding:
      return 501;
    case ParseError::bad_status_line:
      return 502;
    case ParseError::unsupported_version:
      return 505;
    default:
      return 400;
  }
}

std::string_view trim_ows(std::string_view text) noexcept {
  while (!text.empty() && is_ows(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_ows(text.back()))
    text.remove_suffix(1);
  return text;
}

bool is_token(std::string_view text) noexcept {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return is_token(c); });
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return text::lower(x) == text::lower(y);
         });
}

bool has_token(std::string_view list, std::string_view token) noexcept {
  return !for_each_element(list,
                           [&](std::string_view element) { return !iequals(element, token); });
}

std::string_view Message::header(std::string_view name) const noexcept {
  for (const Header& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

bool Message::has_header(std::string_view name) const noexcept {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const Header& h) { return iequals(h.name, name); });
}

namespace detail {

HeadParser::HeadParser(Limits limits) : limits_(clamped(limits)) {
  reserve(fields_, limits_);
}

void HeadParser::reset_head() noexcept {
  clear(fields_);
  framing_ = {};
  error_ = ParseError::none;
  stage_ = HeadStage::start_line;
}

ParseStatus HeadParser::fail(ParseError error) noexcept {
  error_ = error;
  stage_ = HeadStage::failed;
  return ParseStatus::error;
}

ParseStatus HeadParser::find_start_line(std::string_view data, std::size_t start,
                                        std::size_t& end) noexcept {
  const std::size_t window = std::min(data.size(), limits_.max_head_bytes);
  // The line's content may take max_request_line bytes, then CR LF.
  const std::size_t line_window = std::min(window, start + limits_.max_request_line + 2);
  const std::size_t lf = find_lf(data, std::max(fields_.scanned, start), line_window);
  if (lf == npos) {
    fields_.scanned = line_window;
    const std::size_t seen = line_window - start;
    if (seen > limits_.max_request_line + 1 ||
        (seen == limits_.max_request_line + 1 && data[line_window - 1] != '\r')) {
      return fail(ParseError::request_line_too_long);
    }
    if (window == limits_.max_head_bytes) return fail(ParseError::headers_too_large);
    return ParseStatus::incomplete;
  }
  end = content_end(data, start, lf);
  if (end - start > limits_.max_request_line) return fail(ParseError::request_line_too_long);
  fields_.next_line = fields_.scanned = lf + 1;
  return ParseStatus::complete;
}

template <class Parser, class Message>
ParseStatus MessageParser<Parser, Message>::parse(std::string_view data) noexcept {
  Parser& parser = static_cast<Parser&>(*this);
  if (data.size() < fields_.scanned) return ParseStatus::incomplete;  // not the same message
  switch (stage_) {
    case HeadStage::failed:
      return ParseStatus::error;
    case HeadStage::complete:
      make_views(data);
      return ParseStatus::complete;
    case HeadStage::start_line: {
      const ParseStatus status = parser.parse_start_line(data);
      if (status != ParseStatus::complete) return status;
      stage_ = HeadStage::fields;
      break;
    }
    case HeadStage::fields:
      break;
  }
  const ParseStatus status = parse_fields(fields_, data, limits_, error_,
                                          [this](std::string_view name, std::string_view value) {
                                            return note_field(framing_, name, value);
                                          });
  if (status == ParseStatus::error) return fail(error_);
  if (status == ParseStatus::incomplete) return status;
  return parser.finish(data);
}

template <class Parser, class Message>
void MessageParser<Parser, Message>::reset() noexcept {
  reset_head();
  message_ = {};
}

template <class Parser, class Message>
ParseStatus MessageParser<Parser, Message>::complete_message(std::string_view data, BodyKind body,
                                                             bool keeps_alive) noexcept {
  stage_ = HeadStage::complete;
  message_.version_minor = version_minor_;
  message_.body = body;
  message_.content_length = body == BodyKind::length ? framing_.content_length : 0;
  message_.keep_alive = keeps_alive;
  message_.head_size = fields_.next_line;
  make_views(data);
  return ParseStatus::complete;
}

template <class Parser, class Message>
void MessageParser<Parser, Message>::make_views(std::string_view data) noexcept {
  make_header_views(fields_, data);
  message_.headers = fields_.headers;
  static_cast<Parser&>(*this).make_start_line_views(data);
}

}  // namespace detail

// --- RequestParser

RequestParser::RequestParser(Limits limits) : MessageParser(limits) {}

// Skips the empty lines before the request line (RFC 9112 2.2) and parses it.
ParseStatus RequestParser::parse_start_line(std::string_view data) noexcept {
  const std::size_t window = std::min(data.size(), limits_.max_head_bytes);
  std::size_t start = fields_.next_line;
  while (start < window && (data[start] == '\n' || data[start] == '\r')) {
    if (data[start] == '\r') {
      if (start + 1 == window) break;
      if (data[start + 1] != '\n') return fail(ParseError::bad_request_line);
      ++start;
    }
    fields_.next_line = fields_.scanned = ++start;
  }
  std::size_t end = 0;
  if (const ParseStatus status = find_start_line(data, start, end); status != ParseStatus::complete)
    return status;

  const char* const base = data.data();
  const char* const line_end = base + end;
  const char* p = base + start;
  while (p != line_end && is_token(*p))
    ++p;
  if (p == line_end || *p == '\r') return fail(ParseError::bad_request_line);
  if (p == base + start || *p != ' ') return fail(ParseError::bad_method);
  method_offset_ = static_cast<std::uint32_t>(start);
  method_size_ = static_cast<std::uint32_t>(p - (base + start));

  const char* const target = p + 1;
  p = skip_target(target, line_end);
  if (p == target) return fail(ParseError::bad_target);
  if (p == line_end) return fail(ParseError::unsupported_version);  // HTTP/0.9: no version
  if (*p == '\r') return fail(ParseError::bad_request_line);
  if (*p != ' ') return fail(ParseError::bad_target);
  target_offset_ = static_cast<std::uint32_t>(target - base);
  target_size_ = static_cast<std::uint32_t>(p - target);

  const std::string_view version(p + 1, static_cast<std::size_t>(line_end - (p + 1)));
  version_minor_ = parse_version(version);
  if (version_minor_ == other_major) return fail(ParseError::unsupported_version);
  if (version_minor_ == not_a_version) {
    if (version.find('\r') != npos) return fail(ParseError::bad_request_line);
    // "GET /a b HTTP/1.1": a space in the target, not a bad version.
    const std::size_t space = version.rfind(' ');
    if (space != npos && parse_version(version.substr(space + 1)) >= 0) {
      return fail(ParseError::bad_target);
    }
    return fail(ParseError::bad_version);
  }
  return ParseStatus::complete;
}

ParseStatus RequestParser::finish(std::string_view data) noexcept {
  const Framing& f = framing_;
  BodyKind body = BodyKind::none;
  if (f.has_transfer_encoding) {
    if (f.has_content_length) return fail(ParseError::content_length_with_transfer_encoding);
    // Only chunked, once: a server may not accept codings it does not decode, and an
    // HTTP/1.0 message with Transfer-Encoding is faulty (RFC 9112 6.1).
    if (f.other_coding || f.chunked != 1 || version_minor_ == 0) {
      return fail(ParseError::unsupported_transfer_encoding);
    }
    body = BodyKind::chunked;
  } else if (f.has_content_length) {
    body = BodyKind::length;
  }
  if (f.hosts > 1 || (f.hosts == 0 && version_minor_ >= 1)) return fail(ParseError::missing_host);
  if (f.bad_host) return fail(ParseError::bad_host);

  return complete_message(data, body, keep_alive(version_minor_, f));
}

void RequestParser::make_start_line_views(std::string_view data) noexcept {
  message_.method = view(data, method_offset_, method_size_);
  message_.target = view(data, target_offset_, target_size_);
}

// --- ResponseParser

ResponseParser::ResponseParser(Limits limits) : MessageParser(limits) {}

void ResponseParser::set_request_method(std::string_view method) noexcept {
  head_request_ = method == "HEAD";
  connect_request_ = method == "CONNECT";
}

// "HTTP/1.1 200 OK": the version, a three-digit code and an optional reason (a missing space
// before an empty reason is tolerated, as clients do).
ParseStatus ResponseParser::parse_start_line(std::string_view data) noexcept {
  std::size_t end = 0;
  if (const ParseStatus status = find_start_line(data, 0, end); status != ParseStatus::complete)
    return status;

  const std::string_view line = data.substr(0, end);
  version_minor_ = parse_version(line.substr(0, 8));
  if (version_minor_ == other_major) return fail(ParseError::unsupported_version);
  if (version_minor_ == not_a_version || line.size() < 12 || line[8] != ' ' || !is_digit(line[9]) ||
      !is_digit(line[10]) || !is_digit(line[11]) || line[9] == '0') {
    return fail(ParseError::bad_status_line);
  }
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  std::size_t reason = 12;
  if (line.size() > 12) {
    if (line[12] != ' ') return fail(ParseError::bad_status_line);
    reason = 13;
  }
  if (skip_field_value(line.data() + reason, line.data() + line.size()) !=
      line.data() + line.size()) {
    return fail(ParseError::bad_status_line);
  }
  reason_offset_ = static_cast<std::uint32_t>(reason);
  reason_size_ = static_cast<std::uint32_t>(line.size() - reason);
  return ParseStatus::complete;
}

ParseStatus ResponseParser::finish(std::string_view data) noexcept {
  const Framing& f = framing_;
  if (f.has_transfer_encoding && f.has_content_length) {
    return fail(ParseError::content_length_with_transfer_encoding);
  }
  BodyKind body = BodyKind::until_close;
  // RFC 9112 6.3: these replies end with their head, whatever their fields say.
  if (head_request_ || status_ < 200 || status_ == 204 || status_ == 304 ||
      (connect_request_ && status_ < 300)) {
    body = BodyKind::none;
  } else if (f.has_transfer_encoding) {
    if (f.chunked > 1 || (f.chunked == 1 && !f.final_chunked)) {
      return fail(ParseError::unsupported_transfer_encoding);
    }
    // Another final coding, or any in an HTTP/1.0 reply, ends with the connection.
    if (f.final_chunked && version_minor_ >= 1) body = BodyKind::chunked;
  } else if (f.has_content_length) {
    body = BodyKind::length;
  }

  message_.status = status_;
  return complete_message(data, body,
                          body != BodyKind::until_close && keep_alive(version_minor_, f));
}

void ResponseParser::make_start_line_views(std::string_view data) noexcept {
  message_.reason = view(data, reason_offset_, reason_size_);
}

// --- ChunkedDecoder

ChunkedDecoder::ChunkedDecoder(Limits limits) : limits_(clamped(limits)) {
  reserve(trailers_, limits_);
}

void ChunkedDecoder::reset() noexcept {
  state_ = State::size;
  error_ = ParseError::none;
  remaining_ = 0;
  size_digits_ = 0;
  line_bytes_ = 0;
  clear(trailers_);
}

// consumed: the framing accepted before the error.
ChunkedDecoder::Step ChunkedDecoder::fail(ParseError error, std::size_t consumed) noexcept {
  error_ = error;
  state_ = State::failed;
  return {ParseStatus::error, consumed, {}};
}

// One byte of the framing around the data: none, or why it is malformed.
ParseError ChunkedDecoder::step_framing(char c) noexcept {
  switch (state_) {
    case State::size:
      if (const int digit = hex_value(c); digit >= 0) {
        if (remaining_ > max_length >> 4) return ParseError::chunk_too_large;
        remaining_ = remaining_ << 4 | static_cast<std::uint64_t>(digit);
        ++size_digits_;
      } else if (size_digits_ > 0 && c == '\r') {
        state_ = State::size_lf;
      } else if (size_digits_ > 0 && c == ';') {
        state_ = State::extension;
      } else if (size_digits_ > 0 && is_ows(c)) {
        state_ = State::size_ws;
      } else {
        return ParseError::bad_chunk;
      }
      break;
    case State::size_ws:  // BWS, allowed only before an extension (RFC 9112 7.1.1)
      if (c == ';')
        state_ = State::extension;
      else if (!is_ows(c))
        return ParseError::bad_chunk;
      break;
    case State::extension:
      if (c == '\r')
        state_ = State::size_lf;
      else if (is_ctl(c))
        return ParseError::bad_chunk;
      break;
    case State::size_lf:
      if (c != '\n') return ParseError::bad_chunk;
      state_ = remaining_ == 0 ? State::trailer : State::data;
      size_digits_ = 0;
      line_bytes_ = 0;
      return ParseError::none;
    case State::data_cr:
      if (c != '\r') return ParseError::bad_chunk;
      state_ = State::data_lf;
      return ParseError::none;
    case State::data_lf:
      if (c != '\n') return ParseError::bad_chunk;
      state_ = State::size;
      return ParseError::none;
    default:
      return ParseError::bad_chunk;
  }
  return ++line_bytes_ > limits_.max_request_line ? ParseError::bad_chunk : ParseError::none;
}

ChunkedDecoder::Step ChunkedDecoder::decode(std::string_view input) noexcept {
  if (state_ == State::done) return {ParseStatus::complete, 0, {}};
  if (state_ == State::failed) return {ParseStatus::error, 0, {}};
  std::size_t pos = 0;
  std::string_view data;
  while (pos < input.size() || state_ == State::trailer) {
    if (state_ == State::data) {
      if (!data.empty()) break;  // one piece of data per call
      const auto take =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - pos));
      data = input.substr(pos, take);
      pos += take;
      remaining_ -= take;
      if (remaining_ == 0) state_ = State::data_cr;
      continue;
    }
    if (state_ == State::trailer) {
      if (!data.empty()) break;  // the trailer section starts the next call's input
      const std::string_view section = input.substr(pos);
      const ParseStatus status =
          parse_fields(trailers_, section, limits_, error_,
                       [](std::string_view, std::string_view) { return ParseError::none; });
      if (status == ParseStatus::error) return fail(error_, pos);
      if (status == ParseStatus::incomplete) return {ParseStatus::incomplete, pos, data};
      make_header_views(trailers_, section);
      state_ = State::done;
      return {ParseStatus::complete, pos + trailers_.next_line, data};
    }
    const ParseError error = step_framing(input[pos]);
    if (error != ParseError::none) {
      // Data already found is handed out; the next call reports the error.
      if (!data.empty()) break;
      return fail(error, pos);
    }
    ++pos;
  }
  return {ParseStatus::incomplete, pos, data};
}

// The two parsers' parse and reset, defined here.
template class detail::MessageParser<RequestParser, Request>;
template class detail::MessageParser<ResponseParser, Response>;

}  // namespace sockit::http
