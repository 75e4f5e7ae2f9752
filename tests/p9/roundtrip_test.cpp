// encode -> decode -> encode for every message type, at the boundaries of every field.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "p9/codec.h"
#include "p9/fields.h"
#include "p9/format.h"

namespace ninep::p9 {
namespace {

// Sets every field of a message to an extreme value: all-ones integers and qids, strings and
// payloads of a given length, and the walk arrays full (16 elements).
struct Filler {
  bool max;
  std::string_view text;  // used for every string
  Bytes payload;          // used for every data field

  template <typename T>
  void set(T& x) {
    x = max ? T(~T{0}) : T{0};
  }
  void u8(const char*, std::uint8_t& x) { set(x); }
  void u16(const char*, std::uint16_t& x) { set(x); }
  void u32(const char*, std::uint32_t& x) { set(x); }
  void u64(const char*, std::uint64_t& x) { set(x); }
  void qid(const char*, Qid& q) {
    set(q.type);
    set(q.version);
    set(q.path);
  }
  void str(const char*, std::string_view& s) { s = text; }
  void data(const char*, Bytes& d) { d = payload; }
  void wnames(std::uint16_t& n, std::array<std::string_view, kMaxWalkElems>& names) {
    n = max ? kMaxWalkElems : 0;
    for (std::size_t i = 0; i < n; ++i) names[i] = text;
  }
  void qids(std::uint16_t& n, std::array<Qid, kMaxWalkElems>& qs) {
    n = max ? kMaxWalkElems : 0;
    for (std::size_t i = 0; i < n; ++i) qid("qid", qs[i]);
  }
};

template <std::size_t... I>
std::vector<Message> every_alternative(const Filler& f, std::index_sequence<I...>) {
  std::vector<Message> out;
  auto add = [&](auto m) {
    Filler copy = f;
    wire::fields(copy, m);
    out.emplace_back(m);
  };
  (add(std::variant_alternative_t<I, Message>{}), ...);
  return out;
}

std::vector<Message> every_alternative(const Filler& f) {
  return every_alternative(f, std::make_index_sequence<std::variant_size_v<Message>>());
}

void expect_round_trip(std::uint16_t tag, const Message& m) {
  SCOPED_TRACE(std::string(type_name(type_of(m))));
  std::size_t size = encoded_size(m);
  std::vector<std::uint8_t> buf(size);
  auto n = encode(buf, tag, m);
  ASSERT_TRUE(n) << n.error().message;
  ASSERT_EQ(*n, size);
  auto d = decode(buf);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->tag, tag);
  EXPECT_TRUE(d->msg == m);
  std::vector<std::uint8_t> again(size);
  auto n2 = encode(again, *d);
  ASSERT_TRUE(n2);
  EXPECT_EQ(again, buf);
  EXPECT_FALSE(to_string(*d).empty());
}

TEST(RoundTrip, EveryTypeWithZerosAndEmptyStrings) {
  for (const Message& m : every_alternative(Filler{false, "", {}})) expect_round_trip(0, m);
}

TEST(RoundTrip, EveryTypeWithMaxIntegersAndLongestStrings) {
  std::string longest(0xFFFF, 'x');
  std::vector<std::uint8_t> payload(70000);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = std::uint8_t(i * 7);
  auto all = every_alternative(Filler{true, longest, payload});
  ASSERT_EQ(all.size(), std::variant_size_v<Message>);
  for (const Message& m : all) expect_round_trip(kNoTag, m);
}

TEST(RoundTrip, SixteenDistinctWalkNames) {
  std::vector<std::string> names;
  for (int i = 0; i < 16; ++i) names.push_back(std::string(std::size_t(i), char('a' + i)));
  Twalk w{1, 2, 16, {}};
  for (int i = 0; i < 16; ++i) w.wnames[i] = names[i];
  expect_round_trip(7, w);
}

TEST(RoundTrip, SixteenDistinctQids) {
  Rwalk r{16, {}};
  for (int i = 0; i < 16; ++i) r.qids[i] = Qid{std::uint8_t(i), std::uint32_t(i * 1000), ~0ull - i};
  expect_round_trip(7, r);
}

TEST(RoundTrip, StringsAreBytesNotText) {
  // The wire layer stays neutral: NUL, '/', and non-UTF-8 bytes pass through unchanged.
  std::string odd("a\0b/\xff\x80", 6);
  expect_round_trip(1, Tlcreate{1, odd, 0, 0, 0});
  expect_round_trip(1, Rreadlink{odd});
}

TEST(RoundTrip, EmptyPayloads) {
  expect_round_trip(1, Rread{});
  expect_round_trip(1, Rreaddir{});
  expect_round_trip(1, Twrite{1, ~0ull, {}});
}

TEST(Encode, RejectsWhatTheWireCannotHold) {
  std::vector<std::uint8_t> buf(1 << 20);
  std::string too_long(0x10000, 'x');
  auto e = encode(buf, 1, Tlcreate{1, too_long, 0, 0, 0});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, EINVAL);
  EXPECT_NE(e.error().message.find("name"), std::string::npos) << e.error().message;

  Twalk w{1, 2, 17, {}};
  e = encode(buf, 1, w);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, EINVAL);
  EXPECT_NE(e.error().message.find("nwname"), std::string::npos) << e.error().message;

  Rwalk r{17, {}};
  e = encode(buf, 1, r);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, EINVAL);
  EXPECT_NE(e.error().message.find("nwqid"), std::string::npos) << e.error().message;
}

TEST(Encode, WritesNothingPastTheFrame) {
  std::vector<std::uint8_t> buf(64, 0xEE);
  auto n = encode(buf, 3, Tclunk{9});
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 11u);
  for (std::size_t i = *n; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xEE) << i;
}

TEST(Encode, ZeroCopyReadHeadersMatchTheFullEncoder) {
  std::vector<std::uint8_t> data(1000, 0x5A);
  for (bool dir : {false, true}) {
    Message m = dir ? Message(Rreaddir{data}) : Message(Rread{data});
    std::vector<std::uint8_t> full(encoded_size(m));
    ASSERT_TRUE(encode(full, 42, m));
    std::vector<std::uint8_t> zc(kRreadHeaderSize + data.size());
    std::copy(data.begin(), data.end(), zc.begin() + kRreadHeaderSize);
    auto header = std::span<std::uint8_t, kRreadHeaderSize>(zc.data(), kRreadHeaderSize);
    if (dir)
      encode_rreaddir_header(header, 42, std::uint32_t(data.size()));
    else
      encode_rread_header(header, 42, std::uint32_t(data.size()));
    EXPECT_EQ(zc, full);
  }
}

}  // namespace
}  // namespace ninep::p9
