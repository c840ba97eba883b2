// The HTTP/1.1 parsers: tables of valid and malformed requests, responses and chunked bodies,
// each also fed one byte at a time into a buffer that moves between calls, and placed right
// before an inaccessible page so that reading one byte too far crashes.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/http_requests.hpp"
#include "sockit/http/parser.hpp"

namespace sockit::http {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;
using namespace std::string_literals;

// Messages longer than this are fed every `long_stride` bytes rather than every byte, to keep
// the copies of every prefix cheap.
constexpr std::size_t every_prefix_limit = 16 * 1024;
constexpr std::size_t long_stride = 61;

// The prefix sizes a message is fed in, the whole last.
std::vector<std::size_t> prefix_sizes(std::size_t size) {
  const std::size_t stride = size > every_prefix_limit ? long_stride : 1;
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n < size; n += stride)
    sizes.push_back(n);
  sizes.push_back(size);
  return sizes;
}

// Pages mapped so that the last is inaccessible: text placed with place() ends right before
// it, and a read past its end faults.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t capacity) {
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    usable_ = (capacity + page - 1) / page * page;
    mapped_ = usable_ + page;
    base_ = static_cast<char*>(
        ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) throw std::runtime_error("mmap failed");
    if (::mprotect(base_ + usable_, page, PROT_NONE) != 0) {
      ::munmap(base_, mapped_);
      throw std::runtime_error("mprotect failed");
    }
  }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;
  ~GuardedBuffer() { ::munmap(base_, mapped_); }

  std::string_view place(std::string_view text) {
    char* const start = base_ + usable_ - text.size();
    if (!text.empty()) std::memcpy(start, text.data(), text.size());
    return {start, text.size()};
  }

 private:
  char* base_ = nullptr;
  std::size_t usable_ = 0;
  std::size_t mapped_ = 0;
};

// Whether view lies inside buffer.
bool inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

void expect_views_inside(const Message& message, std::string_view buffer) {
  for (const Header& h : message.headers) {
    EXPECT_TRUE(inside(h.name, buffer)) << h.name;
    EXPECT_TRUE(inside(h.value, buffer)) << h.value;
  }
}

void expect_fields(const Message& message, const Fields& fields) {
  ASSERT_EQ(message.headers.size(), fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    EXPECT_EQ(message.headers[i].name, fields[i].first);
    EXPECT_EQ(message.headers[i].value, fields[i].second);
  }
}

enum class Feed {
  whole,     // in one call
  bytewise,  // one byte more each call, in a buffer that moves and is scribbled over after
  guarded,   // one byte more each call, ending right before an inaccessible page
};
constexpr Feed all_feeds[] = {Feed::whole, Feed::bytewise, Feed::guarded};

const char* to_string(Feed feed) {
  switch (feed) {
    case Feed::whole:
      return "whole";
    case Feed::bytewise:
      return "bytewise";
    case Feed::guarded:
      return "guarded";
  }
  return "?";
}

// Feeds text to parser; before the end, every prefix must be incomplete (or the final error,
// once it is found). check(status, buffer) then looks at the parser's last answer, whose
// views point into buffer.
template <class Parser, class Check>
void feed(Parser& parser, Feed how, std::string_view text, Check check) {
  SCOPED_TRACE(to_string(how));
  std::string buffers[2];
  std::optional<GuardedBuffer> guarded;
  if (how == Feed::guarded) guarded.emplace(text.size());
  const std::vector<std::size_t> sizes =
      how == Feed::whole ? std::vector<std::size_t>{text.size()} : prefix_sizes(text.size());
  std::string_view buffer;
  ParseStatus status = ParseStatus::incomplete;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::string_view prefix = text.substr(0, sizes[i]);
    if (guarded) {
      buffer = guarded->place(prefix);
    } else {
      buffers[i % 2].assign(prefix);
      buffer = buffers[i % 2];
      std::string& previous = buffers[(i + 1) % 2];
      std::fill(previous.begin(), previous.end(), '\x7f');
    }
    status = parser.parse(buffer);
    if (sizes[i] < text.size() && status == ParseStatus::complete) {
      ADD_FAILURE() << "complete after " << sizes[i] << " of " << text.size() << " bytes";
    }
  }
  check(status, buffer);
}

// --- Requests

struct ValidRequest {
  std::string text;
  std::string method;
  std::string target;
  Fields fields;
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = true;
  int version_minor = 1;
};

const std::string chrome_get(sockit::test::chrome_get);

