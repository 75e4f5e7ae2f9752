// Type names and the mode -> DT_* / qid type mappings.
#include "p9/message.h"

#include <algorithm>

#include "p9/fields.h"

namespace ninep::p9 {

Type type_of(const Message& m) {
  return std::visit([](const auto& msg) { return wire::kTypeOf<std::decay_t<decltype(msg)>>; }, m);
}

std::string_view type_name(Type t) {
  switch (t) {
#define NINEP_P9_NAME_CASE(T) \
  case Type::T:               \
    return #T;
    NINEP_P9_MESSAGES(NINEP_P9_NAME_CASE)
    NINEP_P9_NAME_CASE(Rerror)
    NINEP_P9_NAME_CASE(Topen)
    NINEP_P9_NAME_CASE(Ropen)
    NINEP_P9_NAME_CASE(Tcreate)
    NINEP_P9_NAME_CASE(Rcreate)
    NINEP_P9_NAME_CASE(Tstat)
    NINEP_P9_NAME_CASE(Rstat)
    NINEP_P9_NAME_CASE(Twstat)
    NINEP_P9_NAME_CASE(Rwstat)
#undef NINEP_P9_NAME_CASE
  }
  return "unknown";
}

std::uint8_t dt_from_mode(std::uint32_t mode) {
  switch (mode & kSIfmt) {
    case kSIfifo:
      return kDtFifo;
    case kSIfchr:
      return kDtChr;
    case kSIfdir:
      return kDtDir;
    case kSIfblk:
      return kDtBlk;
    case kSIfreg:
      return kDtReg;
    case kSIflnk:
      return kDtLnk;
    case kSIfsock:
      return kDtSock;
    default:
      return kDtUnknown;
  }
}

std::uint8_t qid_type_from_mode(std::uint32_t mode) {
  switch (mode & kSIfmt) {
    case kSIfdir:
      return kQtDir;
    case kSIflnk:
      return kQtSymlink;
    default:
      return kQtFile;
  }
}

namespace {
bool equal_bytes(Bytes a, Bytes b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
}  // namespace

bool operator==(const Rreaddir& a, const Rreaddir& b) {
  return equal_bytes(a.data, b.data);
}
bool operator==(const Rread& a, const Rread& b) {
  return equal_bytes(a.data, b.data);
}
bool operator==(const Twrite& a, const Twrite& b) {
  return a.fid == b.fid && a.offset == b.offset && equal_bytes(a.data, b.data);
}
bool operator==(const Twalk& a, const Twalk& b) {
  if (a.fid != b.fid || a.newfid != b.newfid || a.nwname != b.nwname) return false;
  std::size_t n = std::min<std::size_t>(a.nwname, kMaxWalkElems);
  return std::equal(a.wnames.begin(), a.wnames.begin() + n, b.wnames.begin());
}
bool operator==(const Rwalk& a, const Rwalk& b) {
  if (a.nwqid != b.nwqid) return false;
  std::size_t n = std::min<std::size_t>(a.nwqid, kMaxWalkElems);
  return std::equal(a.qids.begin(), a.qids.begin() + n, b.qids.begin());
}

}  // namespace ninep::p9
