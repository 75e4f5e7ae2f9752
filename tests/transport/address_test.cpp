#include "transport/address.h"

#include <gtest/gtest.h>

namespace ninep::transport {
namespace {

TEST(AddressTest, ParsesUnix) {
  auto a = parse_address("unix:/tmp/x.sock");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->kind, Address::Kind::Unix);
  EXPECT_EQ(a->path, "/tmp/x.sock");
  EXPECT_EQ(a->to_string(), "unix:/tmp/x.sock");
}

TEST(AddressTest, UnixPathMayContainColons) {
  auto a = parse_address("unix:/tmp/a:b:c");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->path, "/tmp/a:b:c");
}

TEST(AddressTest, ParsesTcp) {
  auto a = parse_address("tcp:127.0.0.1:564");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->kind, Address::Kind::Tcp);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 564);
  EXPECT_EQ(a->to_string(), "tcp:127.0.0.1:564");
}

TEST(AddressTest, ParsesTcpIpv6WithAndWithoutBrackets) {
  for (const char* text : {"tcp:[::1]:5640", "tcp:::1:5640"}) {
    auto a = parse_address(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(a->host, "::1");
    EXPECT_EQ(a->port, 5640);
    EXPECT_EQ(a->to_string(), "tcp:[::1]:5640");
  }
}

TEST(AddressTest, TcpWithOnlyAPortIsLoopback) {
  auto a = parse_address("tcp:5640");
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 5640);
  EXPECT_EQ(a->to_string(), "tcp:127.0.0.1:5640");
}

TEST(AddressTest, ParsesVsockWithAndWithoutCid) {
  auto a = parse_address("vsock:3:1024");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, Address::Kind::Vsock);
  EXPECT_EQ(a->cid, 3u);
  EXPECT_EQ(a->vport, 1024u);
  EXPECT_EQ(a->to_string(), "vsock:3:1024");
  auto any = parse_address("vsock:1024");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->cid, 0xFFFFFFFFu);
  EXPECT_EQ(any->vport, 1024u);
  EXPECT_EQ(any->to_string(), "vsock:1024");
}

TEST(AddressTest, ParsesFd) {
  auto a = parse_address("fd:3");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->kind, Address::Kind::Fd);
  EXPECT_EQ(a->fd, 3);
  EXPECT_EQ(a->to_string(), "fd:3");
}

TEST(AddressTest, RoundTripsThroughToString) {
  for (const char* text :
       {"unix:/run/x", "tcp:localhost:1", "tcp:[::1]:65535", "vsock:2:5", "vsock:7", "fd:0"}) {
    auto a = parse_address(text);
    ASSERT_TRUE(a) << text;
    auto b = parse_address(a->to_string());
    ASSERT_TRUE(b) << a->to_string();
    EXPECT_EQ(b->to_string(), a->to_string());
  }
}

TEST(AddressTest, RejectsOverlongUnixPath) {
  auto a = parse_address("unix:/" + std::string(200, 'x'));
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("too long"), std::string::npos) << a.error().message;
  EXPECT_TRUE(parse_address("unix:/" + std::string(106, 'x')));
}

struct BadAddress {
  const char* text;
  const char* expected_fragment;  // the error names the bad part
};

class BadAddressTest : public ::testing::TestWithParam<BadAddress> {};

TEST_P(BadAddressTest, IsRejectedNamingTheBadPart) {
  auto a = parse_address(GetParam().text);
  ASSERT_FALSE(a) << GetParam().text << " parsed as " << a->to_string();
  EXPECT_EQ(a.error().code, EINVAL);
  EXPECT_NE(a.error().message.find(GetParam().expected_fragment), std::string::npos)
      << "message: " << a.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    All, BadAddressTest,
    ::testing::Values(
        BadAddress{"", "no transport prefix"}, BadAddress{"/tmp/sock", "no transport prefix"},
        BadAddress{"udp:1.2.3.4:5", "unknown transport 'udp'"},
        BadAddress{"unix:", "missing socket path"},
        BadAddress{"tcp:localhost", "missing port in 'localhost'"},
        BadAddress{"tcp:99999", "missing port in '99999'"}, BadAddress{"tcp::564", "missing host"},
        BadAddress{"tcp:localhost:http", "port 'http' is not a number"},
        BadAddress{"tcp:localhost:70000", "port 70000 is out of range"},
        BadAddress{"tcp:localhost:-1", "port '-1' is not a number"},
        BadAddress{"vsock:x:5", "CID 'x' is not a number"},
        BadAddress{"vsock:3:y", "port 'y' is not a number"}, BadAddress{"vsock:", "missing port"},
        BadAddress{"vsock:3:", "missing port"},
        BadAddress{"vsock:99999999999:1", "CID '99999999999' is not a number"},
        BadAddress{"fd:", "descriptor '' is not"}, BadAddress{"fd:-2", "descriptor '-2' is not"},
        BadAddress{"fd:3x", "descriptor '3x' is not"}));

}  // namespace
}  // namespace ninep::transport