const std::vector<ValidRequest>& valid_requests() {
  static const std::vector<ValidRequest> requests = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", {{"Host", "a"}}},
      {"GET /index.html HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: curl/7.88.1\r\n"
       "Accept: */*\r\n\r\n",
       "GET",
       "/index.html",
       {{"Host", "localhost:8080"}, {"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}}},
      {chrome_get,
       "GET",
       "/assets/app.js?v=3",
       {{"Host", "www.example.com"},
        {"Connection", "keep-alive"},
        {"sec-ch-ua",
         "\"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\""},
        {"sec-ch-ua-mobile", "?0"},
        {"User-Agent",
         "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0.6367.91 Safari/537.36"},
        {"sec-ch-ua-platform", "\"Linux\""},
        {"Accept", "*/*"},
        {"Sec-Fetch-Site", "same-origin"},
        {"Sec-Fetch-Mode", "no-cors"},
        {"Sec-Fetch-Dest", "script"},
        {"Referer", "https://www.example.com/"},
        {"Accept-Encoding", "gzip, deflate, br, zstd"},
        {"Accept-Language", "en-US,en;q=0.9"}}},
      {"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
       "POST",
       "/form",
       {{"Host", "a"}, {"Content-Length", "11"}},
       BodyKind::length,
       11},
      {"POST /empty HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
       "POST",
       "/empty",
       {{"Host", "a"}, {"Content-Length", "0"}},
       BodyKind::length,
       0},
      {"PUT /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
       "PUT",
       "/up",
       {{"Host", "a"}, {"Transfer-Encoding", "chunked"}},
       BodyKind::chunked},
      {"PUT /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n",
       "PUT",
       "/up",
       {{"Host", "a"}, {"Transfer-Encoding", "Chunked"}},
       BodyKind::chunked},
      // A list of equal lengths, in one field or several, is one length.
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
       "POST",
       "/",
       {{"Host", "a"}, {"Content-Length", "5, 5"}, {"Content-Length", "5"}},
       BodyKind::length,
       5},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0009223372036854775807\r\n\r\n",
       "POST",
       "/",
       {{"Host", "a"}, {"Content-Length", "0009223372036854775807"}},
       BodyKind::length,
       9223372036854775807u},
      {"GET / HTTP/1.0\r\n\r\n", "GET", "/", {}, BodyKind::none, 0, false, 0},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
       "GET",
       "/",
       {{"Connection", "Keep-Alive"}},
       BodyKind::none,
       0,
       true,
       0},
      {"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n",
       "GET",
       "/",
       {{"Host", "a"}, {"Connection", "Upgrade, CLOSE"}},
       BodyKind::none,
       0,
       false},
      // RFC 9112 2.3: a higher minor version is processed as the highest we implement.
      {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", "GET", "/", {{"Host", "a"}}},
      // RFC 9112 2.2: empty lines before the request line, and bare LF line ends.
      {"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "GET", "/", {{"Host", "a"}}},
      {"\nGET / HTTP/1.1\nHost: a\n\n", "GET", "/", {{"Host", "a"}}},
      {"GET / HTTP/1.1\r\nHost: a\r\nX:  \t v a l \t \r\nEmpty:\r\nSpaces:   \r\n\r\n",
       "GET",
       "/",
       {{"Host", "a"}, {"X", "v a l"}, {"Empty", ""}, {"Spaces", ""}}},
      {"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9\r\n\r\n",
       "GET",
       "/caf\xc3\xa9",
       {{"Host", "a"}, {"X-Name", "caf\xc3\xa9"}}},
      {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS", "*", {{"Host", "a"}}},
      {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
       "CONNECT",
       "example.com:443",
       {{"Host", "example.com:443"}}},
      {"GET http://example.com/a?b=c HTTP/1.1\r\nHost: example.com\r\n\r\n",
       "GET",
       "http://example.com/a?b=c",
       {{"Host", "example.com"}}},
      {"M-SEARCH * HTTP/1.1\r\nHOST: 192.0.2.250:1900\r\n\r\n",
       "M-SEARCH",
       "*",
       {{"HOST", "192.0.2.250:1900"}}},
      {"GET / HTTP/1.1\r\nHost:\r\n\r\n", "GET", "/", {{"Host", ""}}},
      {"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "GET", "/", {{"Host", "[::1]:8080"}}},
      {"GET / HTTP/1.1\r\nHost: xn--bcher-kva.example_1~%41!$&'()*+,;=\r\n\r\n",
       "GET",
       "/",
       {{"Host", "xn--bcher-kva.example_1~%41!$&'()*+,;="}}},
      {"GET / HTTP/1.1\r\nhost: a\r\n!#$%&'*+-.^_`|~09azAZ: x\r\n\r\n",
       "GET",
       "/",
       {{"host", "a"}, {"!#$%&'*+-.^_`|~09azAZ", "x"}}},
      {"GET / HTTP/1.1\r\nHost: a\r\nTab:\tx\ty\t\r\n\r\n",
       "GET",
       "/",
       {{"Host", "a"}, {"Tab", "x\ty"}}},
  };
  return requests;
}

void expect_request(const ParseStatus status, const Request& r, std::string_view buffer,
                    const ValidRequest& expected) {
  ASSERT_EQ(status, ParseStatus::complete);
  EXPECT_EQ(r.method, expected.method);
  EXPECT_EQ(r.target, expected.target);
  EXPECT_EQ(r.version_minor, expected.version_minor);
  EXPECT_EQ(r.body, expected.body);
  EXPECT_EQ(r.content_length, expected.content_length);
  EXPECT_EQ(r.keep_alive, expected.keep_alive);
  EXPECT_EQ(r.head_size, expected.text.size());
  expect_fields(r, expected.fields);
  EXPECT_TRUE(inside(r.method, buffer));
  EXPECT_TRUE(inside(r.target, buffer));
  expect_views_inside(r, buffer);
}

TEST(HttpRequestParser, ParsesEveryValidRequestWhateverTheFeed) {
  for (const auto& expected : valid_requests()) {
    SCOPED_TRACE(expected.text);
    for (Feed how : all_feeds) {
      RequestParser parser;
      feed(parser, how, expected.text, [&](ParseStatus status, std::string_view buffer) {
        expect_request(status, parser.request(), buffer, expected);
        EXPECT_EQ(parser.error(), ParseError::none);
      });
    }
  }
}

struct Malformed {
  std::string text;
  ParseError error;
};

std::string many_fields(std::size_t count, std::size_t value_size) {
  std::string fields;
  for (std::size_t i = 0; i < count; ++i)
    fields += "X-" + std::to_string(i) + ": " + std::string(value_size, 'v') + "\r\n";
  return fields;
}

const std::vector<Malformed>& malformed_requests() {
  using E = ParseError;
  static const std::vector<Malformed> requests = {
      {"GET\r\n\r\n", E::bad_request_line},
      {"GET / HTTP/1.1\rX\r\nHost: a\r\n\r\n", E::bad_request_line},
      {"GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_request_line},
      {"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_request_line},
      {"GET\r/ HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_request_line},
      {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_method},
      {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_method},
      {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_method},
      {"G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_method},
      {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_target},
      {"GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_target},
      {"GET /a\x7fz HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_target},
      {"GET /a\tz HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_target},
      {"GET /a\0z HTTP/1.1\r\nHost: a\r\n\r\n"s, E::bad_target},
      {"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", E::bad_target},
      {"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / http/1.1\r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / HTTP/1\r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / HTTP/11.1\r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / \r\nHost: a\r\n\r\n", E::bad_version},
      {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", E::unsupported_version},
      {"GET / HTTP/0.9\r\n\r\n", E::unsupported_version},
      {"GET /\r\n\r\n", E::unsupported_version},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", E::request_line_too_long},
      {"GET /" + std::string(9000, 'a'), E::request_line_too_long},
      {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"s, E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1b[31m\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX(: a\r\n\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", E::bad_header},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n  folded\r\n\r\n", E::obsolete_line_folding},
      {"GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", E::obsolete_line_folding},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + many_fields(50, 1500) + "\r\n", E::headers_too_large},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(70000, 'v'), E::headers_too_large},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + many_fields(100, 1) + "\r\n", E::too_many_headers},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,,5\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n",
       E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
       E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       E::conflicting_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", E::conflicting_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       E::content_length_with_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
       E::content_length_with_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
       "Transfer-Encoding: chunked\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", E::unsupported_transfer_encoding},
      {"GET / HTTP/1.1\r\n\r\n", E::missing_host},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", E::missing_host},
      {"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", E::missing_host},
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.1\r\nHost: a#b\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", E::bad_host},
      {"GET / HTTP/1.0\r\nHost: ../etc\r\n\r\n", E::bad_host},
  };
  return requests;
}

TEST(HttpRequestParser, RejectsEveryMalformedRequestWhateverTheFeed) {
  for (const auto& bad : malformed_requests()) {
    SCOPED_TRACE(bad.text.substr(0, 200));
    for (Feed how : all_feeds) {
      RequestParser parser;
      feed(parser, how, bad.text, [&](ParseStatus status, std::string_view) {
        EXPECT_EQ(status, ParseStatus::error);
        EXPECT_EQ(parser.error(), bad.error) << describe(parser.error());
      });
      // The parser stays in error.
      EXPECT_EQ(parser.parse(bad.text), ParseStatus::error);
    }
  }
}

TEST(HttpRequestParser, FindsAnOverlongLineBeforeItEnds) {
  const Limits limits;
  RequestParser parser;
  const std::string line = "GET /" + std::string(limits.max_request_line, 'a');
  EXPECT_EQ(parser.parse(line.substr(0, limits.max_request_line)), ParseStatus::incomplete);
  EXPECT_EQ(parser.parse(line.substr(0, limits.max_request_line + 1)), ParseStatus::error);
  EXPECT_EQ(parser.error(), ParseError::request_line_too_long);
}

TEST(HttpRequestParser, FindsAnOverlargeHeadBeforeItEnds) {
  const Limits limits;
  RequestParser parser;
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  head.resize(limits.max_head_bytes, 'v');
  EXPECT_EQ(parser.parse(head), ParseStatus::error);
  EXPECT_EQ(parser.error(), ParseError::headers_too_large);
}

// The field tables start small and grow: the default limit's 100 fields all arrive, each
// view right, also when the head comes in pieces and the parser is reused.
TEST(HttpRequestParser, TheFieldTablesGrowToTheLimit) {
  RequestParser parser;
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\n" + many_fields(99, 3) + "\r\n";
  for (int round = 0; round < 2; ++round) {
    ParseStatus status = ParseStatus::incomplete;
    for (std::size_t end = 100; status == ParseStatus::incomplete; end += 100)
      status = parser.parse(std::string_view(head).substr(0, std::min(end, head.size())));
    ASSERT_EQ(status, ParseStatus::complete);
    const auto& headers = parser.request().headers;
    ASSERT_EQ(headers.size(), 100u);
    EXPECT_EQ(headers.front().name, "Host");
    EXPECT_EQ(headers.back().name, "X-98");
    EXPECT_EQ(headers.back().value, "vvv");
    parser.reset();
  }
}

// Each limit: reached is fine, one more is an error.
TEST(HttpRequestParser, LimitsAreInclusive) {
  const Limits limits{.max_request_line = 20, .max_head_bytes = 80, .max_headers = 3};
  const std::string line = "GET /" + std::string(6, 'a') + " HTTP/1.1\r\n";  // 20 bytes + CRLF
  ASSERT_EQ(line.size(), 22u);
  const auto parse = [&](const std::string& text) {
    RequestParser parser(limits);
    const ParseStatus status = parser.parse(text);
    return status == ParseStatus::error ? parser.error() : ParseError::none;
  };
  const std::string three = "Host: a\r\nB: b\r\nC: c\r\n";
  EXPECT_EQ(parse(line + three + "\r\n"), ParseError::none);
  EXPECT_EQ(parse(line + three + "D: d\r\n\r\n"), ParseError::too_many_headers);
  const std::string longer = "GET /" + std::string(7, 'a') + " HTTP/1.1\r\n";
  EXPECT_EQ(parse(longer + three + "\r\n"), ParseError::request_line_too_long);

  std::string full = line + "Host: a\r\nX: ";
  full += std::string(limits.max_head_bytes - full.size() - 4, 'v') + "\r\n\r\n";
  ASSERT_EQ(full.size(), limits.max_head_bytes);
  EXPECT_EQ(parse(full), ParseError::none);
  EXPECT_EQ(parse(full.substr(0, full.size() - 4) + "v\r\n\r\n"), ParseError::headers_too_large);
}

TEST(HttpRequestParser, ParsesPipelinedRequests) {
  const std::string first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  std::string buffer = first + "abc" + second;
  RequestParser parser;
  ASSERT_EQ(parser.parse(buffer), ParseStatus::complete);
  EXPECT_EQ(parser.request().target, "/a");
  ASSERT_EQ(parser.request().head_size, first.size());
  ASSERT_EQ(parser.request().body, BodyKind::length);
  buffer.erase(0, parser.request().head_size + parser.request().content_length);
  parser.reset();
  ASSERT_EQ(parser.parse(buffer), ParseStatus::complete);
  EXPECT_EQ(parser.request().target, "/b");
  EXPECT_EQ(parser.request().header("host"), "h");
  EXPECT_FALSE(parser.request().keep_alive);
  EXPECT_EQ(parser.request().head_size, buffer.size());

  // Two heads that arrive together, the second a byte at a time after the first.
  buffer = second + second;
  parser.reset();
  ASSERT_EQ(parser.parse(std::string_view(buffer).substr(0, second.size() + 5)),
            ParseStatus::complete);
  buffer.erase(0, parser.request().head_size);
  parser.reset();
  for (std::size_t n = 0; n < buffer.size(); ++n)
    ASSERT_EQ(parser.parse(std::string_view(buffer).substr(0, n)), ParseStatus::incomplete);
  EXPECT_EQ(parser.parse(buffer), ParseStatus::complete);
}

TEST(HttpRequestParser, KeepsGivingTheResultOnceComplete) {
  const std::string text = "GET /x HTTP/1.1\r\nHost: a\r\n\r\nGET /y";
  RequestParser parser;
  ASSERT_EQ(parser.parse(text), ParseStatus::complete);
  const std::string moved = text + "...";
  ASSERT_EQ(parser.parse(moved), ParseStatus::complete);
  EXPECT_TRUE(inside(parser.request().target, moved));
  EXPECT_EQ(parser.request().target, "/x");
}

// --- Responses

struct ValidResponse {
  std::string text;
  int status;
  std::string reason;
  Fields fields;
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;
  bool keep_alive = true;
  int version_minor = 1;
  std::string request_method = "GET";
};

const std::vector<ValidResponse>& valid_responses() {
  static const std::vector<ValidResponse> responses = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
       200,
       "OK",
       {{"Content-Length", "5"}},
       BodyKind::length,
       5},
      {"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
       "Content-Type: text/html\r\nContent-Length: 615\r\nLast-Modified: Tue, 11 Apr 2023 "
       "01:45:34 GMT\r\nConnection: keep-alive\r\nETag: \"6434bbbe-267\"\r\nAccept-Ranges: "
       "bytes\r\n\r\n",
       200,
       "OK",
       {{"Server", "nginx/1.22.1"},
        {"Date", "Sun, 06 Nov 1994 08:49:37 GMT"},
        {"Content-Type", "text/html"},
        {"Content-Length", "615"},
        {"Last-Modified", "Tue, 11 Apr 2023 01:45:34 GMT"},
        {"Connection", "keep-alive"},
        {"ETag", "\"6434bbbe-267\""},
        {"Accept-Ranges", "bytes"}},
       BodyKind::length,
       615},
      {"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n",
       404,
       "Not Found",
       {{"Transfer-Encoding", "chunked"}},
       BodyKind::chunked},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       200,
       "OK",
       {{"Transfer-Encoding", "gzip, chunked"}},
       BodyKind::chunked},
      {"HTTP/1.1 200 OK\r\n\r\n", 200, "OK", {}, BodyKind::until_close, 0, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
       200,
       "OK",
       {{"Transfer-Encoding", "gzip"}},
       BodyKind::until_close,
       0,
       false},
      {"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
       200,
       "OK",
       {{"Transfer-Encoding", "chunked"}},
       BodyKind::until_close,
       0,
       false,
       0},
      {"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
       200,
       "OK",
       {{"Content-Length", "100"}},
       BodyKind::none,
       0,
       true,
       1,
       "HEAD"},
      {"HTTP/1.1 204 No Content\r\n\r\n", 204, "No Content", {}},
      {"HTTP/1.1 304 Not Modified\r\nContent-Length: 615\r\n\r\n",
       304,
       "Not Modified",
       {{"Content-Length", "615"}}},
      {"HTTP/1.1 100 Continue\r\n\r\n", 100, "Continue", {}},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
       101,
       "Switching Protocols",
       {{"Upgrade", "websocket"}, {"Connection", "Upgrade"}}},
      {"HTTP/1.1 200 Connection established\r\n\r\n",
       200,
       "Connection established",
       {},
       BodyKind::none,
       0,
       true,
       1,
       "CONNECT"},
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n",
       200,
       "OK",
       {{"Content-Length", "2"}},
       BodyKind::length,
       2,
       false,
       0},
      {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n",
       200,
       "OK",
       {{"Content-Length", "2"}, {"Connection", "keep-alive"}},
       BodyKind::length,
       2,
       true,
       0},
      {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
       200,
       "OK",
       {{"Content-Length", "2"}, {"Connection", "close"}},
       BodyKind::length,
       2,
       false},
      {"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
       200,
       "",
       {{"Content-Length", "0"}},
       BodyKind::length},
      {"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
       200,
       "",
       {{"Content-Length", "0"}},
       BodyKind::length},
      {"HTTP/1.1 599 caf\xc3\xa9\tau lait\nContent-Length: 0\n\n",
       599,
       "caf\xc3\xa9\tau lait",
       {{"Content-Length", "0"}},
       BodyKind::length},
  };
  return responses;
}

TEST(HttpResponseParser, ParsesEveryValidResponseWhateverTheFeed) {
  for (const auto& expected : valid_responses()) {
    SCOPED_TRACE(expected.text);
    for (Feed how : all_feeds) {
      ResponseParser parser;
      parser.set_request_method(expected.request_method);
      feed(parser, how, expected.text, [&](ParseStatus status, std::string_view buffer) {
        ASSERT_EQ(status, ParseStatus::complete) << describe(parser.error());
        const Response& r = parser.response();
        EXPECT_EQ(r.status, expected.status);
        EXPECT_EQ(r.reason, expected.reason);
        EXPECT_EQ(r.version_minor, expected.version_minor);
        EXPECT_EQ(r.body, expected.body);
        EXPECT_EQ(r.content_length, expected.content_length);
        EXPECT_EQ(r.keep_alive, expected.keep_alive);
        EXPECT_EQ(r.head_size, expected.text.size());
        expect_fields(r, expected.fields);
        EXPECT_TRUE(inside(r.reason, buffer));
        expect_views_inside(r, buffer);
      });
    }
  }
}

const std::vector<Malformed>& malformed_responses() {
  using E = ParseError;
  static const std::vector<Malformed> responses = {
      {"HTTP/1.1 20 OK\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1 2000 OK\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1 099 Low\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1  200 OK\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1 2x0 OK\r\n\r\n", E::bad_status_line},
      {"HTTX/1.1 200 OK\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", E::bad_status_line},
      {"HTTP/1.1 200 OK\rX\r\n\r\n", E::bad_status_line},
      {"\r\nHTTP/1.1 200 OK\r\n\r\n", E::bad_status_line},
      {"HTTP/2.0 200 OK\r\n\r\n", E::unsupported_version},
      {"HTTP/0.9 200 OK\r\n\r\n", E::unsupported_version},
      {"HTTP/1.1 200 " + std::string(9000, 'r') + "\r\n\r\n", E::request_line_too_long},
      {"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", E::bad_header},
      {"HTTP/1.1 200 OK\r\nX: 1\r\n 2\r\n\r\n", E::obsolete_line_folding},
      {"HTTP/1.1 200 OK\r\n" + many_fields(101, 1) + "\r\n", E::too_many_headers},
      {"HTTP/1.1 200 OK\r\n" + many_fields(50, 1500) + "\r\n", E::headers_too_large},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1.5\r\n\r\n", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       E::conflicting_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
       E::content_length_with_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
       E::unsupported_transfer_encoding},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       E::unsupported_transfer_encoding},
  };
  return responses;
}

