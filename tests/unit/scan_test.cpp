// sockit scan's planning: port lists, the services table, target expansion, and the address
// arithmetic of the library's Network and AddressRange underneath.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "scan/engine.hpp"
#include "scan/ports.hpp"
#include "scan/report.hpp"
#include "scan/targets.hpp"
#include "sockit/network.hpp"

namespace {

using sockit::AddressRange;
using sockit::Endpoint;
using sockit::Family;
using sockit::Network;
using namespace sockit::tools::scan;

// A few lines in nmap-services' format: name, port/proto, frequency.
constexpr const char* kNmapServices =
    "# comment\n"
    "ssh\t22/tcp\t0.182286\t# Secure Shell Login\n"
    "http\t80/tcp\t0.484143\n"
    "http\t80/udp\t0.035767\n"
    "https\t443/tcp\t0.208669\n"
    "http-alt\t8080/tcp\t0.018\n"
    "http-alt\t8008/tcp\t0.003\n";

std::vector<std::uint16_t> ports(const char* text) {
  return parse_ports(text, Services::parse(kNmapServices, true));
}

TEST(ScanPorts, ParsesListsRangesAndNames) {
  EXPECT_EQ(ports("22,80,1000-1003"), (std::vector<std::uint16_t>{22, 80, 1000, 1001, 1002, 1003}));
  EXPECT_EQ(ports("80,22,80"), (std::vector<std::uint16_t>{22, 80}));
  EXPECT_EQ(ports("http,ssh"), (std::vector<std::uint16_t>{22, 80}));
  EXPECT_EQ(ports("http-alt"), (std::vector<std::uint16_t>{8008, 8080}));
  EXPECT_EQ(ports("-3"), (std::vector<std::uint16_t>{1, 2, 3}));
  EXPECT_EQ(ports("65534-"), (std::vector<std::uint16_t>{65534, 65535}));
  const auto all = ports("-");
  ASSERT_EQ(all.size(), 65535u);
  EXPECT_EQ(all.front(), 1);
  EXPECT_EQ(all.back(), 65535);
}

TEST(ScanPorts, RejectsBadLists) {
  for (const char* bad :
       {"0", "70000", "5-1", "", "22,,80", "abc", "1-2-3", "99999999999", "0-5", "22x", "-0"}) {
    EXPECT_THROW(ports(bad), std::invalid_argument) << bad;
  }
}

TEST(ScanPorts, ErrorsSayWhatIsWrong) {
  auto message = [](const char* text) {
    try {
      ports(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("0").find("port 0"), std::string::npos);
  EXPECT_NE(message("70000").find("out of range"), std::string::npos);
  EXPECT_NE(message("5-1").find("reversed"), std::string::npos);
  EXPECT_NE(message("nosuchservice").find("nosuchservice"), std::string::npos);
}

TEST(ScanServices, NamesAndTopPortsByFrequency) {
  const auto services = Services::parse(kNmapServices, true);
  EXPECT_EQ(services.name(22), "ssh");
  EXPECT_EQ(services.name(9), "");
  EXPECT_EQ(services.top(3), (std::vector<std::uint16_t>{80, 443, 22}));
  // Beyond the table, the rest in ascending order.
  EXPECT_EQ(services.top(7), (std::vector<std::uint16_t>{80, 443, 22, 8080, 8008, 1, 2}));
}

TEST(ScanServices, TopPortsWithoutFrequenciesUseTheBuiltinList) {
  const auto services = Services::parse("ssh 22/tcp\nfoo 1234/tcp\n", false);
  const auto top = services.top(100);
  ASSERT_EQ(top.size(), 100u);
  EXPECT_EQ(top[0], 80);
  EXPECT_EQ(top[1], 23);
  EXPECT_EQ(services.top(101).back(), 1234);
}

TEST(AddressRange, ParsesRangesBlocksAndAddresses) {
  auto octets = AddressRange::parse("192.0.2.1-50");
  ASSERT_TRUE(octets);
  EXPECT_EQ(octets->size(), 50u);
  EXPECT_EQ(octets->operator[](49).host(), "192.0.2.50");
  auto full = AddressRange::parse("127.0.0.250-127.0.1.4");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->size(), 11u);
  EXPECT_EQ(full->operator[](6).host(), "127.0.1.0");
  auto v6 = AddressRange::parse("2001:db8::fe-2001:db8::101");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->size(), 4u);
  EXPECT_EQ(v6->operator[](2).host(), "2001:db8::100");
  auto block = AddressRange::parse("2001:db8::/126");
  ASSERT_TRUE(block);
  EXPECT_EQ(block->size(), 4u);
  EXPECT_TRUE(block->contains(*Endpoint::from_ip("2001:db8::3", 0)));
  EXPECT_FALSE(block->contains(*Endpoint::from_ip("2001:db8::4", 0)));
  EXPECT_EQ(AddressRange::parse("2001:db8::/64")->size(), UINT64_MAX);
  EXPECT_EQ(AddressRange::parse("198.51.100.7")->size(), 1u);
  for (const char* bad : {"192.0.2.9-1", "192.0.2.1-256", "192.0.2.1-2001:db8::1", "192.0.2.0/33",
                          "192.0.2.300", "1.2.3-4"}) {
    EXPECT_FALSE(AddressRange::parse(bad)) << bad;
  }
}

TEST(Network, CountsAndIndexesAddresses) {
  auto block = Network::parse("198.51.100.0/30");
  ASSERT_TRUE(block);
  EXPECT_EQ(block->num_addresses(), 4u);
  EXPECT_EQ((*block)[3].host(), "198.51.100.3");
  EXPECT_EQ(Network::parse("0.0.0.0/0")->num_addresses(), std::uint64_t{1} << 32);
}

// A resolver that knows two names, so that no test asks a real one.
sockit::Result<std::vector<Endpoint>> fake_resolve(const std::string& name, Family family) {
  std::vector<Endpoint> out;
  if (name == "dual.test") {
    if (family != Family::inet6) out.push_back(*Endpoint::from_ip("192.0.2.7", 0));
    if (family != Family::inet) out.push_back(*Endpoint::from_ip("2001:db8::7", 0));
  } else if (name == "one.test") {
    out.push_back(*Endpoint::from_ip("192.0.2.1", 0));
  } else {
    return std::make_error_code(std::errc::host_unreachable);
  }
  return out;
}

std::vector<std::string> addresses(const std::vector<Host>& hosts) {
  std::vector<std::string> out;
  for (const auto& host : hosts)
    out.push_back(host.address.host());
  return out;
}

TEST(ScanTargets, ExpandsSortsAndRemovesDuplicates) {
  const auto hosts = expand_targets({"192.0.2.3-4", "dual.test", "192.0.2.0/30", "one.test"}, {},
                                    TargetOptions{}, fake_resolve);
  EXPECT_EQ(addresses(hosts),
            (std::vector<std::string>{"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3",
                                      "192.0.2.4", "192.0.2.7", "2001:db8::7"}));
  EXPECT_EQ(hosts[5].name, "dual.test");
}

TEST(ScanTargets, FirstAddressFamilyAndExcludes) {
  TargetOptions first;
  first.first_address = true;
  EXPECT_EQ(addresses(expand_targets({"dual.test"}, {}, first, fake_resolve)),
            (std::vector<std::string>{"192.0.2.7"}));
  TargetOptions v6;
  v6.family = Family::inet6;
  EXPECT_EQ(addresses(expand_targets({"dual.test", "192.0.2.1"}, {}, v6, fake_resolve)),
            (std::vector<std::string>{"2001:db8::7"}));
  EXPECT_EQ(
      addresses(expand_targets({"192.0.2.0/29"}, {"192.0.2.0-5", "one.test"}, {}, fake_resolve)),
      (std::vector<std::string>{"192.0.2.6", "192.0.2.7"}));
  EXPECT_EQ(addresses(expand_targets({"[2001:db8::1]"}, {}, {}, fake_resolve)),
            (std::vector<std::string>{"2001:db8::1"}));
}

TEST(ScanTargets, RejectsBadTargetsAndHugeBlocks) {
  auto expand = [](std::vector<std::string> specs, TargetOptions options = {}) {
    return expand_targets(specs, {}, options, fake_resolve);
  };
  EXPECT_THROW(expand({"192.0.2.0/33"}), std::invalid_argument);
  EXPECT_THROW(expand({"192.0.2.1-0"}), std::invalid_argument);
  EXPECT_THROW(expand({"no.such.test"}), std::invalid_argument);
  EXPECT_THROW(expand({}), std::invalid_argument);
  EXPECT_THROW(expand({"127.0.0.0/15"}), std::invalid_argument);
  EXPECT_THROW(expand({"2001:db8::/64"}), std::invalid_argument);
  EXPECT_THROW(expand_targets({"192.0.2.1"}, {"192.0.2.0/24"}, {}, fake_resolve),
               std::invalid_argument);
  TargetOptions forced;
  forced.force = true;
  EXPECT_EQ(expand({"127.0.0.0/15"}, forced).size(), 131072u);
  EXPECT_THROW(expand({"127.0.0.0/8"}, forced), std::invalid_argument);
  EXPECT_EQ(expand({"127.0.0.0/16"}).size(), 65536u);
}

TEST(ScanReport, CompressesPortLists) {
  EXPECT_EQ(compress_ports({1, 2, 3, 5, 7, 8}), "1-3,5,7-8");
  EXPECT_EQ(compress_ports({22}), "22");
}

}  // namespace
