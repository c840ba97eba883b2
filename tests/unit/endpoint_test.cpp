// Endpoint and Address: the text forms they parse and print, and the sockaddr they hold.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "sockit/endpoint.hpp"

namespace sockit::test {
namespace {

struct ValidForm {
  std::string text;
  Family family;
  std::string host;
  std::uint16_t port;
  std::string printed;  // to_string(): the canonical spelling
};

const std::vector<ValidForm>& valid_forms() {
  static const std::vector<ValidForm> forms = {
      {"127.0.0.1:80", Family::inet, "127.0.0.1", 80, "127.0.0.1:80"},
      {"0.0.0.0:0", Family::inet, "0.0.0.0", 0, "0.0.0.0:0"},
      {"255.255.255.255:65535", Family::inet, "255.255.255.255", 65535, "255.255.255.255:65535"},
      {"192.0.2.3:08", Family::inet, "192.0.2.3", 8, "192.0.2.3:8"},
      {"[::1]:8080", Family::inet6, "::1", 8080, "[::1]:8080"},
      {"[::]:0", Family::inet6, "::", 0, "[::]:0"},
      {"[2001:DB8:0:0::A]:443", Family::inet6, "2001:db8::a", 443, "[2001:db8::a]:443"},
      {"[::ffff:192.0.2.1]:53", Family::inet6, "::ffff:192.0.2.1", 53, "[::ffff:192.0.2.1]:53"},
      {"[fe80::1%lo]:22", Family::inet6, "fe80::1%lo", 22, "[fe80::1%lo]:22"},
      {"[fe80::1%" + std::to_string(::if_nametoindex("lo")) + "]:22", Family::inet6, "fe80::1%lo",
       22, "[fe80::1%lo]:22"},
      {"unix:/run/sockit.sock", Family::local, "/run/sockit.sock", 0, "unix:/run/sockit.sock"},
      {"unix:relative.sock", Family::local, "relative.sock", 0, "unix:relative.sock"},
      {"unix:@sockit", Family::local, "@sockit", 0, "unix:@sockit"},
      {"unix:" + std::string(107, 'p'), Family::local, std::string(107, 'p'), 0,
       "unix:" + std::string(107, 'p')},
  };
  return forms;
}

TEST(EndpointParse, AcceptsEveryNumericForm) {
  for (const auto& form : valid_forms()) {
    SCOPED_TRACE(form.text);
    auto endpoint = Endpoint::parse(form.text);
    ASSERT_TRUE(endpoint) << endpoint.error().message();
    EXPECT_EQ(endpoint->family(), form.family);
    EXPECT_EQ(endpoint->host(), form.host);
    EXPECT_EQ(endpoint->port(), form.port);
    EXPECT_EQ(endpoint->to_string(), form.printed);
  }
}

TEST(EndpointParse, RoundTripsThroughItsPrintedForm) {
  for (const auto& form : valid_forms()) {
    SCOPED_TRACE(form.text);
    const Endpoint original = Endpoint::parse(form.text).value_or_throw("parse");
    auto again = Endpoint::parse(original.to_string());
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(*again, original);
  }
}

TEST(AddressParse, RoundTripsThroughItsPrintedForm) {
  for (const auto& form : valid_forms()) {
    SCOPED_TRACE(form.text);
    const Address original = Address::parse(form.text).value_or_throw("parse");
    EXPECT_EQ(Address::parse(original.to_string()).value_or_throw("parse again"), original);
  }
}

TEST(EndpointParse, ScopeByNameAndByIndexAreTheSameInterface) {
  const unsigned lo = ::if_nametoindex("lo");
  ASSERT_NE(lo, 0u);
  const Endpoint by_name = Endpoint::parse("[fe80::1%lo]:22").value_or_throw("parse");
  const Endpoint by_index =
      Endpoint::parse("[fe80::1%" + std::to_string(lo) + "]:22").value_or_throw("parse");
  EXPECT_EQ(by_name, by_index);
  ASSERT_EQ(by_name.size(), sizeof(sockaddr_in6));
  sockaddr_in6 raw{};
  std::memcpy(&raw, by_name.data(), sizeof raw);
  EXPECT_EQ(raw.sin6_scope_id, lo);
  EXPECT_NE(by_name, Endpoint::parse("[fe80::1]:22").value_or_throw("parse"));
}

TEST(EndpointParse, HoldsTheSockaddrTheKernelExpects) {
  const Endpoint v4 = Endpoint::parse("192.0.2.7:8001").value_or_throw("parse");
  ASSERT_EQ(v4.size(), sizeof(sockaddr_in));
  sockaddr_in in{};
  std::memcpy(&in, v4.data(), sizeof in);
  EXPECT_EQ(in.sin_family, AF_INET);
  EXPECT_EQ(ntohs(in.sin_port), 8001);
  EXPECT_EQ(ntohl(in.sin_addr.s_addr), 0xC0000207u);

  const Endpoint path = Endpoint::parse("unix:/tmp/x").value_or_throw("parse");
  EXPECT_EQ(path.size(), offsetof(sockaddr_un, sun_path) + sizeof "/tmp/x");
  EXPECT_FALSE(path.is_abstract());
  EXPECT_EQ(std::string(reinterpret_cast<const sockaddr_un*>(path.data())->sun_path), "/tmp/x");

  // An abstract name has a leading NUL and no terminating one.
  const Endpoint abstract = Endpoint::parse("unix:@name").value_or_throw("parse");
  EXPECT_TRUE(abstract.is_abstract());
  EXPECT_EQ(abstract.size(), offsetof(sockaddr_un, sun_path) + 1 + 4);
  const char* name = reinterpret_cast<const sockaddr_un*>(abstract.data())->sun_path;
  EXPECT_EQ(std::string(name, 5), std::string("\0name", 5));
}

TEST(Endpoint, FromSockaddrPrintsWhatItCopied) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(4567);
  ASSERT_EQ(::inet_pton(AF_INET, "192.0.2.3", &in.sin_addr), 1);
  const Endpoint endpoint =
      Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&in), sizeof in);
  EXPECT_EQ(endpoint.to_string(), "192.0.2.3:4567");
  EXPECT_EQ(endpoint, Endpoint::parse("192.0.2.3:4567").value_or_throw("parse"));
}

