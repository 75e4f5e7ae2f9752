// Stream framing: one buffer, compacted in place, grown only when a frame needs more room.
#include "p9/frame_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "p9/codec.h"

namespace ninep::p9 {

std::span<std::uint8_t> FrameReader::write_space(std::size_t min) {
  if (begin_ == end_) begin_ = end_ = 0;
  if (buf_.size() - end_ >= min) return std::span(buf_).subspan(end_);
  // Move the partial frame to the front before considering growth: in steady state that is
  // enough, and the buffer is never reallocated.
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (const std::size_t cap = capacity_for(min); cap != buf_.size()) buf_.resize(cap);
  return std::span(buf_).subspan(end_);
}

std::size_t FrameReader::capacity_for(std::size_t min) const {
  // write_space() first moves the partial frame to the front.
  const std::size_t end = end_ - begin_;
  const std::size_t room = buf_.size() - (begin_ == end_ ? 0 : end_);
  const std::size_t needed = end + min;
  if (room >= min || buf_.size() >= needed) return buf_.size();
  // Grow geometrically, but never past what one frame under msize plus one read can need.
  const std::size_t limit = msize_ == 0 ? SIZE_MAX : std::max<std::size_t>(needed, msize_ + min);
  const std::size_t target = std::max({needed, buf_.size() * 2, std::size_t{4096}});
  return std::min(target, limit);
}

void FrameReader::commit(std::size_t n) {
  end_ = std::min(end_ + n, buf_.size());
}

Result<std::optional<Bytes>> FrameReader::next() {
  std::size_t have = end_ - begin_;
  if (have < 4) return std::nullopt;
  std::uint32_t size = load_le32(buf_.data() + begin_);
  if (size < kHeaderSize) {
    return fail(EMSGSIZE,
                fmt::format("size field {} is below the minimum frame size {}", size, kHeaderSize));
  }
  if (msize_ != 0 && size > msize_) {
    return fail(EMSGSIZE, fmt::format("size field {} exceeds msize {}", size, msize_));
  }
  if (have < size) return std::nullopt;
  Bytes frame(buf_.data() + begin_, size);
  begin_ += size;
  return frame;
}

}  // namespace ninep::p9
