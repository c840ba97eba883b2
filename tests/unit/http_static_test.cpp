// The static file server's decisions, without sockets: paths, ranges, validators, dates, media
// types, and the replies StaticFiles gives for a real directory tree in the temp directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sockit/http/parser.hpp"
#include "sockit/http/static_files.hpp"

namespace sockit::test {
namespace {

namespace fs = std::filesystem;
using http::ByteRange;
using http::RangeStatus;
using http::TargetError;

struct TargetCase {
  std::string target;
  std::string path;  // empty: error expected
  TargetError error = TargetError::not_a_path;
};

TEST(HttpStatic, NormalizeTarget) {
  const std::vector<TargetCase> cases = {
      {"/", "/"},
      {"/index.html", "/index.html"},
      {"/a/b/", "/a/b/"},
      {"/a//b", "/a/b"},
      {"/a/./b", "/a/b"},
      {"/a/../b", "/b"},
      {"/a/b/..", "/a/"},
      {"/a/.", "/a/"},
      {"/%7Euser/x%20y", "/~user/x y"},
      {"/a?x=../../etc/passwd", "/a"},
      {"/a#frag", "/a"},
      {"http://example.test/x/y?z", "/x/y"},
      {"http://example.test", "/"},
      {"/..", "", TargetError::above_root},
      {"/../etc/passwd", "", TargetError::above_root},
      {"/a/../../etc/passwd", "", TargetError::above_root},
      {"/%2e%2e/etc/passwd", "", TargetError::above_root},
      {"/%2E%2E%2Fetc", "", TargetError::encoded_slash},
      {"/a%2fb", "", TargetError::encoded_slash},
      {"/a%00b", "", TargetError::nul},
      {std::string("/a\0b", 4), "", TargetError::nul},
      {"/a%zz", "", TargetError::bad_encoding},
      {"/a%4", "", TargetError::bad_encoding},
      {"/a%", "", TargetError::bad_encoding},
      {"a/b", "", TargetError::not_a_path},
      {"*", "", TargetError::not_a_path},
      {"", "", TargetError::not_a_path},
  };
  for (const auto& c : cases) {
    const auto result = http::normalize_target(c.target);
    if (c.path.empty()) {
      ASSERT_TRUE(std::holds_alternative<TargetError>(result)) << c.target;
      EXPECT_EQ(std::get<TargetError>(result), c.error) << c.target;
    } else {
      ASSERT_TRUE(std::holds_alternative<std::string>(result)) << c.target;
      EXPECT_EQ(std::get<std::string>(result), c.path) << c.target;
    }
  }
}

TEST(HttpStatic, PercentEncodeAndHtmlEscape) {
  EXPECT_EQ(http::percent_encode_path("/a b/<c>&\"d\".txt"), "/a%20b/%3Cc%3E%26%22d%22.txt");
  EXPECT_EQ(http::percent_encode_path("/plain-name_1.~"), "/plain-name_1.~");
  EXPECT_EQ(http::html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

struct RangeCase {
  std::string header;
  std::uint64_t size;
  RangeStatus status;
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};

TEST(HttpStatic, ParseRange) {
  const std::vector<RangeCase> cases = {
      {"bytes=0-9", 100, RangeStatus::satisfiable, 0, 9},
      {"bytes=10-", 100, RangeStatus::satisfiable, 10, 99},
      {"bytes=-10", 100, RangeStatus::satisfiable, 90, 99},
      {"bytes=-500", 100, RangeStatus::satisfiable, 0, 99},
      {"bytes=50-5000", 100, RangeStatus::satisfiable, 50, 99},
      {"bytes=99-99", 100, RangeStatus::satisfiable, 99, 99},
      {"bytes=100-", 100, RangeStatus::unsatisfiable},
      {"bytes=100-200", 100, RangeStatus::unsatisfiable},
      {"bytes=-0", 100, RangeStatus::unsatisfiable},
      {"bytes=0-", 0, RangeStatus::unsatisfiable},
      {"bytes=0-1,5-6", 100, RangeStatus::ignored},
      {"bytes=9-1", 100, RangeStatus::ignored},
      {"bytes=a-b", 100, RangeStatus::ignored},
      {"bytes=", 100, RangeStatus::ignored},
      {"items=0-1", 100, RangeStatus::ignored},
      {"", 100, RangeStatus::ignored},
      {"bytes=99999999999999999999999-", 100, RangeStatus::ignored},
      // An end past the file, even beyond 2^64, is the file's end (RFC 9110 14.1.2).
      {"bytes=10-99999999999999999999999", 100, RangeStatus::satisfiable, 10, 99},
      {"bytes=-99999999999999999999999", 100, RangeStatus::satisfiable, 0, 99},
  };
  for (const auto& c : cases) {
    ByteRange range;
    EXPECT_EQ(http::parse_range(c.header, c.size, range), c.status) << c.header;
    if (c.status == RangeStatus::satisfiable) {
      EXPECT_EQ(range.first, c.first) << c.header;
      EXPECT_EQ(range.last, c.last) << c.header;
    }
  }
}

TEST(HttpStatic, EtagMatchesByWeakComparison) {
  EXPECT_TRUE(http::etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(http::etag_matches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(http::etag_matches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(http::etag_matches(" * ", "\"abc\""));
  EXPECT_FALSE(http::etag_matches("\"abcd\"", "\"abc\""));
  EXPECT_FALSE(http::etag_matches("abc", "\"abc\""));
  EXPECT_FALSE(http::etag_matches("", "\"abc\""));
}

TEST(HttpStatic, AcceptsEncoding) {
  EXPECT_TRUE(http::accepts_encoding("gzip, deflate, br", "gzip"));
  EXPECT_TRUE(http::accepts_encoding("GZIP;q=0.5", "gzip"));
  EXPECT_TRUE(http::accepts_encoding("*", "gzip"));
  EXPECT_FALSE(http::accepts_encoding("gzip;q=0", "gzip"));
  EXPECT_FALSE(http::accepts_encoding("gzip;q=0.000", "gzip"));
  EXPECT_FALSE(http::accepts_encoding("deflate, br", "gzip"));
  EXPECT_FALSE(http::accepts_encoding("", "gzip"));
}

TEST(HttpStatic, HttpDatesRoundTripInEveryForm) {
  constexpr std::time_t kMoment = 784111777;  // RFC 9110's example moment
  EXPECT_EQ(http::format_http_date(kMoment), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kMoment);
  EXPECT_EQ(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kMoment);
  EXPECT_EQ(http::parse_http_date("Sun Nov  6 08:49:37 1994"), kMoment);
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(http::parse_http_date("yesterday"));
  EXPECT_FALSE(http::parse_http_date(""));
}

TEST(HttpStatic, MimeTypesFromTheBuiltInTableAndAFile) {
  http::MimeTypes types;
  EXPECT_EQ(types.lookup("index.html"), "text/html");
  EXPECT_EQ(types.lookup("/a/b/STYLE.CSS"), "text/css");
  EXPECT_EQ(types.lookup("noextension"), "application/octet-stream");
  EXPECT_EQ(types.lookup(".hidden"), "application/octet-stream");
  EXPECT_EQ(types.lookup("x.unknownext"), "application/octet-stream");
  const auto path = fs::temp_directory_path() / ("sockit-mime-" + std::to_string(::getpid()));
  std::ofstream(path) << "# comment\napplication/x-sockit-test\tsockittest skt\n";
  types.load(path.string());
  fs::remove(path);
  EXPECT_EQ(types.lookup("a.skt"), "application/x-sockit-test");
  EXPECT_EQ(types.lookup("a.SOCKITTEST"), "application/x-sockit-test");
}

// A directory tree in the temp directory, removed afterwards:
//   index.html, page.txt (+ page.txt.gz), sub/ (no index), sub/<b>&.txt,
//   inside -> page.txt, outside -> a file outside the root, fifo
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("sockit-static-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_));
    root_ = base_ / "root";
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<h1>home</h1>\n");
    write(root_ / "page.txt", std::string(1000, 'p'));
    write(root_ / "page.txt.gz", "pretend-gzip");
    write(root_ / "sub" / "<b>&.txt", "x");
    write(base_ / "secret.txt", "secret");
    fs::create_symlink("page.txt", root_ / "inside");
    fs::create_symlink(base_ / "secret.txt", root_ / "outside");
    fs::create_symlink("../secret.txt", root_ / "relative-outside");
    ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
  }

  // Parses raw as a request and answers it.
  http::Reply get(const std::string& raw, const http::StaticFilesOptions& options) {
    http::StaticFiles site(options);
    return answer(site, raw);
  }
  http::Reply answer(const http::StaticFiles& site, const std::string& raw) {
    requests_.push_back(raw);
    http::RequestParser parser;
    EXPECT_EQ(parser.parse(requests_.back()), http::ParseStatus::complete) << raw;
    http::Reply reply;
    site.respond(parser.request(), reply);
    return reply;
  }
  http::StaticFilesOptions options() const {
    http::StaticFilesOptions o;
    o.root = root_.string();
    return o;
  }
  static std::string request(const std::string& target, const std::string& extra = "",
                             const std::string& method = "GET") {
    return method + " " + target + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
  }
  // The value of a header in the reply's head, or "" when absent.
  static std::string header(const http::Reply& reply, const std::string& name) {
    const auto head = reply.data.substr(0, reply.data.find("\r\n\r\n") + 2);
    const auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return "";
    const auto start = at + name.size() + 4;
    return head.substr(start, head.find("\r\n", start) - start);
  }
  static std::string body(const http::Reply& reply) {
    return reply.data.substr(reply.data.find("\r\n\r\n") + 4);
  }

  fs::path base_;
  fs::path root_;
  std::vector<std::string> requests_;
  static inline int counter_ = 0;
};

TEST_F(StaticFilesTest, ServesAFileWithValidators) {
  const auto reply = get(request("/index.html"), options());
  EXPECT_EQ(reply.status, 200);
  EXPECT_TRUE(reply.data.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_EQ(header(reply, "Content-Type"), "text/html");
  EXPECT_EQ(header(reply, "Content-Length"), "14");
  EXPECT_EQ(header(reply, "Server"), "sockit/0.1.0");
  EXPECT_FALSE(header(reply, "Date").empty());
  EXPECT_FALSE(header(reply, "ETag").empty());
  EXPECT_FALSE(header(reply, "Last-Modified").empty());
  EXPECT_EQ(body(reply), "<h1>home</h1>\n");
  EXPECT_FALSE(reply.file);
  EXPECT_FALSE(reply.close);
}

TEST_F(StaticFilesTest, LargeFilesAreLeftToSendfile) {
  auto o = options();
  o.inline_limit = 100;
  const auto reply = get(request("/page.txt"), o);
  EXPECT_EQ(reply.status, 200);
  ASSERT_TRUE(reply.file);
  EXPECT_EQ(reply.offset, 0u);
  EXPECT_EQ(reply.length, 1000u);
  EXPECT_EQ(body(reply), "");
}

TEST_F(StaticFilesTest, HeadHasTheHeadersButNoBody) {
  const auto reply = get(request("/page.txt", "", "HEAD"), options());
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(header(reply, "Content-Length"), "1000");
  EXPECT_EQ(body(reply), "");
  EXPECT_FALSE(reply.file);
}

TEST_F(StaticFilesTest, ConditionalRequestsGet304) {
  http::StaticFiles site(options());
  const auto first = answer(site, request("/page.txt"));
  const auto etag = header(first, "ETag");
  const auto modified = header(first, "Last-Modified");
  EXPECT_EQ(answer(site, request("/page.txt", "If-None-Match: " + etag + "\r\n")).status, 304);
  EXPECT_EQ(answer(site, request("/page.txt", "If-None-Match: \"other\"\r\n")).status, 200);
  EXPECT_EQ(answer(site, request("/page.txt", "If-Modified-Since: " + modified + "\r\n")).status,
            304);
  EXPECT_EQ(
      answer(site, request("/page.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"))
          .status,
      200);
  // If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(answer(site, request("/page.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " +
                                                  modified + "\r\n"))
                .status,
            200);
  // A date in the future, or one that does not exist, is no validator: 200, as nginx does.
  for (const char* date :
       {"Fri, 01 Jan 2100 00:00:00 GMT", "Sat, 31 Feb 2026 00:00:00 GMT", "yesterday"}) {
    EXPECT_EQ(answer(site, request("/page.txt", std::string("If-Modified-Since: ") + date + "\r\n"))
                  .status,
              200)
        << date;
  }
  const auto not_modified = answer(site, request("/page.txt", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(body(not_modified), "");
  EXPECT_EQ(header(not_modified, "ETag"), etag);
}

TEST_F(StaticFilesTest, SingleByteRanges) {
  http::StaticFiles site(options());
  const auto partial = answer(site, request("/page.txt", "Range: bytes=10-19\r\n"));
  EXPECT_EQ(partial.status, 206);
  EXPECT_EQ(header(partial, "Content-Range"), "bytes 10-19/1000");
  EXPECT_EQ(header(partial, "Content-Length"), "10");
  EXPECT_EQ(body(partial), std::string(10, 'p'));
  const auto clamped =
      answer(site, request("/page.txt", "Range: bytes=990-99999999999999999999999\r\n"));
  EXPECT_EQ(clamped.status, 206);
  EXPECT_EQ(header(clamped, "Content-Range"), "bytes 990-999/1000");
  const auto beyond = answer(site, request("/page.txt", "Range: bytes=5000-\r\n"));
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(header(beyond, "Content-Range"), "bytes */1000");
  const auto etag = header(partial, "ETag");
  EXPECT_EQ(
      answer(site, request("/page.txt", "Range: bytes=0-0\r\nIf-Range: " + etag + "\r\n")).status,
      206);
  EXPECT_EQ(
      answer(site, request("/page.txt", "Range: bytes=0-0\r\nIf-Range: \"stale\"\r\n")).status,
      200);
}

TEST_F(StaticFilesTest, PrecompressedSiblingWhenAccepted) {
  http::StaticFiles site(options());
  const auto plain = answer(site, request("/page.txt"));
  const auto gzipped = answer(site, request("/page.txt", "Accept-Encoding: gzip, br\r\n"));
  EXPECT_EQ(gzipped.status, 200);
  EXPECT_EQ(header(gzipped, "Content-Encoding"), "gzip");
  EXPECT_EQ(header(gzipped, "Vary"), "Accept-Encoding");
  EXPECT_EQ(header(gzipped, "Content-Type"), "text/plain");
  EXPECT_EQ(body(gzipped), "pretend-gzip");
  EXPECT_NE(header(gzipped, "ETag"), header(plain, "ETag"));
  EXPECT_EQ(header(plain, "Content-Encoding"), "");
  const auto refused = answer(site, request("/page.txt", "Accept-Encoding: gzip;q=0\r\n"));
  EXPECT_EQ(header(refused, "Content-Encoding"), "");
}

TEST_F(StaticFilesTest, DirectoriesRedirectListAndIndex) {
  http::StaticFiles site(options());
  const auto redirect = answer(site, request("/sub?x=1"));
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/sub/?x=1");
  const auto listing = answer(site, request("/sub/"));
  EXPECT_EQ(listing.status, 200);
  EXPECT_NE(body(listing).find("<a href=\"%3Cb%3E%26.txt\">&lt;b&gt;&amp;.txt</a>"),
            std::string::npos)
      << body(listing);
  EXPECT_NE(body(listing).find("href=\"../\""), std::string::npos);
  EXPECT_EQ(body(answer(site, request("/"))), "<h1>home</h1>\n");
  auto o = options();
  o.list_directories = false;
  EXPECT_EQ(get(request("/sub/"), o).status, 403);
}

TEST_F(StaticFilesTest, ListingsShowNothingOfSymlinkTargets) {
  // A target outside the root with a size and a date no entry inside has.
  write(base_ / "secret.txt", std::string(123457, 's'));
  fs::create_symlink(base_ / "secret.txt", root_ / "sub" / "outside");
  fs::last_write_time(base_ / "secret.txt",
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 400));
  http::StaticFiles site(options());
  const auto listing = body(answer(site, request("/sub/")));
  ASSERT_NE(listing.find("href=\"outside\""), std::string::npos) << listing;
  const auto row = listing.substr(listing.find("href=\"outside\""));
  EXPECT_EQ(row.substr(0, row.find("</tr>")),
            "href=\"outside\">outside</a></td><td>-</td><td>-</td>");
  EXPECT_EQ(listing.find("123457"), std::string::npos) << listing;
}

TEST_F(StaticFilesTest, ListingsAreCachedAndBounded) {
  http::StaticFiles site(options());
  const auto before = body(answer(site, request("/sub/")));
  write(root_ / "sub" / "new.txt", "n");
  // Within --cache-valid the listing is the one made before.
  EXPECT_EQ(body(answer(site, request("/sub/"))), before);
  auto o = options();
  o.cache_valid = std::chrono::milliseconds(0);
  EXPECT_NE(body(get(request("/sub/"), o)).find("new.txt"), std::string::npos);

  // 20,000 entries with long names make more than a listing may hold.
  const std::string stem(60, 'n');
  fs::create_directories(root_ / "many");
  for (int i = 0; i < 20000; ++i)
    write(root_ / "many" / (stem + std::to_string(i)), "");
  const auto big = body(get(request("/many/"), o));
  EXPECT_LT(big.size(), 1100u * 1024);
  EXPECT_NE(big.find("Listing truncated: "), std::string::npos);
  EXPECT_NE(big.find(" of 20000 entries shown."), std::string::npos);
}

TEST_F(StaticFilesTest, SymlinksStayInsideTheRootUnlessAllowed) {
  http::StaticFiles site(options());
  EXPECT_EQ(answer(site, request("/inside")).status, 200);
  EXPECT_EQ(answer(site, request("/outside")).status, 403);
  EXPECT_EQ(answer(site, request("/relative-outside")).status, 403);
  auto o = options();
  o.follow_symlinks = true;
  const auto followed = get(request("/outside"), o);
  EXPECT_EQ(followed.status, 200);
  EXPECT_EQ(body(followed), "secret");
}

TEST_F(StaticFilesTest, ErrorsAndMethods) {
  http::StaticFiles site(options());
  EXPECT_EQ(answer(site, request("/missing")).status, 404);
  EXPECT_EQ(answer(site, request("/index.html/x")).status, 404);
  EXPECT_EQ(answer(site, request("/fifo")).status, 403);
  const auto traversal = answer(site, request("/../secret.txt"));
  EXPECT_EQ(traversal.status, 400);
  EXPECT_TRUE(traversal.close);
  const auto post = answer(site, request("/", "Content-Length: 0\r\n", "POST"));
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
  EXPECT_EQ(answer(site, request("/", "", "BREW")).status, 501);
  http::Reply reply;
  site.respond_error(431, "too many <headers>", reply);
  EXPECT_EQ(reply.status, 431);
  EXPECT_TRUE(reply.close);
  EXPECT_EQ(header(reply, "Connection"), "close");
  EXPECT_NE(body(reply).find("too many &lt;headers&gt;"), std::string::npos);
}

TEST_F(StaticFilesTest, ConnectionHeadersFollowTheRequest) {
  http::StaticFiles site(options());
  const auto old_close = answer(site, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(old_close.close);
  EXPECT_EQ(header(old_close, "Connection"), "close");
  const auto old_keep = answer(site, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_FALSE(old_keep.close);
  EXPECT_EQ(header(old_keep, "Connection"), "keep-alive");
  const auto closing = answer(site, request("/", "Connection: close\r\n"));
  EXPECT_TRUE(closing.close);
}

TEST_F(StaticFilesTest, SmallFilesAreServedFromMemoryForCacheValid) {
  auto o = options();
  o.cache_valid = std::chrono::hours(1);
  http::StaticFiles cached(o);
  o.cache_valid = std::chrono::milliseconds(20);
  http::StaticFiles short_lived(o);
  o.cache_valid = std::chrono::milliseconds(0);
  http::StaticFiles uncached(o);
  for (const auto* site : {&cached, &short_lived}) {
    EXPECT_EQ(body(answer(*site, request("/index.html"))), "<h1>home</h1>\n");
    EXPECT_EQ(body(answer(*site, request("/", "Accept-Encoding: gzip\r\n"))), "<h1>home</h1>\n");
  }
  write(root_ / "index.html", "<h1>changed</h1>\n");
  // Within the validity the cached bytes and validators are served, whatever the path's
  // spelling and encoding; without a cache the change shows at once, and after the validity
  // it shows too.
  const auto stale = answer(cached, request("/index.html", "Range: bytes=4-7\r\n"));
  EXPECT_EQ(stale.status, 206);
  EXPECT_EQ(body(stale), "home");
  EXPECT_EQ(body(answer(cached, request("/", "Accept-Encoding: gzip\r\n"))), "<h1>home</h1>\n");
  EXPECT_EQ(body(answer(uncached, request("/index.html"))), "<h1>changed</h1>\n");
  ::usleep(50'000);
  EXPECT_EQ(body(answer(short_lived, request("/index.html"))), "<h1>changed</h1>\n");
  EXPECT_EQ(body(answer(short_lived, request("/", "Accept-Encoding: gzip\r\n"))),
            "<h1>changed</h1>\n");
}

TEST_F(StaticFilesTest, WithoutARootTheBuiltInPageIsServed) {
  EXPECT_THROW(http::StaticFiles(http::StaticFilesOptions{.root = (base_ / "nope").string()}),
               Error);
  http::StaticFiles page_site(http::StaticFilesOptions{});
  page_site.set_page("<p>services</p>");
  EXPECT_EQ(body(answer(page_site, request("/"))), "<p>services</p>");
  EXPECT_EQ(answer(page_site, request("/other")).status, 404);
}

}  // namespace
}  // namespace sockit::test