TEST(HttpResponseParser, RejectsEveryMalformedResponseWhateverTheFeed) {
  for (const auto& bad : malformed_responses()) {
    SCOPED_TRACE(bad.text.substr(0, 200));
    for (Feed how : all_feeds) {
      ResponseParser parser;
      feed(parser, how, bad.text, [&](ParseStatus status, std::string_view) {
        EXPECT_EQ(status, ParseStatus::error);
        EXPECT_EQ(parser.error(), bad.error) << describe(parser.error());
      });
    }
  }
}

TEST(HttpResponseParser, KeepsTheRequestMethodAcrossReset) {
  ResponseParser parser;
  parser.set_request_method("HEAD");
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_reply = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n";
  ASSERT_EQ(parser.parse(interim), ParseStatus::complete);
  EXPECT_EQ(parser.response().status, 100);
  parser.reset();
  ASSERT_EQ(parser.parse(final_reply), ParseStatus::complete);
  EXPECT_EQ(parser.response().body, BodyKind::none);
  parser.set_request_method("GET");
  parser.reset();
  ASSERT_EQ(parser.parse(final_reply), ParseStatus::complete);
  EXPECT_EQ(parser.response().body, BodyKind::length);
}

// --- Chunked bodies

struct ValidChunked {
  std::string text;
  std::string body;
  Fields trailers;
};

