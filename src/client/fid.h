// Fid: an owning handle on one fid of a Session, with the 9P2000.L operations on it.
//
// Destroying (or assigning over) a non-empty handle clunks the fid asynchronously (no round trip;
// the number is recycled once Rclunk arrives). Call clunk() instead when the result matters, e.g.
// after xattr_create-style writes that the server commits at clunk time.
//
// Const operations may be called from several threads at once on the same handle (e.g. reads
// and writes at different offsets); operations that change the handle (lopen, lcreate, clunk,
// remove, moving) need exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/types.h"
#include "common/error.h"
#include "p9/message.h"

namespace ninep::client {

class Session;

class Fid {
 public:
  Fid() = default;
  // Takes ownership of fid number `fid`, already known to the server with qid `qid`.
  Fid(std::shared_ptr<Session> session, std::uint32_t fid, p9::Qid qid);
  Fid(Fid&& o) noexcept;
  Fid& operator=(Fid&& o) noexcept;
  Fid(const Fid&) = delete;
  Fid& operator=(const Fid&) = delete;
  ~Fid();

  explicit operator bool() const { return session_ != nullptr; }
  std::uint32_t number() const { return fid_; }
  // The qid from the walk/attach/lopen/lcreate that produced this handle.
  const p9::Qid& qid() const { return qid_; }
  bool is_dir() const { return (qid_.type & p9::kQtDir) != 0; }
  Session& session() const { return *session_; }
  const std::shared_ptr<Session>& session_ptr() const { return session_; }
  // After lopen/lcreate: the largest useful read/write size (the server's iounit, or
  // Session::max_io() when the server gave none). 0 while not open.
  std::uint32_t iounit() const { return iounit_; }
  bool is_open() const { return iounit_ != 0; }

  // Tclunk, waiting for the reply. The handle is empty afterwards, even on error.
  Result<void> clunk();
  // Gives up ownership without clunking and returns the number (the handle becomes empty).
  std::uint32_t release();

  // ---- walking ----
  // Twalk from this fid to a new one. More than 16 names are split into several Twalks; a walk
  // that stops early (a missing element) is ENOENT and leaves no fid behind. No names = clone.
  Result<Fid> walk(std::span<const std::string_view> names) const;
  Result<Fid> walk(std::initializer_list<std::string_view> names) const;
  // '/'-separated path relative to this fid; empty components and "." are skipped ("" clones).
  // ".." is passed to the server as is.
  Result<Fid> walk_path(std::string_view path) const;
  Result<Fid> clone() const;

  // ---- attributes ----
  Result<Attr> getattr(std::uint64_t mask = p9::kGetattrBasic) const;
  Result<void> setattr(const SetAttr& attr) const;
  Result<StatFs> statfs() const;

  // ---- open files ----
  // Tlopen with Linux open flags (p9::kO*). The handle becomes an open file.
  Result<OpenInfo> lopen(std::uint32_t flags);
  // Tlcreate: this handle, a directory, becomes the newly created and opened file `name`.
  Result<OpenInfo> lcreate(std::string_view name, std::uint32_t flags, std::uint32_t mode,
                           std::uint32_t gid);
  // One Tread of at most min(buf.size(), iounit) bytes into `buf`; 0 at end of file.
  Result<std::size_t> read_some(std::uint64_t offset, std::span<std::uint8_t> buf) const;
  // Fills `buf` from `offset` with as many Treads as needed (several in flight at once). Returns
  // fewer bytes than buf.size() only at end of file.
  Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) const;
  // Writes all of `data` at `offset` with as many Twrites as needed (several in flight at once).
  // Returns the bytes written; less than data.size() only if the server wrote short.
  Result<std::size_t> write(std::uint64_t offset, std::span<const std::uint8_t> data) const;
  Result<void> fsync(bool datasync = false) const;
  // Tlock; returns the status (p9::kLockSuccess, kLockBlocked, ...).
  Result<std::uint8_t> lock(const LockRequest& req) const;
  Result<LockInfo> getlock(const LockRequest& req) const;

  // ---- directories (this handle is a directory; readdir needs it lopen'ed) ----
  // One Treaddir from cookie `offset` into `buf` (packed entries, parse with p9::DirentReader).
  // Returns the byte count; 0 means end of directory.
  Result<std::size_t> readdir_some(std::uint64_t offset, std::span<std::uint8_t> buf) const;
  // Every entry, following the cookies until the server returns nothing (includes "." and ".."
  // when the server sends them).
  Result<std::vector<DirEntry>> readdir_all() const;
  Result<p9::Qid> mkdir(std::string_view name, std::uint32_t mode, std::uint32_t gid) const;
  Result<p9::Qid> symlink(std::string_view name, std::string_view target, std::uint32_t gid) const;
  Result<p9::Qid> mknod(std::string_view name, std::uint32_t mode, std::uint32_t major,
                        std::uint32_t minor, std::uint32_t gid) const;
  // Tlink: creates `name` in this directory as a hard link to `target`.
  Result<void> link(const Fid& target, std::string_view name) const;
  // Trenameat: `oldname` in this directory becomes `newname` in `newdir`. Falls back to
  // walk + Trename when the server answers EOPNOTSUPP.
  Result<void> renameat(std::string_view oldname, const Fid& newdir,
                        std::string_view newname) const;
  // Tunlinkat (flags: p9::kAtRemovedir for directories). Falls back to walk + Tremove when the
  // server answers EOPNOTSUPP (diod).
  Result<void> unlinkat(std::string_view name, std::uint32_t flags = 0) const;

  // ---- this file ----
  Result<std::string> readlink() const;
  // Trename: this file becomes `name` in directory `newdir`.
  Result<void> rename(const Fid& newdir, std::string_view name) const;
  // Tremove: removes the file and clunks the fid (the handle is empty afterwards, even on error).
  Result<void> remove();

  // ---- extended attributes ----
  // Value of `name` (Txattrwalk + Tread on the xattr fid).
  Result<std::vector<std::uint8_t>> xattr_get(std::string_view name) const;
  // Names of all attributes (Txattrwalk with an empty name).
  Result<std::vector<std::string>> xattr_list() const;
  // Txattrcreate on a clone + Twrite + Tclunk (the server commits at clunk). flags: XATTR_CREATE
  // (1) / XATTR_REPLACE (2).
  Result<void> xattr_set(std::string_view name, std::span<const std::uint8_t> value,
                         std::uint32_t flags = 0) const;
  // Txattrcreate with size 0 (Linux semantics: removes the attribute).
  Result<void> xattr_remove(std::string_view name) const;

 private:
  void reset();
  std::shared_ptr<Session> session_;
  std::uint32_t fid_ = p9::kNoFid;
  std::uint32_t iounit_ = 0;
  p9::Qid qid_;
};

}  // namespace ninep::client