TEST(Endpoint, LoopbackAnyAndPort) {
  EXPECT_EQ(Endpoint::loopback(Family::inet, 7).to_string(), "127.0.0.1:7");
  EXPECT_EQ(Endpoint::loopback(Family::inet6, 7).to_string(), "[::1]:7");
  EXPECT_EQ(Endpoint::any(Family::inet, 0).to_string(), "0.0.0.0:0");
  EXPECT_EQ(Endpoint::any(Family::inet6, 0).to_string(), "[::]:0");

  Endpoint endpoint = Endpoint::loopback(Family::inet6, 1);
  endpoint.set_port(65535);
  EXPECT_EQ(endpoint.port(), 65535);
  EXPECT_EQ(endpoint.to_string(), "[::1]:65535");

  Endpoint path = Endpoint::from_path("/x").value_or_throw("path");
  path.set_port(80);  // a Unix endpoint has no port
  EXPECT_EQ(path.port(), 0);
  EXPECT_EQ(path.to_string(), "unix:/x");
}

TEST(Endpoint, DefaultIsUnspecified) {
  const Endpoint endpoint;
  EXPECT_EQ(endpoint.family(), Family::unspec);
  EXPECT_EQ(endpoint.port(), 0);
  EXPECT_EQ(endpoint.host(), "");
  EXPECT_EQ(endpoint.to_string(), "(unspecified)");
}

TEST(Endpoint, UnmappedTurnsV4MappedIntoV4) {
  const Endpoint mapped = Endpoint::parse("[::ffff:127.0.0.1]:99").value_or_throw("parse");
  EXPECT_EQ(mapped.unmapped(), Endpoint::parse("127.0.0.1:99").value_or_throw("parse"));
  const Endpoint plain = Endpoint::parse("[::1]:99").value_or_throw("parse");
  EXPECT_EQ(plain.unmapped(), plain);
}

TEST(Endpoint, StreamsItsPrintedForm) {
  std::ostringstream out;
  out << Endpoint::parse("[::1]:5").value_or_throw("parse") << " "
      << Address::parse("localhost:6").value_or_throw("parse");
  EXPECT_EQ(out.str(), "[::1]:5 localhost:6");
}

TEST(EndpointParse, NulEndsNoPathButBelongsInAnAbstractName) {
  using namespace std::string_literals;
  EXPECT_EQ(Endpoint::parse("unix:/run\0x"s).error(), AddressErrc::nul_in_path);
  // A NUL inside a numeric host or scope must not cut the text short.
  EXPECT_EQ(Endpoint::parse("127.0.0.1\0junk:80"s).error(), AddressErrc::not_numeric);
  EXPECT_FALSE(Endpoint::from_ip("::1%lo\0x"s, 80).ok());
  const Endpoint abstract = Endpoint::parse("unix:@a\0b"s).value_or_throw("parse");
  EXPECT_EQ(abstract.host(), "@a\0b"s);
  EXPECT_EQ(Endpoint::parse(abstract.to_string()).value_or_throw("parse again"), abstract);
}

TEST(Endpoint, FromPathLimits) {
  EXPECT_EQ(Endpoint::from_path("").error(), AddressErrc::empty);
  EXPECT_EQ(Endpoint::from_path(std::string(108, 'p')).error(), AddressErrc::path_too_long);
  EXPECT_TRUE(Endpoint::from_path(std::string(107, 'p')));
}

