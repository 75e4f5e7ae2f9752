#include "client/attr_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "client/attr_text.h"

namespace ninep::client {
namespace {

std::string one_line(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::string attr_json(const Attr& a, std::string_view path, std::string_view name,
                      std::string_view target) {
  nlohmann::ordered_json j;
  j["path"] = path;
  j["name"] = name;
  j["type"] = type_token(a.mode);
  j["mode"] = a.mode & 07777;
  j["mode_text"] = mode_string(a.mode);
  j["uid"] = a.uid;
  j["gid"] = a.gid;
  j["nlink"] = a.nlink;
  j["size"] = a.size;
  j["blocks"] = a.blocks;
  j["blksize"] = a.blksize;
  j["rdev"] = a.rdev;
  j["ino"] = a.qid.path;
  j["atime"] = a.atime_sec;
  j["atime_nsec"] = a.atime_nsec;
  j["mtime"] = a.mtime_sec;
  j["mtime_nsec"] = a.mtime_nsec;
  j["ctime"] = a.ctime_sec;
  j["ctime_nsec"] = a.ctime_nsec;
  if (!target.empty()) j["target"] = target;
  return one_line(j);
}

std::string statfs_json(const StatFs& s, std::string_view path) {
  nlohmann::ordered_json j;
  j["path"] = path;
  j["fs_type"] = s.type;
  j["bsize"] = s.bsize;
  j["blocks"] = s.blocks;
  j["bfree"] = s.bfree;
  j["bavail"] = s.bavail;
  j["files"] = s.files;
  j["ffree"] = s.ffree;
  j["fsid"] = s.fsid;
  j["namelen"] = s.namelen;
  // Saturating: a hostile server's counts must not wrap into huge sizes.
  auto bytes = [&](std::uint64_t n) {
    return n > UINT64_MAX / std::max<std::uint64_t>(s.bsize, 1) ? UINT64_MAX : n * s.bsize;
  };
  j["size"] = bytes(s.blocks);
  j["used"] = bytes(s.blocks - std::min(s.bfree, s.blocks));
  j["available"] = bytes(s.bavail);
  return one_line(j);
}

}  // namespace ninep::client
