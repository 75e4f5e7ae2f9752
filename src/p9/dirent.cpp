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

Error DirentReader::malformed() const {
  constexpr std::size_t kFixed = kQidSize + 8 + 1 + 2;
  const std::size_t left = data_.size() - pos_;
  if (left < kFixed)
    return Error{EPROTO, fmt::format("truncated dirent at byte {}: needs {} bytes, {} left", pos_,
                                     kFixed, left)};
  return Error{EPROTO, fmt::format("dirent name of {} bytes at byte {} is longer than the data "
                                   "({} bytes left)",
                                   load_le16(data_.data() + pos_ + 22), pos_ + 22, left - kFixed)};
}

}  // namespace ninep::p9
