// Every 9P2000.L message as a typed value (../shared/docs/9p2000L.md).
//
// Decoded messages VIEW the frame they were decoded from: strings are std::string_view and payloads
// std::span into the caller's buffer, so decoding never allocates. Keep the buffer alive while the
// message is used. Encoding takes the same views, so a message can be built from any storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace ninep::p9 {

using Bytes = std::span<const std::uint8_t>;

inline constexpr std::uint16_t kNoTag = 0xFFFF;
inline constexpr std::uint32_t kNoFid = 0xFFFFFFFF;
inline constexpr std::uint32_t kNoUid = 0xFFFFFFFF;  // n_uname "not given"
inline constexpr std::size_t kMaxWalkElems = 16;
inline constexpr std::size_t kHeaderSize = 7;     // size[4] type[1] tag[2]
inline constexpr std::size_t kIoHeaderSize = 24;  // room the kernel reserves in Tread/Twrite/Rread
inline constexpr std::size_t kQidSize = 13;
inline constexpr std::string_view kVersion = "9P2000.L";
inline constexpr std::string_view kVersionUnknown = "unknown";

// clang-format off
enum class Type : std::uint8_t {
  Rlerror = 7,
  Tstatfs = 8, Rstatfs = 9,
  Tlopen = 12, Rlopen = 13,
  Tlcreate = 14, Rlcreate = 15,
  Tsymlink = 16, Rsymlink = 17,
  Tmknod = 18, Rmknod = 19,
  Trename = 20, Rrename = 21,
  Treadlink = 22, Rreadlink = 23,
  Tgetattr = 24, Rgetattr = 25,
  Tsetattr = 26, Rsetattr = 27,
  Txattrwalk = 30, Rxattrwalk = 31,
  Txattrcreate = 32, Rxattrcreate = 33,
  Treaddir = 40, Rreaddir = 41,
  Tfsync = 50, Rfsync = 51,
  Tlock = 52, Rlock = 53,
  Tgetlock = 54, Rgetlock = 55,
  Tlink = 70, Rlink = 71,
  Tmkdir = 72, Rmkdir = 73,
  Trenameat = 74, Rrenameat = 75,
  Tunlinkat = 76, Runlinkat = 77,
  Tversion = 100, Rversion = 101,
  Tauth = 102, Rauth = 103,
  Tattach = 104, Rattach = 105,
  Rerror = 107,  // legacy 9P2000, never valid in .L
  Tflush = 108, Rflush = 109,
  Twalk = 110, Rwalk = 111,
  Topen = 112, Ropen = 113,      // legacy
  Tcreate = 114, Rcreate = 115,  // legacy
  Tread = 116, Rread = 117,
  Twrite = 118, Rwrite = 119,
  Tclunk = 120, Rclunk = 121,
  Tremove = 122, Rremove = 123,
  Tstat = 124, Rstat = 125,    // legacy
  Twstat = 126, Rwstat = 127,  // legacy
};
// clang-format on

// qid.type bits
inline constexpr std::uint8_t kQtDir = 0x80, kQtAppend = 0x40, kQtExcl = 0x20, kQtMount = 0x10,
                              kQtAuth = 0x08, kQtTmp = 0x04, kQtSymlink = 0x02, kQtLink = 0x01,
                              kQtFile = 0x00;

// Tgetattr request_mask / Rgetattr valid
inline constexpr std::uint64_t kGetattrMode = 0x1, kGetattrNlink = 0x2, kGetattrUid = 0x4,
                               kGetattrGid = 0x8, kGetattrRdev = 0x10, kGetattrAtime = 0x20,
                               kGetattrMtime = 0x40, kGetattrCtime = 0x80, kGetattrIno = 0x100,
                               kGetattrSize = 0x200, kGetattrBlocks = 0x400, kGetattrBtime = 0x800,
                               kGetattrGen = 0x1000, kGetattrDataVersion = 0x2000,
                               kGetattrBasic = 0x7FF, kGetattrAll = 0x3FFF;

// Tsetattr valid. A time bit without its *_SET bit means "now, on the server".
inline constexpr std::uint32_t kSetattrMode = 0x1, kSetattrUid = 0x2, kSetattrGid = 0x4,
                               kSetattrSize = 0x8, kSetattrAtime = 0x10, kSetattrMtime = 0x20,
                               kSetattrCtime = 0x40, kSetattrAtimeSet = 0x80,
                               kSetattrMtimeSet = 0x100;

