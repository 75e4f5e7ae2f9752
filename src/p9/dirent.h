// Packing and unpacking of Rreaddir entry data: qid[13] offset[8] type[1] name[s], back to back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/error.h"
#include "p9/codec.h"
#include "p9/message.h"

namespace ninep::p9 {

// Packs as many whole entries as fit into `out` (sized to the request's count, and to what the
// reply may hold under msize).
class ReaddirBuilder {
 public:
  explicit ReaddirBuilder(std::span<std::uint8_t> out) : out_(out) {}

  // Appends the entry if it fits whole; false (and nothing written) otherwise.
  bool add(const Dirent& d);
  std::size_t size() const { return used_; }
  std::size_t count() const { return entries_; }
  // The cookie of the last entry added (what the next Treaddir offset should be), 0 if none.
  std::uint64_t last_offset() const { return last_offset_; }
  std::span<const std::uint8_t> data() const { return out_.first(used_); }

  static std::size_t entry_size(std::string_view name) {
    return kQidSize + 8 + 1 + 2 + name.size();
  }

 private:
  std::span<std::uint8_t> out_;
  std::size_t used_ = 0, entries_ = 0;
  std::uint64_t last_offset_ = 0;
};

// Iterates entries of Rreaddir data; bounds-checked, EPROTO on a truncated entry.
class DirentReader {
 public:
  explicit DirentReader(Bytes data) : data_(data) {}
  // The next entry, std::nullopt at the end, or an error for malformed data. Inline: a server
  // judging a listing by its policy reads every entry of every reply.
  Result<std::optional<Dirent>> next() {
    constexpr std::size_t kFixed = kQidSize + 8 + 1 + 2;
    const std::size_t left = data_.size() - pos_;
    if (left == 0) return std::nullopt;
    const std::uint8_t* p = data_.data() + pos_;
    if (left < kFixed || load_le16(p + 22) > left - kFixed) return std::unexpected(malformed());
    Dirent d;
    d.qid.type = p[0];
    d.qid.version = load_le32(p + 1);
    d.qid.path = load_le64(p + 5);
    d.offset = load_le64(p + 13);
    d.type = p[21];
    const std::size_t len = load_le16(p + 22);
    d.name = std::string_view(reinterpret_cast<const char*>(p + kFixed), len);
    pos_ += kFixed + len;
    return d;
  }

 private:
  Error malformed() const;
  Bytes data_;
  std::size_t pos_ = 0;
};

}  // namespace ninep::p9
