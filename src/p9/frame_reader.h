// Splits a byte stream into whole 9P frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "p9/message.h"

namespace ninep::p9 {

// Accumulates bytes from a stream and hands out whole frames. A size field below 7 or above the
// negotiated msize is rejected as soon as its 4 bytes arrive, before anything is allocated for it.
// msize 0 means "no limit". The buffer grows geometrically to at most msize + the largest `min`
// asked for, so in steady state (frames drained with next() before each read) nothing allocates.
class FrameReader {
 public:
  explicit FrameReader(std::uint32_t msize) : msize_(msize) {}

  void set_msize(std::uint32_t msize) { msize_ = msize; }
  std::uint32_t msize() const { return msize_; }

  // Room to read into: at least `min` bytes (the buffer grows up to msize as needed).
  std::span<std::uint8_t> write_space(std::size_t min = 4096);
  // What capacity() will be after write_space(min): for a caller that accounts for the buffer
  // before it grows.
  std::size_t capacity_for(std::size_t min) const;
  // Declare that `n` bytes were written into the last write_space().
  void commit(std::size_t n);

  // The next whole frame, if one is buffered; EMSGSIZE for a bad size field. The span is valid
  // until the next call to next(), write_space() or commit().
  Result<std::optional<Bytes>> next();

  // Bytes buffered but not yet returned as frames.
  std::size_t buffered() const { return end_ - begin_; }
  // Bytes currently allocated for the buffer.
  std::size_t capacity() const { return buf_.size(); }

 private:
  std::uint32_t msize_;
  std::vector<std::uint8_t> buf_;
  std::size_t begin_ = 0, end_ = 0;
};

}  // namespace ninep::p9
