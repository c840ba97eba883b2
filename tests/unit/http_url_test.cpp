// Url: the http and https URLs a client is given, and redirect targets resolved against them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sockit/http/url.hpp"

namespace sockit::http {
namespace {

struct Parsed {
  std::string text;
  std::string scheme;
  std::string host;
  std::uint16_t port;
  std::string target;
  std::string printed;
};

TEST(HttpUrl, ParsesTheFormsAClientIsGiven) {
  const std::vector<Parsed> cases = {
      {"http://example.com", "http", "example.com", 80, "/", "http://example.com/"},
      {"https://example.com/", "https", "example.com", 443, "/", "https://example.com/"},
      {"HTTP://Example.COM:8080/A/b?Q=1", "http", "example.com", 8080, "/A/b?Q=1",
       "http://example.com:8080/A/b?Q=1"},
      {"http://h:80/x", "http", "h", 80, "/x", "http://h/x"},
      {"https://h:80/x", "https", "h", 80, "/x", "https://h:80/x"},
      {"http://h:/x", "http", "h", 80, "/x", "http://h/x"},
      {"http://h?q", "http", "h", 80, "/?q", "http://h/?q"},
      {"http://h/p#frag", "http", "h", 80, "/p", "http://h/p"},
      {"http://h/p?q#frag", "http", "h", 80, "/p?q", "http://h/p?q"},
      {"localhost:8000/x", "http", "localhost", 8000, "/x", "http://localhost:8000/x"},
      {"127.0.0.1", "http", "127.0.0.1", 80, "/", "http://127.0.0.1/"},
      {"http://[::1]:8080/", "http", "::1", 8080, "/", "http://[::1]:8080/"},
      {"https://[::1]/", "https", "::1", 443, "/", "https://[::1]/"},
      {"http://[FE80::1%25lo]/", "http", "fe80::1%lo", 80, "/", "http://[fe80::1%lo]/"},
      {"http://h/a b", "http", "h", 80, "/a%20b", "http://h/a%20b"},
      {"http://h/a\"<>\\^`{|}", "http", "h", 80, "/a%22%3C%3E%5C%5E%60%7B%7C%7D",
       "http://h/a%22%3C%3E%5C%5E%60%7B%7C%7D"},
      {"http://h/\xc3\xa9?x=a b", "http", "h", 80, "/%C3%A9?x=a%20b", "http://h/%C3%A9?x=a%20b"},
      {"http://h/already%20encoded", "http", "h", 80, "/already%20encoded",
       "http://h/already%20encoded"},
      {"http://h/a/./b/../c", "http", "h", 80, "/a/c", "http://h/a/c"},
      {"http://h/../../x", "http", "h", 80, "/x", "http://h/x"},
      {"http://h/a/..", "http", "h", 80, "/", "http://h/"},
      {"http://h/a/?x=/../y", "http", "h", 80, "/a/?x=/../y", "http://h/a/?x=/../y"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto url = Url::parse(c.text);
    ASSERT_TRUE(url) << url.error().message();
    EXPECT_EQ(url->scheme, c.scheme);
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->target, c.target);
    EXPECT_EQ(url->to_string(), c.printed);
  }
}

TEST(HttpUrl, AuthorityIsTheHostHeader) {
  EXPECT_EQ(Url::parse("http://h/")->authority(), "h");
  EXPECT_EQ(Url::parse("http://h:81/")->authority(), "h:81");
  EXPECT_EQ(Url::parse("https://[::1]:8443/")->authority(), "[::1]:8443");
  EXPECT_EQ(Url::parse("https://[::1]/")->authority(), "[::1]");
  EXPECT_TRUE(Url::parse("https://[::1]/")->is_ipv6());
  EXPECT_FALSE(Url::parse("https://127.0.0.1/")->is_ipv6());
}

TEST(HttpUrl, RejectsMalformedUrlsWithAReason) {
  const std::vector<std::pair<std::string, UrlErrc>> cases = {
      {"", UrlErrc::empty},
      {"#only-a-fragment", UrlErrc::empty},
      {"ftp://h/", UrlErrc::unsupported_scheme},
      {"file:///etc/passwd", UrlErrc::unsupported_scheme},
      {"http:///path", UrlErrc::missing_host},
      {"http://:80/", UrlErrc::missing_host},
      {"http://user:secret@h/", UrlErrc::credentials},
      {"http://ho st/", UrlErrc::bad_host},
      {"http://h\x01/", UrlErrc::bad_host},
      {"http://[::1/", UrlErrc::bad_ipv6},
      {"http://[zz::1]/", UrlErrc::bad_ipv6},
      {"http://[127.0.0.1]/", UrlErrc::bad_ipv6},
      {"http://[::1]x/", UrlErrc::bad_ipv6},
      {"http://::1/", UrlErrc::needs_brackets},
      {"http://h:http/", UrlErrc::bad_port},
      {"http://h:-1/", UrlErrc::bad_port},
      {"http://h:65536/", UrlErrc::port_out_of_range},
      {"http://h:99999999999999999999/", UrlErrc::port_out_of_range},
      {"http://h:0/", UrlErrc::port_out_of_range},
  };
  for (const auto& [text, expected] : cases) {
    SCOPED_TRACE(text);
    auto url = Url::parse(text);
    ASSERT_FALSE(url);
    EXPECT_EQ(url.error(), make_error_code(expected));
    EXPECT_EQ(url.error().category().name(), std::string("url"));
    EXPECT_FALSE(url.error().message().empty());
  }
}

// RFC 3986 5.4's examples that a Location header can carry (base "http://a/b/c/d;p?q").
TEST(HttpUrl, ResolvesReferencesAsRfc3986Does) {
  const auto base = Url::parse("http://a/b/c/d;p?q");
  ASSERT_TRUE(base);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g/"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {";x", "http://a/b/c/;x"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../g", "http://a/g"},
      {"../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"https://other:8443/x", "https://other:8443/x"},
      {"HTTP://A/up", "http://a/up"},
      {"/new path", "http://a/new%20path"},
  };
  for (const auto& [reference, expected] : cases) {
    SCOPED_TRACE(reference);
    auto resolved = base->resolve(reference);
    ASSERT_TRUE(resolved) << resolved.error().message();
    EXPECT_EQ(resolved->to_string(), expected);
  }
}

TEST(HttpUrl, ResolvingKeepsTheSchemeAndPortOfTheBase) {
  const auto base = Url::parse("https://[::1]:8443/dir/page");
  ASSERT_TRUE(base);
  EXPECT_EQ(base->resolve("other")->to_string(), "https://[::1]:8443/dir/other");
  EXPECT_EQ(base->resolve("//h2/x")->to_string(), "https://h2/x");
  EXPECT_EQ(base->resolve("ftp://h/").error(), make_error_code(UrlErrc::unsupported_scheme));
  EXPECT_EQ(base->resolve("http://u@h/").error(), make_error_code(UrlErrc::credentials));
}

}  // namespace
}  // namespace sockit::http
