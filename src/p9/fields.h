// The wire layout of every 9P2000.L message body, written once.
//
// Internal to p9: the decoder, the encoder, the size computation and the formatter all walk the
// same description, so they cannot disagree about field order or width. A visitor provides
//   u8/u16/u32/u64(name, field), str(name, field), qid(name, field),
//   data(name, span)                  count[4] followed by count bytes,
//   wnames(nwname, array)             nwname[2] followed by nwname strings,
//   qids(nwqid, array)                nwqid[2] followed by nwqid qids.
// The message may be const (encoding, formatting) or not (decoding).
#pragma once

#include <concepts>
#include <type_traits>

#include "p9/message.h"

namespace ninep::p9::wire {

// X-macro over every message of the variant; the struct name is also its Type enumerator.
// clang-format off
#define NINEP_P9_MESSAGES(X) \
  X(Rlerror) X(Tstatfs) X(Rstatfs) X(Tlopen) X(Rlopen) X(Tlcreate) \
  X(Rlcreate) X(Tsymlink) X(Rsymlink) X(Tmknod) X(Rmknod) X(Trename) \
  X(Rrename) X(Treadlink) X(Rreadlink) X(Tgetattr) X(Rgetattr) X(Tsetattr) \
  X(Rsetattr) X(Txattrwalk) X(Rxattrwalk) X(Txattrcreate) X(Rxattrcreate) X(Treaddir) \
  X(Rreaddir) X(Tfsync) X(Rfsync) X(Tlock) X(Rlock) X(Tgetlock) \
  X(Rgetlock) X(Tlink) X(Rlink) X(Tmkdir) X(Rmkdir) X(Trenameat) \
  X(Rrenameat) X(Tunlinkat) X(Runlinkat) X(Tversion) X(Rversion) X(Tauth) \
  X(Rauth) X(Tattach) X(Rattach) X(Tflush) X(Rflush) X(Twalk) \
  X(Rwalk) X(Tread) X(Rread) X(Twrite) X(Rwrite) X(Tclunk) \
  X(Rclunk) X(Tremove) X(Rremove)
// clang-format on

#define NINEP_P9_COUNT(T) +1
static_assert(0 NINEP_P9_MESSAGES(NINEP_P9_COUNT) == std::variant_size_v<Message>,
              "NINEP_P9_MESSAGES must list every alternative of Message");
#undef NINEP_P9_COUNT

template <typename M>
inline constexpr Type kTypeOf = Type{0};
#define NINEP_P9_TYPE_OF(T) \
  template <>               \
  inline constexpr Type kTypeOf<T> = Type::T;
NINEP_P9_MESSAGES(NINEP_P9_TYPE_OF)
#undef NINEP_P9_TYPE_OF

// `M` is `T` or `const T`.
template <typename M, typename T>
concept Is = std::same_as<std::remove_const_t<M>, T>;

// Messages without a body.
template <typename V, typename M>
requires(Is<M, Rrename> || Is<M, Rsetattr> || Is<M, Rxattrcreate> || Is<M, Rfsync> ||
         Is<M, Rlink> || Is<M, Rrenameat> || Is<M, Runlinkat> || Is<M, Rflush> || Is<M, Rclunk> ||
         Is<M, Rremove>) void fields(V&, M&) {}

template <typename V, Is<Rlerror> M>
void fields(V& v, M& m) {
  v.u32("ecode", m.ecode);
}
template <typename V, Is<Tstatfs> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
}
template <typename V, Is<Rstatfs> M>
void fields(V& v, M& m) {
  v.u32("type", m.type);
  v.u32("bsize", m.bsize);
  v.u64("blocks", m.blocks);
  v.u64("bfree", m.bfree);
  v.u64("bavail", m.bavail);
  v.u64("files", m.files);
  v.u64("ffree", m.ffree);
  v.u64("fsid", m.fsid);
  v.u32("namelen", m.namelen);
}
template <typename V, Is<Tlopen> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("flags", m.flags);
}
template <typename V, typename M>
requires(Is<M, Rlopen> || Is<M, Rlcreate>) void fields(V& v, M& m) {
  v.qid("qid", m.qid);
  v.u32("iounit", m.iounit);
}
template <typename V, Is<Tlcreate> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.str("name", m.name);
  v.u32("flags", m.flags);
  v.u32("mode", m.mode);
  v.u32("gid", m.gid);
}
template <typename V, Is<Tsymlink> M>
void fields(V& v, M& m) {
  v.u32("dfid", m.dfid);
  v.str("name", m.name);
  v.str("symtgt", m.symtgt);
  v.u32("gid", m.gid);
}
template <typename V, typename M>
requires(Is<M, Rsymlink> || Is<M, Rmknod> || Is<M, Rmkdir> || Is<M, Rattach>) void fields(V& v,
                                                                                          M& m) {
  v.qid("qid", m.qid);
}
template <typename V, Is<Tmknod> M>
void fields(V& v, M& m) {
  v.u32("dfid", m.dfid);
  v.str("name", m.name);
  v.u32("mode", m.mode);
  v.u32("major", m.major);
  v.u32("minor", m.minor);
  v.u32("gid", m.gid);
}
template <typename V, Is<Trename> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("dfid", m.dfid);
  v.str("name", m.name);
}
template <typename V, Is<Treadlink> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
}
template <typename V, Is<Rreadlink> M>
void fields(V& v, M& m) {
  v.str("target", m.target);
}
template <typename V, Is<Tgetattr> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u64("request_mask", m.request_mask);
}
template <typename V, Is<Rgetattr> M>
void fields(V& v, M& m) {
  v.u64("valid", m.valid);
  v.qid("qid", m.qid);
  v.u32("mode", m.mode);
  v.u32("uid", m.uid);
  v.u32("gid", m.gid);
  v.u64("nlink", m.nlink);
  v.u64("rdev", m.rdev);
  v.u64("size", m.size);
  v.u64("blksize", m.blksize);
  v.u64("blocks", m.blocks);
  v.u64("atime_sec", m.atime_sec);
  v.u64("atime_nsec", m.atime_nsec);
  v.u64("mtime_sec", m.mtime_sec);
  v.u64("mtime_nsec", m.mtime_nsec);
  v.u64("ctime_sec", m.ctime_sec);
  v.u64("ctime_nsec", m.ctime_nsec);
  v.u64("btime_sec", m.btime_sec);
  v.u64("btime_nsec", m.btime_nsec);
  v.u64("gen", m.gen);
  v.u64("data_version", m.data_version);
}
template <typename V, Is<Tsetattr> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("valid", m.valid);
  v.u32("mode", m.mode);
  v.u32("uid", m.uid);
  v.u32("gid", m.gid);
  v.u64("size", m.size);
  v.u64("atime_sec", m.atime_sec);
  v.u64("atime_nsec", m.atime_nsec);
  v.u64("mtime_sec", m.mtime_sec);
  v.u64("mtime_nsec", m.mtime_nsec);
}
template <typename V, Is<Txattrwalk> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("newfid", m.newfid);
  v.str("name", m.name);
}
template <typename V, Is<Rxattrwalk> M>
void fields(V& v, M& m) {
  v.u64("size", m.size);
}
template <typename V, Is<Txattrcreate> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.str("name", m.name);
  v.u64("attr_size", m.attr_size);
  v.u32("flags", m.flags);
}
template <typename V, typename M>
requires(Is<M, Treaddir> || Is<M, Tread>) void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u64("offset", m.offset);
  v.u32("count", m.count);
}
template <typename V, typename M>
requires(Is<M, Rreaddir> || Is<M, Rread>) void fields(V& v, M& m) {
  v.data("data", m.data);
}
template <typename V, Is<Tfsync> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("datasync", m.datasync);
}
template <typename V, Is<Tlock> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u8("type", m.type);
  v.u32("flags", m.flags);
  v.u64("start", m.start);
  v.u64("length", m.length);
  v.u32("proc_id", m.proc_id);
  v.str("client_id", m.client_id);
}
template <typename V, Is<Rlock> M>
void fields(V& v, M& m) {
  v.u8("status", m.status);
}
template <typename V, Is<Tgetlock> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u8("type", m.type);
  v.u64("start", m.start);
  v.u64("length", m.length);
  v.u32("proc_id", m.proc_id);
  v.str("client_id", m.client_id);
}
template <typename V, Is<Rgetlock> M>
void fields(V& v, M& m) {
  v.u8("type", m.type);
  v.u64("start", m.start);
  v.u64("length", m.length);
  v.u32("proc_id", m.proc_id);
  v.str("client_id", m.client_id);
}
template <typename V, Is<Tlink> M>
void fields(V& v, M& m) {
  v.u32("dfid", m.dfid);
  v.u32("fid", m.fid);
  v.str("name", m.name);
}
template <typename V, Is<Tmkdir> M>
void fields(V& v, M& m) {
  v.u32("dfid", m.dfid);
  v.str("name", m.name);
  v.u32("mode", m.mode);
  v.u32("gid", m.gid);
}
template <typename V, Is<Trenameat> M>
void fields(V& v, M& m) {
  v.u32("olddirfid", m.olddirfid);
  v.str("oldname", m.oldname);
  v.u32("newdirfid", m.newdirfid);
  v.str("newname", m.newname);
}
template <typename V, Is<Tunlinkat> M>
void fields(V& v, M& m) {
  v.u32("dirfid", m.dirfid);
  v.str("name", m.name);
  v.u32("flags", m.flags);
}
template <typename V, typename M>
requires(Is<M, Tversion> || Is<M, Rversion>) void fields(V& v, M& m) {
  v.u32("msize", m.msize);
  v.str("version", m.version);
}
template <typename V, Is<Tauth> M>
void fields(V& v, M& m) {
  v.u32("afid", m.afid);
  v.str("uname", m.uname);
  v.str("aname", m.aname);
  v.u32("n_uname", m.n_uname);
}
template <typename V, Is<Rauth> M>
void fields(V& v, M& m) {
  v.qid("aqid", m.aqid);
}
template <typename V, Is<Tattach> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("afid", m.afid);
  v.str("uname", m.uname);
  v.str("aname", m.aname);
  v.u32("n_uname", m.n_uname);
}
template <typename V, Is<Tflush> M>
void fields(V& v, M& m) {
  v.u16("oldtag", m.oldtag);
}
template <typename V, Is<Twalk> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u32("newfid", m.newfid);
  v.wnames(m.nwname, m.wnames);
}
template <typename V, Is<Rwalk> M>
void fields(V& v, M& m) {
  v.qids(m.nwqid, m.qids);
}
template <typename V, Is<Twrite> M>
void fields(V& v, M& m) {
  v.u32("fid", m.fid);
  v.u64("offset", m.offset);
  v.data("data", m.data);
}
template <typename V, Is<Rwrite> M>
void fields(V& v, M& m) {
  v.u32("count", m.count);
}
template <typename V, typename M>
requires(Is<M, Tclunk> || Is<M, Tremove>) void fields(V& v, M& m) {
  v.u32("fid", m.fid);
}

}  // namespace ninep::p9::wire
