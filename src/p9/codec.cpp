// Encoding and decoding of whole frames, driven by the field layouts in fields.h.
#include "p9/codec.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "p9/fields.h"

namespace ninep::p9 {
namespace {

constexpr std::size_t kMaxString = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kMaxData = std::numeric_limits<std::uint32_t>::max();

// Reads fields from a frame whose size field has already been checked against the buffer. Every
// read is bounds-checked; the first failure is recorded and turns every later read into a no-op,
// so a message's field list can be walked unconditionally.
class Decoder {
 public:
  Decoder(Bytes frame, Type type) : p_(frame.data()), end_(frame.size()), type_(type) {}

  bool failed() const { return failed_; }
  Error take_error() { return std::move(error_); }
  std::size_t pos() const { return pos_; }

  void u8(const char* name, std::uint8_t& x) {
    if (need(name, 1)) x = p_[pos_++];
  }
  void u16(const char* name, std::uint16_t& x) {
    if (!need(name, 2)) return;
    x = load_le16(p_ + pos_);
    pos_ += 2;
  }
  void u32(const char* name, std::uint32_t& x) {
    if (!need(name, 4)) return;
    x = load_le32(p_ + pos_);
    pos_ += 4;
  }
  void u64(const char* name, std::uint64_t& x) {
    if (!need(name, 8)) return;
    x = load_le64(p_ + pos_);
    pos_ += 8;
  }
  void qid(const char* name, Qid& q) {
    if (!need(name, kQidSize)) return;
    q.type = p_[pos_];
    q.version = load_le32(p_ + pos_ + 1);
    q.path = load_le64(p_ + pos_ + 5);
    pos_ += kQidSize;
  }
  void str(const char* name, std::string_view& s) { str_at(name, -1, s); }
  void data(const char* name, Bytes& d) {
    if (!need(name, 4, "count")) return;
    std::uint32_t n = load_le32(p_ + pos_);
    if (n > end_ - pos_ - 4) {
      return fail(EPROTO, fmt::format("{}: {} count {} at byte {} is longer than the frame ({} "
                                      "bytes left)",
                                      type_name(type_), name, n, pos_, end_ - pos_ - 4));
    }
    pos_ += 4;
    d = Bytes(p_ + pos_, n);
    pos_ += n;
  }
  void wnames(std::uint16_t& n, std::array<std::string_view, kMaxWalkElems>& names) {
    u16("nwname", n);
    if (failed_) return;
    if (n > kMaxWalkElems) {
      return fail(EPROTO, fmt::format("{}: nwname {} exceeds the maximum of {}", type_name(type_),
                                      n, kMaxWalkElems));
    }
    for (int i = 0; i < n; ++i) str_at("wname", i, names[i]);
  }
  void qids(std::uint16_t& n, std::array<Qid, kMaxWalkElems>& qs) {
    u16("nwqid", n);
    if (failed_) return;
    if (n > kMaxWalkElems) {
      return fail(EPROTO, fmt::format("{}: nwqid {} exceeds the maximum of {}", type_name(type_), n,
                                      kMaxWalkElems));
    }
    for (int i = 0; i < n && !failed_; ++i) {
      if (!need_at("qid", i, kQidSize)) return;
      qid("qid", qs[i]);
    }
  }

 private:
  void fail(int code, std::string message) {
    failed_ = true;
    error_ = Error{code, std::move(message)};
  }
  static std::string field_name(const char* name, int index, const char* part) {
    std::string s = index >= 0 ? fmt::format("{}[{}]", name, index) : std::string(name);
    if (part) s = fmt::format("{}.{}", s, part);
    return s;
  }
  bool need_at(const char* name, int index, std::size_t n, const char* part = nullptr) {
    if (failed_) return false;
    if (end_ - pos_ >= n) return true;
    fail(EPROTO,
         fmt::format("{}: truncated field '{}' at byte {} (needs {} bytes, {} left)",
                     type_name(type_), field_name(name, index, part), pos_, n, end_ - pos_));
    return false;
  }
  bool need(const char* name, std::size_t n, const char* part = nullptr) {
    return need_at(name, -1, n, part);
  }
  void str_at(const char* name, int index, std::string_view& s) {
    if (!need_at(name, index, 2, "len")) return;
    std::size_t n = load_le16(p_ + pos_);
    if (n > end_ - pos_ - 2) {
      return fail(EPROTO,
                  fmt::format("{}: string '{}' of {} bytes at byte {} is longer than the frame ({} "
                              "bytes left)",
                              type_name(type_), field_name(name, index, nullptr), n, pos_,
                              end_ - pos_ - 2));
    }
    pos_ += 2;
    s = std::string_view(reinterpret_cast<const char*>(p_ + pos_), n);
    pos_ += n;
  }

