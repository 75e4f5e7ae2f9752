// libFuzzer: treat the input as a byte stream. The first two bytes choose the msize and the chunk
// size; the rest is fed to a FrameReader in chunks, and every frame it hands out is decoded.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "p9/codec.h"
#include "p9/format.h"
#include "p9/frame_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ninep::p9;
  if (size < 2) return 0;
  std::uint32_t msize = data[0] == 0 ? 0 : 7u + std::uint32_t(data[0]) * 16;
  std::size_t chunk = 1 + data[1] % 64;
  data += 2;
  size -= 2;

  FrameReader reader(msize);
  std::size_t pos = 0, framed = 0;
  while (pos < size) {
    auto space = reader.write_space(chunk);
    if (space.size() < chunk) __builtin_trap();
    std::size_t n = std::min(chunk, size - pos);
    std::memcpy(space.data(), data + pos, n);
    reader.commit(n);
    pos += n;
    while (true) {
      auto frame = reader.next();
      if (!frame) {
        if (frame.error().code != EMSGSIZE) __builtin_trap();
        return 0;  // the stream cannot be resynchronised
      }
      if (!*frame) break;
      Bytes f = **frame;
      if (f.size() < kHeaderSize || (msize && f.size() > msize)) __builtin_trap();
      // The frame must be exactly what the stream held at this point.
      if (std::memcmp(f.data(), data + framed, f.size()) != 0) __builtin_trap();
      framed += f.size();
      if (auto m = decode(f, msize)) (void)to_string(*m);
    }
    if (msize && reader.capacity() > std::size_t(msize) + chunk + 64) __builtin_trap();
  }
  if (framed + reader.buffered() != size) __builtin_trap();
  return 0;
}