// Tlopen/Tlcreate flags: the Linux values, whatever the host. Translate explicitly.
inline constexpr std::uint32_t kORdonly = 0, kOWronly = 01, kORdwr = 02, kONoaccess = 03,
                               kOAccmode = 03, kOCreate = 0100, kOExcl = 0200, kONoctty = 0400,
                               kOTrunc = 01000, kOAppend = 02000, kONonblock = 04000,
                               kODsync = 010000, kOFasync = 020000, kODirect = 040000,
                               kOLargefile = 0100000, kODirectory = 0200000, kONofollow = 0400000,
                               kONoatime = 01000000, kOCloexec = 02000000, kOSync = 04000000;

inline constexpr std::uint32_t kAtRemovedir = 0x200;  // Tunlinkat flags

// Tlock/Tgetlock
inline constexpr std::uint8_t kLockRdlck = 0, kLockWrlck = 1, kLockUnlck = 2;
inline constexpr std::uint32_t kLockFlagBlock = 1, kLockFlagReclaim = 2;
inline constexpr std::uint8_t kLockSuccess = 0, kLockBlocked = 1, kLockError = 2, kLockGrace = 3;

// Linux DT_* values carried in Rreaddir entries (not qid types).
inline constexpr std::uint8_t kDtUnknown = 0, kDtFifo = 1, kDtChr = 2, kDtDir = 4, kDtBlk = 6,
                              kDtReg = 8, kDtLnk = 10, kDtSock = 12;

// Linux S_IF* values as carried in Tgetattr/Tmknod/... mode fields.
inline constexpr std::uint32_t kSIfmt = 0170000, kSIfsock = 0140000, kSIflnk = 0120000,
                               kSIfreg = 0100000, kSIfblk = 0060000, kSIfdir = 0040000,
                               kSIfchr = 0020000, kSIfifo = 0010000;

// The DT_* value for a Linux mode (file type bits), and the qid type for it.
std::uint8_t dt_from_mode(std::uint32_t mode);
std::uint8_t qid_type_from_mode(std::uint32_t mode);

struct Qid {
  std::uint8_t type = 0;
  std::uint32_t version = 0;
  std::uint64_t path = 0;
  friend bool operator==(const Qid&, const Qid&) = default;
};

// One Rreaddir entry. `offset` is the cookie meaning "resume after this entry".
struct Dirent {
  Qid qid;
  std::uint64_t offset = 0;
  std::uint8_t type = 0;  // DT_*
  std::string_view name;
  bool operator==(const Dirent&) const = default;
};