  const std::uint8_t* p_;
  std::size_t pos_ = kHeaderSize;
  std::size_t end_;
  Type type_;
  bool failed_ = false;
  Error error_;
};

template <typename T>
Result<Fcall> decode_body(Bytes frame, std::uint16_t tag) {
  // Built in place: the Fcall is a few hundred bytes (walk arrays), not worth copying.
  Result<Fcall> result(std::in_place, tag, Message(std::in_place_type<T>));
  Decoder d(frame, wire::kTypeOf<T>);
  wire::fields(d, std::get<T>(result->msg));
  if (d.failed()) return std::unexpected(d.take_error());
  if (d.pos() != frame.size()) {
    return fail(EPROTO, fmt::format("{}: {} bytes of trailing garbage after the last field (byte "
                                    "{} of {})",
                                    type_name(wire::kTypeOf<T>), frame.size() - d.pos(), d.pos(),
                                    frame.size()));
  }
  return result;
}

// Sums field widths and notes the first value that the wire cannot represent.
struct SizeCounter {
  std::size_t n = kHeaderSize;
  const char* bad_field = nullptr;
  std::size_t bad_value = 0;

  void bad(const char* name, std::size_t v) {
    if (!bad_field) bad_field = name, bad_value = v;
  }
  void u8(const char*, std::uint8_t) { n += 1; }
  void u16(const char*, std::uint16_t) { n += 2; }
  void u32(const char*, std::uint32_t) { n += 4; }
  void u64(const char*, std::uint64_t) { n += 8; }
  void qid(const char*, const Qid&) { n += kQidSize; }
  void str(const char* name, std::string_view s) {
    if (s.size() > kMaxString) bad(name, s.size());
    n += 2 + s.size();
  }
  void data(const char* name, Bytes d) {
    if (d.size() > kMaxData) bad(name, d.size());
    n += 4 + d.size();
  }
  void wnames(std::uint16_t nw, const std::array<std::string_view, kMaxWalkElems>& names) {
    if (nw > kMaxWalkElems) bad("nwname", nw);
    n += 2;
    for (std::size_t i = 0; i < nw && i < kMaxWalkElems; ++i) str("wname", names[i]);
  }
  void qids(std::uint16_t nq, const std::array<Qid, kMaxWalkElems>&) {
    if (nq > kMaxWalkElems) bad("nwqid", nq);
    n += 2 + kQidSize * std::min<std::size_t>(nq, kMaxWalkElems);
  }
};

// Writes fields into a buffer already known to be large enough (SizeCounter ran first).
struct Writer {
  std::uint8_t* p;

