// The request record: what a request policy's cBPF program sees of one 9P request, as a socket
// filter sees a packet. A fixed layout, multi-byte fields big-endian so that `ld [k]` reads them
// as numbers (docs/policy.md is the reference; keep the two in step):
//
//   offset size  field
//        0    4  type       the request's 9P message type (Twalk = 110, Tlopen = 12, ...)
//        4    4  uid        the identity the request runs as, after squashing
//        8    4  gid
//       12    4  export     the export's index (the order of --export options, from 0)
//       16    4  file_type  S_IFMT bits of the file the request acts on (S_IFDIR 0x4000, ...)
//       20    4  flags      Tlopen/Tlcreate open flags (9P2000.L = Linux values)
//       24    4  mode       Tlcreate/Tmkdir/Tmknod/Tsymlink mode, Tsetattr's mode
//       28    4  unlink     Tunlinkat flags (AT_REMOVEDIR 0x200)
//       32    4  valid      Tsetattr's valid mask
//       36    4  depth      the file's depth below the export root (the root is 0)
//       40    8  offset     Tread/Twrite/Treaddir offset, Tlock start
//       48    4  count      Tread/Twrite/Treaddir count
//       52    4  name_len   length of `name` (0 when the request has none)
//       56    4  path_len   length of `path`
//       60    4  (zero)
//       64  256  name       the request's name argument, zero-padded (Twalk: the one name checked)
//      320  ...  path       the file's path relative to the export root ("" for the root), no
//                           leading '/', path_len bytes; the record ends there
//
// The packet's length is 320 + path_len: a program reading past the path's end gets verdict 0,
// which refuses (fail closed). Fields a request does not have are 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ninep::policy {

namespace offsets {
inline constexpr std::uint32_t kType = 0, kUid = 4, kGid = 8, kExport = 12, kFileType = 16,
                               kFlags = 20, kMode = 24, kUnlink = 28, kValid = 32, kDepth = 36,
                               kOffset = 40, kCount = 48, kNameLen = 52, kPathLen = 56, kName = 64,
                               kPath = 320;
}  // namespace offsets

inline constexpr std::size_t kMaxName = 256;   // bytes of name kept (a longer one: refused)
inline constexpr std::size_t kMaxPath = 4096;  // bytes of path kept (a longer one: refused)

struct RequestRecord {
  std::uint32_t type = 0;
  std::uint32_t uid = 0, gid = 0;
  std::uint32_t export_index = 0;
  std::uint32_t file_type = 0;
  std::uint32_t flags = 0, mode = 0, unlink = 0, valid = 0;
  std::uint32_t depth = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  std::string_view name;  // at most kMaxName bytes
  std::string_view path;  // at most kMaxPath bytes
};

// Writes `r` in the layout above into `out` (resized to 320 + path length). Returns false,
// writing nothing, when the name or path is longer than the record holds.
bool encode(const RequestRecord& r, std::vector<std::uint8_t>& out);
// Replaces the name in a record encode() wrote (its bytes and name_len), the rest as it was: the
// records of one directory's entries differ only there. False, changing nothing, when the name
// is longer than the record holds.
bool set_name(std::vector<std::uint8_t>& encoded, std::string_view name);

// Verdicts, seccomp's encoding. Anything else a program returns refuses with EACCES.
inline constexpr std::uint32_t kAllow = 0x7fff0000;
inline constexpr std::uint32_t kLog = 0x7ffc0000;    // allow, and log the request
inline constexpr std::uint32_t kErrno = 0x00050000;  // | errno (low 16 bits): refuse
inline constexpr std::uint32_t kKill = 0x80000000;   // drop the connection
inline constexpr std::uint32_t kActionMask = 0xffff0000;

// What the server does with a verdict.
struct Decision {
  enum class Action { Allow, Log, Refuse, Kill } action = Action::Refuse;
  int error = 0;  // Refuse: the errno
};
Decision decide(std::uint32_t verdict);

}  // namespace ninep::policy