const std::vector<ValidChunked>& valid_chunked() {
  static const std::vector<ValidChunked> bodies = {
      {"5\r\nhello\r\n0\r\n\r\n", "hello", {}},
      {"0\r\n\r\n", "", {}},
      {"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", "hello, world", {}},
      {"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", {}},
      {"0005\r\nhello\r\n000\r\n\r\n", "hello", {}},
      {"5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", {}},
      {"5 \t;a=\"b c\";d\r\nhello\r\n0\r\n\r\n", "hello", {}},
      {"5\r\n\r\n\r\n\r\r\n0\r\n\r\n", "\r\n\r\n\r", {}},
      {"3\r\nabc\r\n0\r\nExpires: never\r\nX-Sum:  12 \r\n\r\n",
       "abc",
       {{"Expires", "never"}, {"X-Sum", "12"}}},
      {"1\r\nx\r\n0\r\nTrailer: bare LF\n\n", "x", {{"Trailer", "bare LF"}}},
  };
  return bodies;
}

struct Decoded {
  ParseStatus status = ParseStatus::incomplete;
  ParseError error = ParseError::none;
  std::string body;
  Fields trailers;
  std::size_t left = 0;  // bytes not consumed at the end
};

// Runs the decoder as its documented loop does over what has arrived (`input`), appending
// body bytes; returns whether it is done or failed.
bool drain(ChunkedDecoder& decoder, std::string& input, Decoded& out) {
  for (int round = 0; round < 100000; ++round) {
    const auto step = decoder.decode(input);
    EXPECT_LE(step.consumed, input.size());
    EXPECT_TRUE(inside(step.data, std::string_view(input).substr(0, step.consumed)));
    out.body.append(step.data);
    out.status = step.status;
    if (step.status == ParseStatus::complete) {
      for (const Header& h : decoder.trailers()) {
        EXPECT_TRUE(inside(h.name, input) && inside(h.value, input));
        out.trailers.emplace_back(h.name, h.value);
      }
    }
    input.erase(0, step.consumed);
    if (step.status == ParseStatus::error) out.error = decoder.error();
    if (step.status != ParseStatus::incomplete) return true;
    if (step.consumed == 0) return false;
  }
  ADD_FAILURE() << "the decoder loops";
  return true;
}

