#include "policy/record.h"

#include <cerrno>
#include <cstring>

namespace ninep::policy {

namespace {

void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

bool encode(const RequestRecord& r, std::vector<std::uint8_t>& out) {
  if (r.name.size() > kMaxName || r.path.size() > kMaxPath) return false;
  out.assign(offsets::kPath + r.path.size(), 0);
  std::uint8_t* p = out.data();
  put32(p + offsets::kType, r.type);
  put32(p + offsets::kUid, r.uid);
  put32(p + offsets::kGid, r.gid);
  put32(p + offsets::kExport, r.export_index);
  put32(p + offsets::kFileType, r.file_type);
  put32(p + offsets::kFlags, r.flags);
  put32(p + offsets::kMode, r.mode);
  put32(p + offsets::kUnlink, r.unlink);
  put32(p + offsets::kValid, r.valid);
  put32(p + offsets::kDepth, r.depth);
  put32(p + offsets::kOffset, static_cast<std::uint32_t>(r.offset >> 32));
  put32(p + offsets::kOffset + 4, static_cast<std::uint32_t>(r.offset));
  put32(p + offsets::kCount, r.count);
  put32(p + offsets::kNameLen, static_cast<std::uint32_t>(r.name.size()));
  put32(p + offsets::kPathLen, static_cast<std::uint32_t>(r.path.size()));
  if (!r.name.empty()) std::memcpy(p + offsets::kName, r.name.data(), r.name.size());
  if (!r.path.empty()) std::memcpy(p + offsets::kPath, r.path.data(), r.path.size());
  return true;
}

bool set_name(std::vector<std::uint8_t>& encoded, std::string_view name) {
  if (name.size() > kMaxName || encoded.size() < offsets::kPath) return false;
  std::uint8_t* p = encoded.data();
  const std::uint32_t old = std::uint32_t{p[offsets::kNameLen]} << 24 |
                            std::uint32_t{p[offsets::kNameLen + 1]} << 16 |
                            std::uint32_t{p[offsets::kNameLen + 2]} << 8 | p[offsets::kNameLen + 3];
  if (old > name.size()) std::memset(p + offsets::kName + name.size(), 0, old - name.size());
  if (!name.empty()) std::memcpy(p + offsets::kName, name.data(), name.size());
  put32(p + offsets::kNameLen, static_cast<std::uint32_t>(name.size()));
  return true;
}

Decision decide(std::uint32_t verdict) {
  switch (verdict & kActionMask) {
    case kAllow:
      return {Decision::Action::Allow, 0};
    case kLog:
      return {Decision::Action::Log, 0};
    case kKill:
      return {Decision::Action::Kill, 0};
    case kErrno: {
      int e = static_cast<int>(verdict & 0xffff);
      // ERRNO 0 would "refuse" with success; refuse with EACCES instead (fail closed).
      return {Decision::Action::Refuse, e != 0 ? e : EACCES};
    }
    default:
      return {Decision::Action::Refuse, EACCES};
  }
}

}  // namespace ninep::policy