// ---- messages, in type order ----
// Equality compares values: payload spans by content, walk arrays only up to nwname/nwqid.
struct Rlerror {
  std::uint32_t ecode = 0;
  bool operator==(const Rlerror&) const = default;
};
struct Tstatfs {
  std::uint32_t fid = 0;
  bool operator==(const Tstatfs&) const = default;
};
struct Rstatfs {
  std::uint32_t type = 0, bsize = 0;
  std::uint64_t blocks = 0, bfree = 0, bavail = 0, files = 0, ffree = 0, fsid = 0;
  std::uint32_t namelen = 0;
  bool operator==(const Rstatfs&) const = default;
};
struct Tlopen {
  std::uint32_t fid = 0, flags = 0;
  bool operator==(const Tlopen&) const = default;
};
struct Rlopen {
  Qid qid;
  std::uint32_t iounit = 0;
  bool operator==(const Rlopen&) const = default;
};
struct Tlcreate {
  std::uint32_t fid = 0;
  std::string_view name;
  std::uint32_t flags = 0, mode = 0, gid = 0;
  bool operator==(const Tlcreate&) const = default;
};
struct Rlcreate {
  Qid qid;
  std::uint32_t iounit = 0;
  bool operator==(const Rlcreate&) const = default;
};
struct Tsymlink {
  std::uint32_t dfid = 0;
  std::string_view name, symtgt;
  std::uint32_t gid = 0;
  bool operator==(const Tsymlink&) const = default;
};
struct Rsymlink {
  Qid qid;
  bool operator==(const Rsymlink&) const = default;
};
struct Tmknod {
  std::uint32_t dfid = 0;
  std::string_view name;
  std::uint32_t mode = 0, major = 0, minor = 0, gid = 0;
  bool operator==(const Tmknod&) const = default;
};
struct Rmknod {
  Qid qid;
  bool operator==(const Rmknod&) const = default;
};
struct Trename {
  std::uint32_t fid = 0, dfid = 0;
  std::string_view name;
  bool operator==(const Trename&) const = default;
};
struct Rrename {
  bool operator==(const Rrename&) const = default;
};
struct Treadlink {
  std::uint32_t fid = 0;
  bool operator==(const Treadlink&) const = default;
};
struct Rreadlink {
  std::string_view target;
  bool operator==(const Rreadlink&) const = default;
};
struct Tgetattr {
  std::uint32_t fid = 0;
  std::uint64_t request_mask = 0;
  bool operator==(const Tgetattr&) const = default;
};
struct Rgetattr {
  std::uint64_t valid = 0;
  Qid qid;
  std::uint32_t mode = 0, uid = 0, gid = 0;
  std::uint64_t nlink = 0, rdev = 0, size = 0, blksize = 0, blocks = 0;
  std::uint64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  std::uint64_t ctime_sec = 0, ctime_nsec = 0, btime_sec = 0, btime_nsec = 0;
  std::uint64_t gen = 0, data_version = 0;
  bool operator==(const Rgetattr&) const = default;
};
struct Tsetattr {
  std::uint32_t fid = 0, valid = 0, mode = 0, uid = 0, gid = 0;
  std::uint64_t size = 0, atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  bool operator==(const Tsetattr&) const = default;
};
struct Rsetattr {
  bool operator==(const Rsetattr&) const = default;
};
struct Txattrwalk {
  std::uint32_t fid = 0, newfid = 0;
  std::string_view name;
  bool operator==(const Txattrwalk&) const = default;
};
struct Rxattrwalk {
  std::uint64_t size = 0;
  bool operator==(const Rxattrwalk&) const = default;
};
struct Txattrcreate {
  std::uint32_t fid = 0;
  std::string_view name;
  std::uint64_t attr_size = 0;
  std::uint32_t flags = 0;
  bool operator==(const Txattrcreate&) const = default;
};
struct Rxattrcreate {
  bool operator==(const Rxattrcreate&) const = default;
};
struct Treaddir {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  bool operator==(const Treaddir&) const = default;
};
struct Rreaddir {
  Bytes data;
  friend bool operator==(const Rreaddir&, const Rreaddir&);
};  // packed Dirents; see ReaddirBuilder / DirentReader
struct Tfsync {
  std::uint32_t fid = 0, datasync = 0;
  bool operator==(const Tfsync&) const = default;
};
struct Rfsync {
  bool operator==(const Rfsync&) const = default;
};
struct Tlock {
  std::uint32_t fid = 0;
  std::uint8_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string_view client_id;
  bool operator==(const Tlock&) const = default;
};
struct Rlock {
  std::uint8_t status = 0;
  bool operator==(const Rlock&) const = default;
};
struct Tgetlock {
  std::uint32_t fid = 0;
  std::uint8_t type = 0;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string_view client_id;
  bool operator==(const Tgetlock&) const = default;
};
struct Rgetlock {
  std::uint8_t type = 0;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string_view client_id;
  bool operator==(const Rgetlock&) const = default;
};
struct Tlink {
  std::uint32_t dfid = 0, fid = 0;
  std::string_view name;
  bool operator==(const Tlink&) const = default;
};
struct Rlink {
  bool operator==(const Rlink&) const = default;
};
struct Tmkdir {
  std::uint32_t dfid = 0;
  std::string_view name;
  std::uint32_t mode = 0, gid = 0;
  bool operator==(const Tmkdir&) const = default;
};
struct Rmkdir {
  Qid qid;
  bool operator==(const Rmkdir&) const = default;
};
struct Trenameat {
  std::uint32_t olddirfid = 0;
  std::string_view oldname;
  std::uint32_t newdirfid = 0;
  std::string_view newname;
  bool operator==(const Trenameat&) const = default;
};
struct Rrenameat {
  bool operator==(const Rrenameat&) const = default;
};
struct Tunlinkat {
  std::uint32_t dirfid = 0;
  std::string_view name;
  std::uint32_t flags = 0;
  bool operator==(const Tunlinkat&) const = default;
};
struct Runlinkat {
  bool operator==(const Runlinkat&) const = default;
};
struct Tversion {
  std::uint32_t msize = 0;
  std::string_view version;
  bool operator==(const Tversion&) const = default;
};
struct Rversion {
  std::uint32_t msize = 0;
  std::string_view version;
  bool operator==(const Rversion&) const = default;
};
struct Tauth {
  std::uint32_t afid = 0;
  std::string_view uname, aname;
  std::uint32_t n_uname = kNoUid;
  bool operator==(const Tauth&) const = default;
};
struct Rauth {
  Qid aqid;
  bool operator==(const Rauth&) const = default;
};
struct Tattach {
  std::uint32_t fid = 0, afid = kNoFid;
  std::string_view uname, aname;
  std::uint32_t n_uname = kNoUid;
  bool operator==(const Tattach&) const = default;
};
struct Rattach {
  Qid qid;
  bool operator==(const Rattach&) const = default;
};
struct Tflush {
  std::uint16_t oldtag = 0;
  bool operator==(const Tflush&) const = default;
};
struct Rflush {
  bool operator==(const Rflush&) const = default;
};
struct Twalk {
  std::uint32_t fid = 0, newfid = 0;
  std::uint16_t nwname = 0;
  std::array<std::string_view, kMaxWalkElems> wnames{};
  friend bool operator==(const Twalk&, const Twalk&);
};
struct Rwalk {
  std::uint16_t nwqid = 0;
  std::array<Qid, kMaxWalkElems> qids{};
  friend bool operator==(const Rwalk&, const Rwalk&);
};
struct Tread {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  bool operator==(const Tread&) const = default;
};
struct Rread {
  Bytes data;
  friend bool operator==(const Rread&, const Rread&);
};
struct Twrite {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  Bytes data;
  friend bool operator==(const Twrite&, const Twrite&);
};
struct Rwrite {
  std::uint32_t count = 0;
  bool operator==(const Rwrite&) const = default;
};
struct Tclunk {
  std::uint32_t fid = 0;
  bool operator==(const Tclunk&) const = default;
};
struct Rclunk {
  bool operator==(const Rclunk&) const = default;
};
struct Tremove {
  std::uint32_t fid = 0;
  bool operator==(const Tremove&) const = default;
};
struct Rremove {
  bool operator==(const Rremove&) const = default;
};