// Feeds text to a decoder in pieces of `piece` bytes.
Decoded decode_in_pieces(std::string_view text, std::size_t piece) {
  ChunkedDecoder decoder;
  Decoded out;
  std::string input;
  std::size_t fed = 0;
  while (fed < text.size()) {
    input.append(text.substr(fed, piece));
    fed = std::min(fed + piece, text.size());
    if (drain(decoder, input, out)) break;
  }
  out.left = input.size() + text.size() - fed;
  return out;
}

// Decodes text placed right before an inaccessible page, each time as far as it arrived.
Decoded decode_guarded(std::string_view text) {
  GuardedBuffer guarded(text.size());
  ChunkedDecoder decoder;
  Decoded out;
  std::size_t consumed = 0;
  for (std::size_t n : prefix_sizes(text.size())) {
    for (int round = 0; round < 100000; ++round) {
      const auto step = decoder.decode(guarded.place(text.substr(consumed, n - consumed)));
      out.body.append(step.data);
      consumed += step.consumed;
      out.status = step.status;
      if (step.status == ParseStatus::error) out.error = decoder.error();
      if (step.status != ParseStatus::incomplete || step.consumed == 0) break;
    }
    if (out.status != ParseStatus::incomplete) break;
  }
  out.left = text.size() - consumed;
  return out;
}

