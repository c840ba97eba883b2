// The resolver functions against this host's own resolver. Every name asked for is numeric,
// "localhost" or this host's name (all answered from /etc/hosts), except the one lookup that
// must fail: "nosuch..invalid", whose empty label the resolver rejects itself, so the test
// sends no query off this machine.
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "sockit/resolver.hpp"
#include "support.hpp"

namespace sockit::test {
namespace {

bool contains(const std::vector<AddrInfo>& infos, const Endpoint& endpoint) {
  return std::any_of(infos.begin(), infos.end(),
                     [&](const AddrInfo& info) { return info.address == endpoint; });
}

TEST(Getaddrinfo, NumericIpv4) {
  const auto infos = getaddrinfo("127.0.0.1", "80");
  ASSERT_FALSE(infos.empty());
  for (const auto& info : infos) {
    EXPECT_EQ(info.family, Family::inet);
    EXPECT_EQ(info.address, Endpoint::parse("127.0.0.1:80").value_or_throw("parse"));
  }
}

TEST(Getaddrinfo, TypeFilter) {
  const auto streams = getaddrinfo("127.0.0.1", "80", Family::unspec, Type::stream);
  ASSERT_FALSE(streams.empty());
  for (const auto& info : streams) {
    EXPECT_EQ(info.type, Type::stream);
    EXPECT_EQ(info.protocol, IPPROTO_TCP);
  }
  const auto datagrams = getaddrinfo("::1", "53", Family::unspec, Type::dgram);
  ASSERT_FALSE(datagrams.empty());
  for (const auto& info : datagrams) {
    EXPECT_EQ(info.family, Family::inet6);
    EXPECT_EQ(info.type, Type::dgram);
    EXPECT_EQ(info.protocol, IPPROTO_UDP);
    EXPECT_EQ(info.address.to_string(), "[::1]:53");
  }
}

TEST(Getaddrinfo, LocalhostWithFamilyFilter) {
  const auto infos = getaddrinfo("localhost", std::uint16_t{8080}, Family::inet, Type::stream);
  ASSERT_FALSE(infos.empty());
  for (const auto& info : infos)
    EXPECT_EQ(info.family, Family::inet);
  EXPECT_TRUE(contains(infos, Endpoint::loopback(Family::inet, 8080)));
}

TEST(Getaddrinfo, FamilyThatDoesNotFitFails) {
  EXPECT_THROW(getaddrinfo("127.0.0.1", "80", Family::inet6, Type::any, 0, AI_NUMERICHOST),
               GaiError);
  EXPECT_FALSE(try_getaddrinfo("127.0.0.1", "80", Family::inet6, Type::any, 0, AI_NUMERICHOST));
}

TEST(Getaddrinfo, CanonicalNameOnTheFirstEntry) {
  const auto infos = getaddrinfo("localhost", "0", Family::inet, Type::stream, 0, AI_CANONNAME);
  ASSERT_FALSE(infos.empty());
  EXPECT_EQ(infos.front().canonname, "localhost");
}

TEST(Getaddrinfo, PassiveWildcard) {
  const auto infos = getaddrinfo("", "8080", Family::inet, Type::stream, 0, AI_PASSIVE);
  ASSERT_FALSE(infos.empty());
  EXPECT_EQ(infos.front().address, Endpoint::any(Family::inet, 8080));
}

TEST(Getaddrinfo, UnresolvableNameIsGaiErrorWithTheResolversText) {
  try {
    getaddrinfo("nosuch..invalid", "80");
    FAIL() << "nosuch..invalid resolved";
  } catch (const GaiError& error) {
    EXPECT_EQ(error.code().category(), gai_category());
    EXPECT_EQ(std::string(error.what()),
              std::string("getaddrinfo nosuch..invalid: ") + ::gai_strerror(error.code().value()));
  }
}

TEST(Resolve, AddressesOfEachKind) {
  EXPECT_EQ(resolve(Address{"localhost", 80, false}, Family::inet),
            std::vector{Endpoint::loopback(Family::inet, 80)});
  EXPECT_EQ(resolve(Address{"::1", 80, false}), std::vector{Endpoint::loopback(Family::inet6, 80)});
  EXPECT_EQ(resolve(Address{"@name", 0, true}),
            std::vector{Endpoint::from_path("@name").value_or_throw("abstract")});
  EXPECT_EQ(try_resolve(Address{std::string(200, 'p'), 0, true}).error(),
            AddressErrc::path_too_long);
}

TEST(Gethostbyname, Localhost) {
  EXPECT_EQ(gethostbyname("localhost"), "127.0.0.1");
  EXPECT_EQ(gethostbyname("127.0.0.1"), "127.0.0.1");
}

TEST(Gethostbyname, ExListsTheAddresses) {
  const HostEntry entry = gethostbyname_ex("localhost");
  EXPECT_EQ(entry.hostname, "localhost");
  EXPECT_EQ(entry.addresses, std::vector<std::string>{"127.0.0.1"});
}

TEST(Gethostbyaddr, LoopbackHasANameThatLeadsBack) {
  const HostEntry entry = gethostbyaddr("127.0.0.1");
  ASSERT_FALSE(entry.hostname.empty());
  EXPECT_EQ(entry.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(gethostbyname(entry.hostname), "127.0.0.1");
}

TEST(Gethostname, IsTheKernelsHostName) {
  std::ifstream proc("/proc/sys/kernel/hostname");
  std::string expected;
  std::getline(proc, expected);
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(gethostname(), expected);
}

TEST(Getfqdn, NeverEmpty) {
  EXPECT_FALSE(getfqdn().empty());
  EXPECT_EQ(getfqdn("127.0.0.1"), gethostbyaddr("127.0.0.1").hostname);
}

TEST(Getnameinfo, NumericAndNamed) {
  const NameInfo numeric =
      getnameinfo(Endpoint::loopback(Family::inet, 80), NI_NUMERICHOST | NI_NUMERICSERV);
  EXPECT_EQ(numeric.host, "127.0.0.1");
  EXPECT_EQ(numeric.service, "80");

  const NameInfo named = getnameinfo(Endpoint::loopback(Family::inet, 22));
  EXPECT_EQ(named.host, gethostbyaddr("127.0.0.1").hostname);
  EXPECT_EQ(named.service, "ssh");

  const NameInfo udp =
      getnameinfo(Endpoint::loopback(Family::inet6, 53), NI_NUMERICHOST | NI_DGRAM);
  EXPECT_EQ(udp.host, "::1");
  EXPECT_EQ(udp.service, "domain");
}

TEST(Getservbyname, KnownServices) {
  EXPECT_EQ(getservbyname("http"), 80);
  EXPECT_EQ(getservbyname("http", "tcp"), 80);
  EXPECT_EQ(getservbyname("domain", "udp"), 53);
  EXPECT_EQ(getservbyname("8080"), 8080);
}

TEST(Getservbyname, UnknownServiceFails) {
  try {
    getservbyname("nosuchservice");
    FAIL() << "an unknown service had a port";
  } catch (const GaiError& error) {
    EXPECT_EQ(std::string(error.what()),
              std::string("getservbyname nosuchservice: ") + ::gai_strerror(error.code().value()));
  }
  EXPECT_FALSE(try_getservbyname("nosuchservice", "udp"));
  EXPECT_EQ(try_getservbyname("70000").error(), AddressErrc::port_out_of_range);
}

TEST(Getservbyport, KnownPorts) {
  EXPECT_EQ(getservbyport(22), "ssh");
  EXPECT_EQ(getservbyport(80, "tcp"), "http");
  EXPECT_EQ(getservbyport(53, "udp"), "domain");
}

TEST(Getservbyport, AnUnnamedPortIsAnErrorAsInPython) {
  try {
    getservbyport(61999);
    FAIL() << "port 61999 has a name";
  } catch (const GaiError& error) {
    EXPECT_EQ(std::string(error.what()),
              std::string("getservbyport 61999: ") + ::gai_strerror(EAI_NONAME));
  }
}

}  // namespace
}  // namespace sockit::test
