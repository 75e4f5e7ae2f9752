// Every golden frame is checked in both directions: decode(bytes) == expected and
// encode(expected) == bytes, plus the size bookkeeping around it.
#include <gtest/gtest.h>

#include <set>

#include "golden.h"
#include "p9/codec.h"
#include "p9/format.h"

namespace ninep::p9::test {
namespace {

std::vector<GoldenCase> all_cases() {
  auto cases = golden_requests();
  auto replies = golden_replies();
  cases.insert(cases.end(), replies.begin(), replies.end());
  return cases;
}

class Golden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(Golden, DecodesToTheExpectedMessage) {
  const GoldenCase& g = GetParam();
  auto d = decode(g.bytes);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->tag, g.expected.tag);
  EXPECT_EQ(type_of(d->msg), type_of(g.expected.msg));
  EXPECT_TRUE(*d == g.expected) << "decoded:  " << to_string(*d)
                                << "\nexpected: " << to_string(g.expected);
}

TEST_P(Golden, EncodesToTheGoldenBytes) {
  const GoldenCase& g = GetParam();
  EXPECT_EQ(encoded_size(g.expected.msg), g.bytes.size());
  std::vector<std::uint8_t> out(g.bytes.size() + 16, 0xAA);
  auto n = encode(out, g.expected);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(*n, g.bytes.size());
  out.resize(*n);
  EXPECT_EQ(out, g.bytes);
}

TEST_P(Golden, EncodeIntoATooSmallBufferIsENOBUFS) {
  const GoldenCase& g = GetParam();
  std::vector<std::uint8_t> out(g.bytes.size() - 1);
  auto n = encode(out, g.expected);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ENOBUFS);
}

TEST_P(Golden, MsizeBoundIsInclusive) {
  const GoldenCase& g = GetParam();
  auto size = std::uint32_t(g.bytes.size());
  EXPECT_TRUE(decode(g.bytes, size));
  auto d = decode(g.bytes, size - 1);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, EMSGSIZE);
}

TEST_P(Golden, RendersWithItsTypeNameAndTag) {
  const GoldenCase& g = GetParam();
  std::string line = to_string(g.expected);
  std::string prefix = std::string(type_name(type_of(g.expected.msg))) + " tag=";
  EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(AllMessages, Golden, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

TEST(GoldenCoverage, EveryMessageTypeHasAGoldenVector) {
  std::set<std::size_t> covered;
  for (const auto& g : all_cases()) covered.insert(g.expected.msg.index());
  for (std::size_t i = 0; i < std::variant_size_v<Message>; ++i)
    EXPECT_TRUE(covered.count(i)) << "variant alternative " << i << " has no golden vector";
  EXPECT_EQ(covered.size(), std::variant_size_v<Message>);
}

TEST(GoldenCoverage, RequestsAndRepliesAreInTheirTables) {
  for (const auto& g : golden_requests())
    EXPECT_TRUE(is_request(type_of(g.expected.msg))) << g.name;
  for (const auto& g : golden_replies())
    EXPECT_FALSE(is_request(type_of(g.expected.msg))) << g.name;
}

}  // namespace
}  // namespace ninep::p9::test
