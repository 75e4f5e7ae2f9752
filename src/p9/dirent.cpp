// Rreaddir entry packing: qid[13] offset[8] type[1] name[s].
#include "p9/dirent.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "p9/codec.h"
#include "p9/fields.h"

namespace ninep::p9 {

bool ReaddirBuilder::add(const Dirent& d) {
  if (d.name.size() > 0xFFFF) return false;
  std::size_t n = entry_size(d.name);
  if (out_.size() - used_ < n) return false;
  std::uint8_t* p = out_.data() + used_;
  p[0] = d.qid.type;
  store_le32(p + 1, d.qid.version);
  store_le64(p + 5, d.qid.path);
  store_le64(p + 13, d.offset);
  p[21] = d.type;
  store_le16(p + 22, std::uint16_t(d.name.size()));
  if (!d.name.empty()) std::memcpy(p + 24, d.name.data(), d.name.size());
  used_ += n;
  ++entries_;
  last_offset_ = d.offset;
  return true;
}

Result<std::optional<Dirent>> DirentReader::next() {
  constexpr std::size_t kFixed = kQidSize + 8 + 1 + 2;
  std::size_t left = data_.size() - pos_;
  if (left == 0) return std::nullopt;
  if (left < kFixed) {
    return fail(EPROTO, fmt::format("truncated dirent at byte {}: needs {} bytes, {} left", pos_,
                                    kFixed, left));
  }
  const std::uint8_t* p = data_.data() + pos_;
  Dirent d;
  d.qid.type = p[0];
  d.qid.version = load_le32(p + 1);
  d.qid.path = load_le64(p + 5);
  d.offset = load_le64(p + 13);
  d.type = p[21];
  std::size_t len = load_le16(p + 22);
  if (len > left - kFixed) {
    return fail(EPROTO, fmt::format("dirent name of {} bytes at byte {} is longer than the data "
                                    "({} bytes left)",
                                    len, pos_ + 22, left - kFixed));
  }
  d.name = std::string_view(reinterpret_cast<const char*>(p + kFixed), len);
  pos_ += kFixed + len;
  return d;
}

}  // namespace ninep::p9
