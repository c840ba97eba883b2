// Network: CIDR blocks, as Python's ipaddress.ip_network parses and matches them.
#include <gtest/gtest.h>

#include "sockit/endpoint.hpp"
#include "sockit/network.hpp"

namespace sockit {
namespace {

// Documentation ranges only (RFC 5737): these addresses are parsed, never contacted.
TEST(Network, ParsesBlocksAndMasksHostBits) {
  auto block = Network::parse("192.0.2.77/24");
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->to_string(), "192.0.2.0/24");
  EXPECT_TRUE(block->contains(*Endpoint::from_ip("192.0.2.255", 0)));
  EXPECT_FALSE(block->contains(*Endpoint::from_ip("198.51.100.1", 0)));
  EXPECT_TRUE(block->contains(*Endpoint::from_ip("::ffff:192.0.2.9", 0)));
  auto narrow = Network::parse("198.51.100.77/28");
  ASSERT_TRUE(narrow.ok());
  EXPECT_EQ(narrow->to_string(), "198.51.100.64/28");
  EXPECT_TRUE(narrow->contains(*Endpoint::from_ip("198.51.100.79", 0)));
  EXPECT_FALSE(narrow->contains(*Endpoint::from_ip("198.51.100.80", 0)));
  auto v6 = Network::parse("fe80::1/10");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->to_string(), "fe80::/10");
  EXPECT_TRUE(v6->contains(*Endpoint::from_ip("febf::1", 0)));
  EXPECT_FALSE(v6->contains(*Endpoint::from_ip("fec0::1", 0)));
  EXPECT_EQ(Network::parse("127.0.0.1")->prefix_length(), 32u);
  EXPECT_TRUE(Network::parse("0.0.0.0/0")->contains(*Endpoint::from_ip("203.0.113.8", 0)));
}

TEST(Network, RejectsMalformedBlocks) {
  for (const char* text : {"192.0.2.0/33", "::/129", "192.0.2.0/", "192.0.2.0/x", "192.0.2.300/24",
                           "", "host/8", "192.0.2.0/-1"}) {
    EXPECT_FALSE(Network::parse(text).ok()) << text;
  }
}

}  // namespace
}  // namespace sockit
