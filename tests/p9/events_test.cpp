// Change-event records (p9/events.h, docs/events.md): the layout byte for byte, batches, records
// of unknown kinds skipped, and malformed bytes refused with EPROTO.
#include <gtest/gtest.h>

#include <vector>

#include "p9/codec.h"
#include "p9/events.h"

namespace ninep::p9 {
namespace {

Event rename_event() {
  Event e;
  e.kind = EventKind::Rename;
  e.flags = kEventIsDir;
  e.dir_qid = {kQtDir, 1, 2};
  e.qid = {kQtDir, 3, 4};
  e.path = "d1";
  e.name = "x";
  e.to_dir_qid = {kQtDir, 5, 6};
  e.to_path = "d2";
  e.to_name = "yy";
  return e;
}

std::vector<std::uint8_t> encoded(const Event& e) {
  std::vector<std::uint8_t> out(event_size(e));
  auto n = encode_event(out, e);
  EXPECT_TRUE(n);
  EXPECT_EQ(n.value_or(0), out.size());
  return out;
}

TEST(Events, LayoutIsAsDocumented) {
  const auto b = encoded(rename_event());
  ASSERT_EQ(b.size(), 4u + 1 + 1 + 13 + 13 + (2 + 2) + (2 + 1) + 13 + (2 + 2) + (2 + 2));
  EXPECT_EQ(load_le32(b.data()), b.size());
  EXPECT_EQ(b[4], 3);  // RENAME
  EXPECT_EQ(b[5], 1);  // a directory
  EXPECT_EQ(b[6], kQtDir);
  EXPECT_EQ(load_le32(&b[7]), 1u);
  EXPECT_EQ(load_le64(&b[11]), 2u);
  EXPECT_EQ(load_le64(&b[24]), 4u);  // qid.path
  EXPECT_EQ(load_le16(&b[32]), 2u);  // path "d1"
  EXPECT_EQ(b[34], 'd');
  EXPECT_EQ(load_le16(&b[36]), 1u);  // name "x"
  EXPECT_EQ(b[38], 'x');
  EXPECT_EQ(load_le64(&b[44]), 6u);  // to_dir_qid.path
  EXPECT_EQ(load_le16(&b[52]), 2u);  // to_path "d2"
  EXPECT_EQ(load_le16(&b[56]), 2u);  // to_name "yy"
  EXPECT_EQ(b[58], 'y');
}

TEST(Events, ABatchRoundTripsAndUnknownKindsAreSkipped) {
  Event overflow;
  overflow.kind = EventKind::Overflow;
  auto batch = encoded(rename_event());
  // A record of a kind this decoder does not know, with a body of its own, between two.
  const std::vector<std::uint8_t> unknown = {9, 0, 0, 0, 42, 0, 0xAA, 0xBB, 0xCC};
  batch.insert(batch.end(), unknown.begin(), unknown.end());
  const auto o = encoded(overflow);
  batch.insert(batch.end(), o.begin(), o.end());
  auto events = decode_events(batch);
  ASSERT_TRUE(events) << events.error().to_string();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0], rename_event());
  EXPECT_EQ((*events)[1], overflow);
  EXPECT_TRUE(decode_events({}).value().empty());
}

TEST(Events, EncodingRefusesWhatCannotBeSaid) {
  std::vector<std::uint8_t> small(10);
  EXPECT_EQ(encode_event(small, rename_event()).error().code, ENOBUFS);
  Event e = rename_event();
  e.name.assign(70000, 'n');
  std::vector<std::uint8_t> big(80000);
  EXPECT_EQ(encode_event(big, e).error().code, EINVAL);
}

TEST(Events, MalformedRecordsAreErrors) {
  const auto good = encoded(rename_event());
  auto expect_eproto = [](std::vector<std::uint8_t> b, const char* what) {
    auto r = decode_events(b);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code, EPROTO) << what;
  };
  // Every truncation of a good record.
  for (std::size_t n = 1; n < good.size(); ++n)
    expect_eproto(std::vector<std::uint8_t>(good.begin(), good.begin() + n), "truncated");
  auto b = good;
  store_le32(b.data(), 5);
  expect_eproto(b, "size below the header");
  b = good;
  store_le32(b.data(), static_cast<std::uint32_t>(good.size() + 1));
  expect_eproto(b, "size beyond the batch");
  b = good;
  store_le32(b.data(), 20);
  expect_eproto(b, "size below the fixed part");
  b = good;
  store_le16(&b[32], 0xFFFF);
  expect_eproto(b, "string past the record");
  b = good;
  b.push_back(0);
  store_le32(b.data(), static_cast<std::uint32_t>(b.size()));
  expect_eproto(b, "bytes after the last field");
  // Garbage of every length.
  for (std::size_t n = 0; n < 200; ++n) {
    std::vector<std::uint8_t> junk(n, static_cast<std::uint8_t>(n * 37));
    (void)decode_events(junk);
  }
}

}  // namespace
}  // namespace ninep::p9