using Message =
    std::variant<Rlerror, Tstatfs, Rstatfs, Tlopen, Rlopen, Tlcreate, Rlcreate, Tsymlink, Rsymlink,
                 Tmknod, Rmknod, Trename, Rrename, Treadlink, Rreadlink, Tgetattr, Rgetattr,
                 Tsetattr, Rsetattr, Txattrwalk, Rxattrwalk, Txattrcreate, Rxattrcreate, Treaddir,
                 Rreaddir, Tfsync, Rfsync, Tlock, Rlock, Tgetlock, Rgetlock, Tlink, Rlink, Tmkdir,
                 Rmkdir, Trenameat, Rrenameat, Tunlinkat, Runlinkat, Tversion, Rversion, Tauth,
                 Rauth, Tattach, Rattach, Tflush, Rflush, Twalk, Rwalk, Tread, Rread, Twrite,
                 Rwrite, Tclunk, Rclunk, Tremove, Rremove>;

// The wire type of a message value.
Type type_of(const Message& m);
// "Twalk", "Rlerror", ... ; "unknown" for values outside the enum.
std::string_view type_name(Type t);
// True for T-messages (requests).
inline bool is_request(Type t) {
  return (static_cast<std::uint8_t>(t) & 1) == 0;
}
// True for the request types of 9P2000.L, the ones a server accepts: not replies, not legacy
// 9P2000 requests (Topen, Tcreate, Tstat, Twstat), not values outside the enum.
constexpr bool is_dotl_request(std::uint8_t t) {
  switch (static_cast<Type>(t)) {
    case Type::Tstatfs:
    case Type::Tlopen:
    case Type::Tlcreate:
    case Type::Tsymlink:
    case Type::Tmknod:
    case Type::Trename:
    case Type::Treadlink:
    case Type::Tgetattr:
    case Type::Tsetattr:
    case Type::Txattrwalk:
    case Type::Txattrcreate:
    case Type::Treaddir:
    case Type::Tfsync:
    case Type::Tlock:
    case Type::Tgetlock:
    case Type::Tlink:
    case Type::Tmkdir:
    case Type::Trenameat:
    case Type::Tunlinkat:
    case Type::Tversion:
    case Type::Tauth:
    case Type::Tattach:
    case Type::Tflush:
    case Type::Twalk:
    case Type::Tread:
    case Type::Twrite:
    case Type::Tclunk:
    case Type::Tremove:
      return true;
    default:
      return false;
  }
}

// A whole frame: tag plus message.
struct Fcall {
  std::uint16_t tag = 0;
  Message msg;
  bool operator==(const Fcall&) const = default;
};

}  // namespace ninep::p9
