// The fixed-frame encoders (Rlerror, Rflush, Tclunk, Tflush, the Twrite header), the
// little-endian stores and the 9P2000.L request set: golden bytes, and agreement with the
// generic codec.
#include <gtest/gtest.h>

#include <array>
#include <set>
#include <vector>

#include "golden.h"
#include "p9/codec.h"

namespace ninep::p9::test {
namespace {

using Frame = std::vector<std::uint8_t>;

template <std::size_t N>
Frame frame_of(const std::array<std::uint8_t, N>& a) {
  return Frame(a.begin(), a.end());
}

// What the generic encoder makes of the same message.
Frame generic(std::uint16_t tag, const Message& m) {
  Frame out(encoded_size(m));
  auto n = encode(out, tag, m);
  EXPECT_TRUE(n) << n.error().message;
  return out;
}

TEST(FixedFrames, Rlerror) {
  std::array<std::uint8_t, kRlerrorSize> out{};
  encode_rlerror(out, 0x0201, 95);  // EOPNOTSUPP
  EXPECT_EQ(frame_of(out), (Frame{
                               0x0b, 0x00, 0x00, 0x00,  // size 11
                               0x07,                    // type 7 Rlerror
                               0x01, 0x02,              // tag 0x0201
                               0x5f, 0x00, 0x00, 0x00,  // ecode 95
                           }));
  EXPECT_EQ(frame_of(out), generic(0x0201, Rlerror{95}));
  encode_rlerror(out, kNoTag, 0xA1B2C3D4);
  EXPECT_EQ(frame_of(out), generic(kNoTag, Rlerror{0xA1B2C3D4}));
}

TEST(FixedFrames, Rflush) {
  std::array<std::uint8_t, kRflushSize> out{};
  encode_rflush(out, 23);
  EXPECT_EQ(frame_of(out), (Frame{
                               0x07, 0x00, 0x00, 0x00,  // size 7
                               0x6d,                    // type 109 Rflush
                               0x17, 0x00,              // tag 23
                           }));
  EXPECT_EQ(frame_of(out), generic(23, Rflush{}));
}

TEST(FixedFrames, Tclunk) {
  std::array<std::uint8_t, kTclunkSize> out{};
  encode_tclunk(out, 26, 0x04030201);
  EXPECT_EQ(frame_of(out), (Frame{
                               0x0b, 0x00, 0x00, 0x00,  // size 11
                               0x78,                    // type 120 Tclunk
                               0x1a, 0x00,              // tag 26
                               0x01, 0x02, 0x03, 0x04,  // fid 0x04030201
                           }));
  EXPECT_EQ(frame_of(out), generic(26, Tclunk{0x04030201}));
}

TEST(FixedFrames, Tflush) {
  std::array<std::uint8_t, kTflushSize> out{};
  encode_tflush(out, 0x8016, 0x0015);
  EXPECT_EQ(frame_of(out), (Frame{
                               0x09, 0x00, 0x00, 0x00,  // size 9
                               0x6c,                    // type 108 Tflush
                               0x16, 0x80,              // tag 0x8016
                               0x15, 0x00,              // oldtag 21
                           }));
  EXPECT_EQ(frame_of(out), generic(0x8016, Tflush{0x0015}));
}

TEST(FixedFrames, TwriteHeaderIsTheFrameUpToItsData) {
  std::array<std::uint8_t, kTwriteHeaderSize> out{};
  encode_twrite_header(out, 25, 1, 0x0807060504030201, 3);
  EXPECT_EQ(frame_of(out), (Frame{
                               0x1a, 0x00, 0x00, 0x00,  // size 26 (header + 3 data bytes)
                               0x76,                    // type 118 Twrite
                               0x19, 0x00,              // tag 25
                               0x01, 0x00, 0x00, 0x00,  // fid 1
                               0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // offset
                               0x03, 0x00, 0x00, 0x00,                          // count 3
                           }));
  static constexpr std::uint8_t kData[] = {'h', 'i', '!'};
  Frame whole = frame_of(out);
  whole.insert(whole.end(), std::begin(kData), std::end(kData));
  EXPECT_EQ(whole, generic(25, Twrite{1, 0x0807060504030201, Bytes(kData)}));
}

TEST(FixedFrames, TwriteHeaderOfNoData) {
  std::array<std::uint8_t, kTwriteHeaderSize> out{};
  encode_twrite_header(out, 0, 7, 0, 0);
  EXPECT_EQ(frame_of(out), generic(0, Twrite{7, 0, Bytes{}}));
}

TEST(LittleEndian, StoresAreTheInverseOfLoads) {
  std::uint8_t b[8] = {};
  store_le16(b, 0xBEEF);
  EXPECT_EQ((Frame(b, b + 2)), (Frame{0xEF, 0xBE}));
  EXPECT_EQ(load_le16(b), 0xBEEF);
  store_le32(b, 0xDEADBEEF);
  EXPECT_EQ((Frame(b, b + 4)), (Frame{0xEF, 0xBE, 0xAD, 0xDE}));
  EXPECT_EQ(load_le32(b), 0xDEADBEEFu);
  store_le64(b, 0x0123456789ABCDEF);
  EXPECT_EQ((Frame(b, b + 8)), (Frame{0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01}));
  EXPECT_EQ(load_le64(b), 0x0123456789ABCDEFu);
}

TEST(DotlRequests, AreExactlyTheRequestTypesOfTheMessageSet) {
  // The golden tables hold one frame of every message the codec knows.
  std::set<int> golden;
  for (const auto& g : golden_requests()) golden.insert(int(type_of(g.expected.msg)));
  for (const auto& g : golden_replies())
    EXPECT_FALSE(is_dotl_request(static_cast<std::uint8_t>(type_of(g.expected.msg)))) << g.name;
  std::set<int> dotl;
  for (int t = 0; t < 256; ++t)
    if (is_dotl_request(static_cast<std::uint8_t>(t))) dotl.insert(t);
  EXPECT_EQ(dotl, golden);
  EXPECT_EQ(dotl.size(), 28u);
  for (Type legacy : {Type::Topen, Type::Tcreate, Type::Tstat, Type::Twstat})
    EXPECT_FALSE(is_dotl_request(static_cast<std::uint8_t>(legacy)));
}

}  // namespace
}  // namespace ninep::p9::test
