// Encoding and decoding of whole 9P2000.L frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/error.h"
#include "p9/message.h"

namespace ninep::p9 {

// Decode one whole frame (size[4] type[1] tag[2] body). Total: any input gives a message or an
// Error whose code is EPROTO (malformed), EMSGSIZE (size < 7 or > msize) or EOPNOTSUPP (a legacy
// 9P2000 type: "unsupported version") and whose message names the problem precisely. The result
// views `frame`. msize 0 means "no limit beyond the 32-bit size field".
Result<Fcall> decode(Bytes frame, std::uint32_t msize = 0);

// Encode into `out`; returns the frame length. ENOBUFS when `out` is too small, EINVAL when a
// value cannot be represented (string > 65535 bytes, nwname > 16, data > 4 GiB).
Result<std::size_t> encode(std::span<std::uint8_t> out, std::uint16_t tag, const Message& m);

// Exact encoded size of a frame holding `m`.
std::size_t encoded_size(const Message& m);

// For zero-copy reads: an Rread frame is kRreadHeaderSize bytes of header followed by the data.
// Read the data into out[kRreadHeaderSize...] first, then call this to fill in the header.
inline constexpr std::size_t kRreadHeaderSize = kHeaderSize + 4;
void encode_rread_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                         std::uint32_t count);
// Same for Rreaddir (identical layout, type 41).
void encode_rreaddir_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                            std::uint32_t count);

// Little-endian helpers shared by the codec, the frame reader and tests.
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}

}  // namespace ninep::p9
