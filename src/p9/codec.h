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
// 9P2000 type: "unsupported version", or a type 9P2000.L does not define) and whose message names
// the problem precisely. The result views `frame`. msize 0 means "no limit beyond the 32-bit size
// field". Strict: a successful decode re-encodes to exactly `frame`. Never allocates on success.
Result<Fcall> decode(Bytes frame, std::uint32_t msize = 0);

// The fixed header of a frame, checked only for its size (the same size errors as decode()). Lets
// a server answer an EOPNOTSUPP frame with an Rlerror carrying the right tag.
struct FrameHeader {
  std::uint32_t size = 0;
  Type type{};  // raw wire byte; may be a value outside the enum
  std::uint16_t tag = 0;
};
Result<FrameHeader> decode_header(Bytes frame, std::uint32_t msize = 0);

// Encode into `out`; returns the frame length. ENOBUFS when `out` is too small, EINVAL when a
// value cannot be represented (string > 65535 bytes, nwname > 16, data > 4 GiB).
Result<std::size_t> encode(std::span<std::uint8_t> out, std::uint16_t tag, const Message& m);
inline Result<std::size_t> encode(std::span<std::uint8_t> out, const Fcall& f) {
  return encode(out, f.tag, f.msg);
}

// Exact encoded size of a frame holding `m`.
std::size_t encoded_size(const Message& m);

// For zero-copy reads: an Rread frame is kRreadHeaderSize bytes of header followed by the data.
// Read the data into out[kRreadHeaderSize...] first, then call this to fill in the header.
inline constexpr std::size_t kRreadHeaderSize = kHeaderSize + 4;
// `count` must be at most 0xFFFFFFFF - kRreadHeaderSize (it always is below any real msize).
void encode_rread_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                         std::uint32_t count);
// Same for Rreaddir (identical layout, type 41).
void encode_rreaddir_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                            std::uint32_t count);

// Little-endian loads and stores: the only place outside the codec where wire bytes are read or
// written by hand (the frame reader, the fixed-frame encoders below, tests).
inline std::uint16_t load_le16(const std::uint8_t* p) {
  return std::uint16_t(p[0] | p[1] << 8);
}
inline std::uint32_t load_le32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 |
         std::uint32_t(p[3]) << 24;
}
inline std::uint64_t load_le64(const std::uint8_t* p) {
  return std::uint64_t(load_le32(p)) | std::uint64_t(load_le32(p + 4)) << 32;
}
inline void store_le16(std::uint8_t* p, std::uint16_t v) {
  p[0] = std::uint8_t(v);
  p[1] = std::uint8_t(v >> 8);
}
inline void store_le32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = std::uint8_t(v >> (8 * i));
}
inline void store_le64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = std::uint8_t(v >> (8 * i));
}

// Fixed-size frames that the server and the client build on their hot or failure paths, where
// the generic encode() (a visit over the Message variant plus a size pass) is not wanted. Each
// writes exactly its k*Size bytes; the result equals encode() of the same message.
inline constexpr std::size_t kRlerrorSize = kHeaderSize + 4;
inline constexpr std::size_t kRflushSize = kHeaderSize;
inline constexpr std::size_t kTclunkSize = kHeaderSize + 4;
inline constexpr std::size_t kTflushSize = kHeaderSize + 2;
// Twrite up to its data: size[4] type[1] tag[2] fid[4] offset[8] count[4]. The `count` data
// bytes follow (sent from the caller's buffer, e.g. as a second iovec).
inline constexpr std::size_t kTwriteHeaderSize = kHeaderSize + 4 + 8 + 4;

void encode_rlerror(std::span<std::uint8_t, kRlerrorSize> out, std::uint16_t tag,
                    std::uint32_t ecode);
void encode_rflush(std::span<std::uint8_t, kRflushSize> out, std::uint16_t tag);
void encode_tclunk(std::span<std::uint8_t, kTclunkSize> out, std::uint16_t tag, std::uint32_t fid);
void encode_tflush(std::span<std::uint8_t, kTflushSize> out, std::uint16_t tag,
                   std::uint16_t oldtag);
// `count` must be at most 0xFFFFFFFF - kTwriteHeaderSize (it always is below any real msize).
void encode_twrite_header(std::span<std::uint8_t, kTwriteHeaderSize> out, std::uint16_t tag,
                          std::uint32_t fid, std::uint64_t offset, std::uint32_t count);

}  // namespace ninep::p9
