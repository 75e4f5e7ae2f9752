// The in-flight table on its own: tags are unique while in flight, the table is bounded, and
// requests come back from the pool clean.
#include "server/inflight.h"

#include <gtest/gtest.h>

namespace ninep::server {
namespace {

Request* with_tag(InFlightTable& t, std::uint16_t tag) {
  Request* r = t.acquire();
  r->tag = tag;
  return r;
}

TEST(InFlightTable, ATagIsInFlightOnceUntilRemoved) {
  InFlightTable t(2);
  Request* a = with_tag(t, 7);
  ASSERT_EQ(t.add(a, 10), InFlightTable::Added::Ok);
  Request* again = with_tag(t, 7);
  EXPECT_EQ(t.add(again, 10), InFlightTable::Added::TagInUse);
  EXPECT_EQ(t.find(7), a);
  EXPECT_EQ(t.find(8), nullptr);
  t.remove(a);
  EXPECT_EQ(t.find(7), nullptr);
  EXPECT_EQ(t.add(again, 10), InFlightTable::Added::Ok);
  EXPECT_EQ(t.find(7), again);
  EXPECT_EQ(t.size(), 1u);
}

TEST(InFlightTable, RefusesBeyondItsBound) {
  InFlightTable t(2);
  for (std::uint16_t tag = 0; tag < 3; ++tag)
    ASSERT_EQ(t.add(with_tag(t, tag), 3), InFlightTable::Added::Ok);
  EXPECT_EQ(t.add(with_tag(t, 3), 3), InFlightTable::Added::Full);
  EXPECT_EQ(t.size(), 3u);
  int seen = 0;
  t.for_each([&](Request* r) {
    EXPECT_LT(r->tag, 3);
    ++seen;
  });
  EXPECT_EQ(seen, 3);
}

TEST(InFlightTable, RemovingFromTheMiddleKeepsTheOthers) {
  InFlightTable t(2);
  Request* r[3];
  for (std::uint16_t i = 0; i < 3; ++i)
    ASSERT_EQ(t.add(r[i] = with_tag(t, i), 8), InFlightTable::Added::Ok);
  t.remove(r[1]);
  EXPECT_EQ(t.find(0), r[0]);
  EXPECT_EQ(t.find(1), nullptr);
  EXPECT_EQ(t.find(2), r[2]);
  t.remove(r[2]);
  t.remove(r[0]);
  EXPECT_EQ(t.size(), 0u);
}

TEST(InFlightTable, ReleasedRequestsComeBackClean) {
  InFlightTable t(2);
  Request* r = with_tag(t, 1);
  r->dropped = true;
  r->flush_waiters = {4, 5};
  r->charged = 100;
  r->state = Request::State::Parked;
  t.release(r);
  Request* back = t.acquire();
  EXPECT_EQ(back, r);  // recycled, not allocated again
  EXPECT_FALSE(back->dropped);
  EXPECT_TRUE(back->flush_waiters.empty());
  EXPECT_EQ(back->charged, 0u);
  EXPECT_EQ(back->state, Request::State::Queued);
}

}  // namespace
}  // namespace ninep::server