  void u8(const char*, std::uint8_t x) { *p++ = x; }
  void u16(const char*, std::uint16_t x) {
    store_le16(p, x);
    p += 2;
  }
  void u32(const char*, std::uint32_t x) {
    store_le32(p, x);
    p += 4;
  }
  void u64(const char*, std::uint64_t x) {
    store_le64(p, x);
    p += 8;
  }
  void qid(const char*, const Qid& q) {
    *p = q.type;
    store_le32(p + 1, q.version);
    store_le64(p + 5, q.path);
    p += kQidSize;
  }
  void str(const char*, std::string_view s) {
    u16(nullptr, std::uint16_t(s.size()));
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
  void data(const char*, Bytes d) {
    u32(nullptr, std::uint32_t(d.size()));
    if (!d.empty()) std::memcpy(p, d.data(), d.size());
    p += d.size();
  }
  void wnames(std::uint16_t nw, const std::array<std::string_view, kMaxWalkElems>& names) {
    u16(nullptr, nw);
    for (std::size_t i = 0; i < nw; ++i) str(nullptr, names[i]);
  }
  void qids(std::uint16_t nq, const std::array<Qid, kMaxWalkElems>& qs) {
    u16(nullptr, nq);
    for (std::size_t i = 0; i < nq; ++i) qid(nullptr, qs[i]);
  }
};

void encode_data_header(std::span<std::uint8_t, kRreadHeaderSize> out, Type type, std::uint16_t tag,
                        std::uint32_t count) {
  store_le32(out.data(), std::uint32_t(kRreadHeaderSize + count));
  out[4] = static_cast<std::uint8_t>(type);
  store_le16(out.data() + 5, tag);
  store_le32(out.data() + 7, count);
}

bool is_legacy(Type t) {
  switch (t) {
    case Type::Rerror:
    case Type::Topen:
    case Type::Ropen:
    case Type::Tcreate:
    case Type::Rcreate:
    case Type::Tstat:
    case Type::Rstat:
    case Type::Twstat:
    case Type::Rwstat:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<FrameHeader> decode_header(Bytes frame, std::uint32_t msize) {
  if (frame.size() < 4) {
    return fail(EPROTO, fmt::format("truncated field 'size' at byte 0 (needs 4 bytes, {} left)",
                                    frame.size()));
  }
  std::uint32_t size = load_le32(frame.data());
  if (size < kHeaderSize) {
    return fail(EMSGSIZE,
                fmt::format("size field {} is below the minimum frame size {}", size, kHeaderSize));
  }
  if (msize != 0 && size > msize) {
    return fail(EMSGSIZE, fmt::format("size field {} exceeds msize {}", size, msize));
  }
  if (size != frame.size()) {
    return fail(EPROTO, fmt::format("size field {} disagrees with the buffer length {}", size,
                                    frame.size()));
  }
  return FrameHeader{size, static_cast<Type>(frame[4]), load_le16(frame.data() + 5)};
}

Result<Fcall> decode(Bytes frame, std::uint32_t msize) {
  auto h = decode_header(frame, msize);
  if (!h) return std::unexpected(std::move(h.error()));
  switch (h->type) {
#define NINEP_P9_DECODE_CASE(T) \
  case Type::T:                 \
    return decode_body<T>(frame, h->tag);
    NINEP_P9_MESSAGES(NINEP_P9_DECODE_CASE)
#undef NINEP_P9_DECODE_CASE
    default:
      break;
  }
  if (is_legacy(h->type)) {
    return fail(EOPNOTSUPP, fmt::format("unsupported version: legacy 9P2000 message {} (type {})",
                                        type_name(h->type), static_cast<unsigned>(h->type)));
  }
  return fail(EOPNOTSUPP, fmt::format("unknown message type {} (not in 9P2000.L)",
                                      static_cast<unsigned>(h->type)));
}

std::size_t encoded_size(const Message& m) {
  SizeCounter c;
  std::visit([&](const auto& msg) { wire::fields(c, msg); }, m);
  return c.n;
}

Result<std::size_t> encode(std::span<std::uint8_t> out, std::uint16_t tag, const Message& m) {
  SizeCounter c;
  Type type = type_of(m);
  std::visit([&](const auto& msg) { wire::fields(c, msg); }, m);
  if (c.bad_field) {
    return fail(EINVAL, fmt::format("{}: {} of {} cannot be represented on the wire",
                                    type_name(type), c.bad_field, c.bad_value));
  }
  if (c.n > std::numeric_limits<std::uint32_t>::max()) {
    return fail(EINVAL, fmt::format("{}: frame of {} bytes exceeds the 32-bit size field",
                                    type_name(type), c.n));
  }
  if (out.size() < c.n) {
    return fail(ENOBUFS,
                fmt::format("{}: needs {} bytes, buffer has {}", type_name(type), c.n, out.size()));
  }
  store_le32(out.data(), std::uint32_t(c.n));
  out[4] = static_cast<std::uint8_t>(type);
  store_le16(out.data() + 5, tag);
  Writer w{out.data() + kHeaderSize};
  std::visit([&](const auto& msg) { wire::fields(w, msg); }, m);
  return c.n;
}

void encode_rread_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                         std::uint32_t count) {
  encode_data_header(out, Type::Rread, tag, count);
}

void encode_rreaddir_header(std::span<std::uint8_t, kRreadHeaderSize> out, std::uint16_t tag,
                            std::uint32_t count) {
  encode_data_header(out, Type::Rreaddir, tag, count);
}

namespace {
void store_header(std::uint8_t* out, std::size_t size, Type type, std::uint16_t tag) {
  store_le32(out, std::uint32_t(size));
  out[4] = static_cast<std::uint8_t>(type);
  store_le16(out + 5, tag);
}
}  // namespace

void encode_rlerror(std::span<std::uint8_t, kRlerrorSize> out, std::uint16_t tag,
                    std::uint32_t ecode) {
  store_header(out.data(), kRlerrorSize, Type::Rlerror, tag);
  store_le32(out.data() + kHeaderSize, ecode);
}

void encode_rflush(std::span<std::uint8_t, kRflushSize> out, std::uint16_t tag) {
  store_header(out.data(), kRflushSize, Type::Rflush, tag);
}

void encode_tclunk(std::span<std::uint8_t, kTclunkSize> out, std::uint16_t tag, std::uint32_t fid) {
  store_header(out.data(), kTclunkSize, Type::Tclunk, tag);
  store_le32(out.data() + kHeaderSize, fid);
}

void encode_tflush(std::span<std::uint8_t, kTflushSize> out, std::uint16_t tag,
                   std::uint16_t oldtag) {
  store_header(out.data(), kTflushSize, Type::Tflush, tag);
  store_le16(out.data() + kHeaderSize, oldtag);
}

void encode_twrite_header(std::span<std::uint8_t, kTwriteHeaderSize> out, std::uint16_t tag,
                          std::uint32_t fid, std::uint64_t offset, std::uint32_t count) {
  std::uint8_t* p = out.data();
  store_header(p, kTwriteHeaderSize + count, Type::Twrite, tag);
  store_le32(p + 7, fid);
  store_le64(p + 11, offset);
  store_le32(p + 19, count);
}

}  // namespace ninep::p9
