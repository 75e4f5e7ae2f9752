// FrameReader: frames split at any chunk boundary, size checks before allocation, no steady-state
// reallocation.
#include <gtest/gtest.h>

#include <cstring>

#include "golden.h"
#include "p9/codec.h"
#include "p9/frame_reader.h"

namespace ninep::p9 {
namespace {

std::vector<std::vector<std::uint8_t>> golden_frames() {
  std::vector<std::vector<std::uint8_t>> out;
  for (const auto& g : test::golden_requests()) out.push_back(g.bytes);
  for (const auto& g : test::golden_replies()) out.push_back(g.bytes);
  return out;
}

// Feeds `stream` in chunks of `chunk` bytes and returns every frame handed out.
std::vector<std::vector<std::uint8_t>> split(FrameReader& r,
                                             const std::vector<std::uint8_t>& stream,
                                             std::size_t chunk) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::size_t predicted = r.capacity_for(chunk);
    auto space = r.write_space(chunk);
    EXPECT_GE(space.size(), chunk);
    EXPECT_EQ(r.capacity(), predicted) << "capacity_for() told what write_space() does";
    std::size_t n = std::min({chunk, space.size(), stream.size() - pos});
    std::memcpy(space.data(), stream.data() + pos, n);
    r.commit(n);
    pos += n;
    while (true) {
      auto f = r.next();
      EXPECT_TRUE(f) << f.error().message;
      if (!f || !*f) break;
      frames.emplace_back((*f)->begin(), (*f)->end());
    }
  }
  return frames;
}

TEST(FrameReader, SplitsAStreamAtEveryChunkSize) {
  auto expected = golden_frames();
  std::vector<std::uint8_t> stream;
  for (const auto& f : expected) stream.insert(stream.end(), f.begin(), f.end());
  for (std::size_t chunk = 1; chunk <= stream.size() + 1; ++chunk) {
    FrameReader r(8192);
    auto frames = split(r, stream, chunk);
    ASSERT_EQ(frames, expected) << "chunk " << chunk;
    EXPECT_EQ(r.buffered(), 0u);
    for (const auto& f : frames) EXPECT_TRUE(decode(f, 8192));
  }
}

TEST(FrameReader, ManyFramesInOneChunk) {
  std::vector<std::uint8_t> stream;
  const std::vector<std::uint8_t> clunk = {11, 0, 0, 0, 120, 0, 0, 1, 0, 0, 0};
  for (int i = 0; i < 1000; ++i) {
    stream.insert(stream.end(), clunk.begin(), clunk.end());
    stream[stream.size() - 6] = std::uint8_t(i);  // tag low byte
  }
  FrameReader r(0);
  auto space = r.write_space(stream.size());
  ASSERT_GE(space.size(), stream.size());
  std::memcpy(space.data(), stream.data(), stream.size());
  r.commit(stream.size());
  for (int i = 0; i < 1000; ++i) {
    auto f = r.next();
    ASSERT_TRUE(f && *f) << i;
    auto d = decode(**f);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->tag & 0xff, i & 0xff);
  }
  auto f = r.next();
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
}

TEST(FrameReader, OversizeIsRejectedAsSoonAsTheSizeArrivesAndBeforeAllocating) {
  FrameReader r(8192);
  const std::uint8_t header[] = {0x00, 0x00, 0x00, 0x40};  // size 1 GiB
  for (std::size_t i = 0; i < 4; ++i) {
    auto space = r.write_space(1);
    space[0] = header[i];
    r.commit(1);
    auto f = r.next();
    if (i < 3) {
      ASSERT_TRUE(f);
      EXPECT_FALSE(*f);
    } else {
      ASSERT_FALSE(f);
      EXPECT_EQ(f.error().code, EMSGSIZE);
      EXPECT_NE(f.error().message.find("exceeds msize 8192"), std::string::npos);
    }
  }
  EXPECT_LE(r.capacity(), 8192u);
  // It stays rejected: the stream cannot be resynchronised.
  EXPECT_FALSE(r.next());
}

TEST(FrameReader, UndersizeIsRejected) {
  FrameReader r(8192);
  auto space = r.write_space(4);
  const std::uint8_t header[] = {6, 0, 0, 0};
  std::memcpy(space.data(), header, 4);
  r.commit(4);
  auto f = r.next();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, EMSGSIZE);
}

TEST(FrameReader, FrameOfExactlyMsizeIsAccepted) {
  const std::uint32_t msize = 4096;
  std::vector<std::uint8_t> data(msize - kRreadHeaderSize, 0x11);
  std::vector<std::uint8_t> frame(msize);
  ASSERT_TRUE(encode(frame, 1, Rread{data}));
  FrameReader r(msize);
  auto frames = split(r, frame, 1000);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], frame);
}

TEST(FrameReader, SteadyStateDoesNotReallocate) {
  const std::uint32_t msize = 65536;
  std::vector<std::uint8_t> big(msize);
  std::vector<std::uint8_t> data(msize - kRreadHeaderSize, 0x22);
  ASSERT_TRUE(encode(big, 1, Rread{data}));
  std::vector<std::uint8_t> stream;
  for (int i = 0; i < 3; ++i) {
    stream.insert(stream.end(), big.begin(), big.end());
    stream.insert(stream.end(), {11, 0, 0, 0, 120, 0, 0, 1, 0, 0, 0});
  }
  FrameReader r(msize);
  split(r, stream, 4096);  // warm up
  std::size_t cap = r.capacity();
  EXPECT_LE(cap, msize + 4096u);
  for (std::size_t chunk : {4096u, 1000u, 1u, 4095u}) {
    auto frames = split(r, stream, chunk);
    EXPECT_EQ(frames.size(), 6u);
    EXPECT_EQ(r.capacity(), cap) << "chunk " << chunk;
  }
}

TEST(FrameReader, LowerMsizeAfterVersionApplies) {
  FrameReader r(1 << 20);
  r.set_msize(16);
  EXPECT_EQ(r.msize(), 16u);
  auto space = r.write_space(4);
  const std::uint8_t header[] = {17, 0, 0, 0};
  std::memcpy(space.data(), header, 4);
  r.commit(4);
  auto f = r.next();
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, EMSGSIZE);
}

}  // namespace
}  // namespace ninep::p9