TEST(HttpChunkedDecoder, DecodesEveryValidBodyWhateverTheFeed) {
  for (const auto& expected : valid_chunked()) {
    SCOPED_TRACE(expected.text);
    for (std::size_t piece :
         {expected.text.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
      SCOPED_TRACE(piece);
      // Bytes of the next message after the body are left alone.
      const Decoded out = decode_in_pieces(expected.text + "GET", piece);
      EXPECT_EQ(out.status, ParseStatus::complete) << describe(out.error);
      EXPECT_EQ(out.body, expected.body);
      EXPECT_EQ(out.trailers, expected.trailers);
      EXPECT_EQ(out.left, 3u);
    }
    const Decoded guarded = decode_guarded(expected.text);
    EXPECT_EQ(guarded.status, ParseStatus::complete);
    EXPECT_EQ(guarded.body, expected.body);
    EXPECT_EQ(guarded.left, 0u);
  }
}

const std::vector<Malformed>& malformed_chunked() {
  using E = ParseError;
  static const std::vector<Malformed> bodies = {
      {"G\r\n", E::bad_chunk},
      {"\r\n", E::bad_chunk},
      {";ext\r\n", E::bad_chunk},
      {"-5\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"0x5\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5\r\nhelloX\r\n0\r\n\r\n", E::bad_chunk},
      {"5\r\nhello\rX0\r\n\r\n", E::bad_chunk},
      {"5\r\nhello\n0\r\n\r\n", E::bad_chunk},
      {"5\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5\rhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5 \r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5 5\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5;a\x01\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5;a\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"5;" + std::string(9000, 'x') + "\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {std::string(9000, '0') + "5\r\nhello\r\n0\r\n\r\n", E::bad_chunk},
      {"8000000000000000\r\n", E::chunk_too_large},
      {"ffffffffffffffffff\r\n", E::chunk_too_large},
      {"0\r\nBad Trailer: x\r\n\r\n", E::bad_header},
      {"0\r\nX: 1\r\n 2\r\n\r\n", E::obsolete_line_folding},
      {"0\r\n" + many_fields(101, 1) + "\r\n", E::too_many_headers},
      {"0\r\n" + many_fields(50, 1500) + "\r\n", E::headers_too_large},
  };
  return bodies;
}

TEST(HttpChunkedDecoder, RejectsEveryMalformedBodyWhateverTheFeed) {
  for (const auto& bad : malformed_chunked()) {
    SCOPED_TRACE(bad.text.substr(0, 200));
    for (std::size_t piece : {bad.text.size(), std::size_t{1}, std::size_t{3}}) {
      SCOPED_TRACE(piece);
      const Decoded out = decode_in_pieces(bad.text, piece);
      EXPECT_EQ(out.status, ParseStatus::error);
      EXPECT_EQ(out.error, bad.error) << describe(out.error);
    }
    const Decoded guarded = decode_guarded(bad.text);
    EXPECT_EQ(guarded.status, ParseStatus::error);
    EXPECT_EQ(guarded.error, bad.error) << describe(guarded.error);
  }
}

TEST(HttpChunkedDecoder, TakesTheLargestChunkSizeAndWaitsForItsData) {
  ChunkedDecoder decoder;
  const auto step = decoder.decode("7fffffffffffffff\r\nabc");
  EXPECT_EQ(step.status, ParseStatus::incomplete);
  EXPECT_EQ(step.data, "abc");
  EXPECT_EQ(step.consumed, 21u);
}

TEST(HttpChunkedDecoder, HandsOutDataBeforeReportingTheErrorAfterIt) {
  ChunkedDecoder decoder;
  std::string_view input = "5\r\nhello\r\nZ\r\n";
  const auto first = decoder.decode(input);
  EXPECT_EQ(first.status, ParseStatus::incomplete);
  EXPECT_EQ(first.data, "hello");
  input.remove_prefix(first.consumed);
  EXPECT_EQ(input, "Z\r\n");
  const auto second = decoder.decode(input);
  EXPECT_EQ(second.status, ParseStatus::error);
  EXPECT_EQ(second.consumed, 0u);
  EXPECT_EQ(decoder.error(), ParseError::bad_chunk);
}

TEST(HttpChunkedDecoder, ResetStartsANewBody) {
  ChunkedDecoder decoder;
  EXPECT_EQ(decoder.decode("G").status, ParseStatus::error);
  decoder.reset();
  EXPECT_FALSE(decoder.done());
  EXPECT_EQ(decoder.decode("0\r\n\r\n").status, ParseStatus::complete);
  EXPECT_TRUE(decoder.done());
}

// --- The helpers

TEST(HttpParserHelpers, ComparesAndListsTokens) {
  EXPECT_TRUE(iequals("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a[", "A{"));
  EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(has_token(" close ", "close"));
  EXPECT_TRUE(has_token("a,,close", "close"));
  EXPECT_FALSE(has_token("closed", "close"));
  EXPECT_FALSE(has_token("", "close"));

  RequestParser parser;
  ASSERT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n"),
            ParseStatus::complete);
  EXPECT_EQ(parser.request().header("X-A"), "1");
  EXPECT_TRUE(parser.request().has_header("HOST"));
  EXPECT_FALSE(parser.request().has_header("Cookie"));
  EXPECT_EQ(parser.request().header("Cookie"), "");
}

TEST(HttpParserHelpers, DescribesEveryErrorAndMapsItToAStatus) {
  for (int e = 0; e <= static_cast<int>(ParseError::chunk_too_large); ++e) {
    const auto error = static_cast<ParseError>(e);
    EXPECT_FALSE(describe(error).empty());
    EXPECT_NE(describe(error), "unknown error");
    const int status = status_for(error);
    EXPECT_TRUE(error == ParseError::none ? status == 200 : status >= 400 && status < 600);
  }
  EXPECT_EQ(status_for(ParseError::request_line_too_long), 414);
  EXPECT_EQ(status_for(ParseError::headers_too_large), 431);
  EXPECT_EQ(status_for(ParseError::unsupported_transfer_encoding), 501);
  EXPECT_EQ(status_for(ParseError::unsupported_version), 505);
  EXPECT_EQ(status_for(ParseError::content_length_with_transfer_encoding), 400);
}

TEST(HttpParserHelpers, TheTablesCoverEveryError) {
  std::set<ParseError> covered;
  for (const auto* table : {&malformed_requests(), &malformed_responses(), &malformed_chunked()})
    for (const auto& bad : *table)
      covered.insert(bad.error);
  for (int e = 1; e <= static_cast<int>(ParseError::chunk_too_large); ++e)
    EXPECT_TRUE(covered.count(static_cast<ParseError>(e))) << describe(static_cast<ParseError>(e));
}

}  // namespace
}  // namespace sockit::http