struct MalformedForm {
  std::string text;
  AddressErrc error;
};

TEST(AddressParse, RejectsEachMalformedFormWithItsReason) {
  const std::vector<MalformedForm> forms = {
      {"", AddressErrc::empty},
      {"host:", AddressErrc::missing_port},
      {"198.51.100.4", AddressErrc::missing_port},
      {"198.51.100.4:70000", AddressErrc::port_out_of_range},
      {"198.51.100.4:abc", AddressErrc::bad_port},
      {"198.51.100.4:-1", AddressErrc::bad_port},
      {"::1:80", AddressErrc::needs_brackets},
      {"[::1", AddressErrc::unbalanced_bracket},
      {"::1]:80", AddressErrc::needs_brackets},
      {"host]:80", AddressErrc::unbalanced_bracket},
      {"[::1]", AddressErrc::missing_port},
      {"[::1]:", AddressErrc::missing_port},
      {"192.0.2.300:80", AddressErrc::bad_ipv4},
      {"1.2.3:80", AddressErrc::bad_ipv4},
      {"[198.51.100.4]:80", AddressErrc::bad_ipv6},
      {"[1::2::3]:80", AddressErrc::bad_ipv6},
      {"[fe80::1%nosuchif0]:80", AddressErrc::bad_scope},
      {"unix:", AddressErrc::empty},
      {"unix:" + std::string(200, 'p'), AddressErrc::path_too_long},
  };
  for (const auto& form : forms) {
    SCOPED_TRACE(form.text);
    EXPECT_EQ(Address::parse(form.text).error(), form.error);
    EXPECT_EQ(Endpoint::parse(form.text).error(), form.error);
  }
}

TEST(AddressParse, KeepsHostNamesThatEndpointRejects) {
  const Address address = Address::parse("localhost:8001").value_or_throw("parse");
  EXPECT_EQ(address, (Address{"localhost", 8001, false}));
  EXPECT_EQ(Endpoint::parse("localhost:8001").error(), AddressErrc::not_numeric);
}

TEST(AddressParse, SplitsEachForm) {
  EXPECT_EQ(Address::parse("[::1]:80").value_or_throw("v6"), (Address{"::1", 80, false}));
  EXPECT_EQ(Address::parse("unix:/p").value_or_throw("path"), (Address{"/p", 0, true}));
  EXPECT_EQ(Address::parse("unix:@n").value_or_throw("abstract"), (Address{"@n", 0, true}));
  EXPECT_EQ((Address{"::1", 80, false}).to_string(), "[::1]:80");
  EXPECT_EQ((Address{"@n", 0, true}).to_string(), "unix:@n");
}

TEST(Address, FromEndpoint) {
  EXPECT_EQ(Address::from_endpoint(Endpoint::parse("[::1]:9").value_or_throw("parse")),
            (Address{"::1", 9, false}));
  EXPECT_EQ(Address::from_endpoint(Endpoint::parse("unix:@n").value_or_throw("parse")),
            (Address{"@n", 0, true}));
}

TEST(ParsePort, Limits) {
  EXPECT_EQ(parse_port("0").value(), 0);
  EXPECT_EQ(parse_port("65535").value(), 65535);
  EXPECT_EQ(parse_port("08").value(), 8);  // decimal, never octal
  EXPECT_EQ(parse_port("000000000080").value(), 80);
  EXPECT_EQ(parse_port("65536").error(), AddressErrc::port_out_of_range);
  EXPECT_EQ(parse_port("99999999999999999999999").error(), AddressErrc::port_out_of_range);
  EXPECT_EQ(parse_port("").error(), AddressErrc::missing_port);
  EXPECT_EQ(parse_port("-1").error(), AddressErrc::bad_port);
  EXPECT_EQ(parse_port("+1").error(), AddressErrc::bad_port);
  EXPECT_EQ(parse_port(" 80").error(), AddressErrc::bad_port);
  EXPECT_EQ(parse_port("0x50").error(), AddressErrc::bad_port);
}

TEST(Names, FamiliesAndTypes) {
  EXPECT_EQ(to_string(Family::inet), "AF_INET");
  EXPECT_EQ(to_string(Family::inet6), "AF_INET6");
  EXPECT_EQ(to_string(Family::local), "AF_UNIX");
  EXPECT_EQ(to_string(Family::unspec), "AF_UNSPEC");
  EXPECT_EQ(to_string(Type::stream), "SOCK_STREAM");
  EXPECT_EQ(to_string(Type::dgram), "SOCK_DGRAM");
  EXPECT_EQ(to_string(Type::seqpacket), "SOCK_SEQPACKET");
}

}  // namespace
}  // namespace sockit::test
