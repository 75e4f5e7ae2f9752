// The interface between the 9P server core and whatever stores the files.
//
// The core (connections, fids, dispatch, flush, limits) never touches the host itself: every file
// operation goes through a Backend, one per export. A Backend hands out Nodes, its own per-fid
// state; the core keeps them behind fids and passes them back. Names given to a Backend have been
// checked by the core (not empty, no '/', no NUL, at most kMaxNameLength bytes; "." and ".." only
// reach walk()). Read-only exports are refused by the core before the backend is called, and a
// backend enforces it again on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "p9/dirent.h"
#include "p9/events.h"
#include "p9/message.h"

namespace ninep::server {

inline constexpr std::size_t kMaxNameLength = 255;
// Tlock/Tgetlock: the longest client_id accepted (EINVAL beyond; the Linux client sends its
// node name, at most 64 bytes), and how many lock owners may lock through one fid (ENOLCK).
inline constexpr std::size_t kMaxLockClientId = 256;
inline constexpr std::size_t kMaxLockOwnersPerFid = 1024;

// A backend's state behind one fid. The core reads `qid` (kept current by the backend) and
// otherwise treats the node as opaque. Nodes are released through release() so a backend can
// recycle them instead of freeing.
class Node {
 public:
  p9::Qid qid;

  virtual void release() = 0;

 protected:
  ~Node() = default;
};

struct NodeRelease {
  void operator()(Node* n) const { n->release(); }
};
using NodePtr = std::unique_ptr<Node, NodeRelease>;

// A byte-range lock request or answer (Tlock/Tgetlock semantics: length 0 = to end of file).
// A lock's owner is (conn_id, proc_id, client_id): one process of one client, whichever of its
// fids it locks through, as a process owns its POSIX locks whatever descriptor it uses.
struct LockArgs {
  std::uint64_t conn_id = 0;
  std::uint8_t type = p9::kLockUnlck;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string_view client_id;
};

// Who holds a conflicting lock (Rgetlock). client_id is copied into `client_id_storage`.
struct LockHolder {
  std::uint8_t type = p9::kLockUnlck;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id_storage;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The export's root, for a new Tattach.
  virtual Result<NodePtr> attach() = 0;
  // A new node for the same file as `from`, not opened.
  virtual Result<NodePtr> clone(Node& from) = 0;
  // One walk step: a name in the directory `from`, or "." / "..". ".." at the root stays at the
  // root, and no step ever leaves the export.
  virtual Result<NodePtr> walk(Node& from, std::string_view name) = 0;
  // Called once per Twalk on the node the walk ended on; refuses a node that is no longer inside
  // the export (e.g. its directory was moved out on the host while the walk ran).
  virtual Result<void> check_inside(Node& n) = 0;

  virtual Result<void> getattr(Node& n, std::uint64_t request_mask, p9::Rgetattr& out) = 0;
  virtual Result<void> setattr(Node& n, const p9::Tsetattr& req) = 0;
  virtual Result<void> statfs(Node& n, p9::Rstatfs& out) = 0;

  // Opens the node for I/O with Linux open flags (p9::kO*); returns the (current) qid.
  virtual Result<p9::Qid> open(Node& n, std::uint32_t flags) = 0;
  // Creates and opens `name` in the directory `dir`; `dir` becomes the new open file.
  virtual Result<p9::Qid> create(Node& dir, std::string_view name, std::uint32_t flags,
                                 std::uint32_t mode, std::uint32_t gid) = 0;
  virtual Result<p9::Qid> mkdir(Node& dir, std::string_view name, std::uint32_t mode,
                                std::uint32_t gid) = 0;
  virtual Result<p9::Qid> symlink(Node& dir, std::string_view name, std::string_view target,
                                  std::uint32_t gid) = 0;
  virtual Result<p9::Qid> mknod(Node& dir, std::string_view name, std::uint32_t mode,
                                std::uint32_t major, std::uint32_t minor, std::uint32_t gid) = 0;
  virtual Result<void> link(Node& dir, Node& target, std::string_view name) = 0;
  virtual Result<void> rename(Node& n, Node& newdir, std::string_view newname) = 0;
  virtual Result<void> renameat(Node& olddir, std::string_view oldname, Node& newdir,
                                std::string_view newname) = 0;
  virtual Result<void> unlinkat(Node& dir, std::string_view name, std::uint32_t flags) = 0;
  // Removes the file `n` names (Tremove).
  virtual Result<void> remove(Node& n) = 0;

  // Writes the link target into `out`; returns its length (ENAMETOOLONG if it does not fit).
  virtual Result<std::size_t> readlink(Node& n, std::span<char> out) = 0;
  // Reads straight into `out` (the reply buffer); returns the byte count (0 at end of file).
  virtual Result<std::size_t> read(Node& n, std::uint64_t offset, std::span<std::uint8_t> out) = 0;
  virtual Result<std::size_t> write(Node& n, std::uint64_t offset, p9::Bytes data) = 0;
  // Packs whole entries resuming after the cookie `offset` (0 = from the start).
  virtual Result<void> readdir(Node& n, std::uint64_t offset, p9::ReaddirBuilder& out) = 0;
  virtual Result<void> fsync(Node& n, bool datasync) = 0;

  // Never waits: a contended lock answers p9::kLockBlocked (the core retries blocking requests).
  virtual Result<std::uint8_t> lock(Node& n, const LockArgs& req) = 0;
  // Fills `out` with the first conflicting lock, or type kLockUnlck when there is none.
  virtual Result<void> getlock(Node& n, const LockArgs& req, LockHolder& out) = 0;

  // Extended attributes. `out` is replaced by the value (or the NUL-separated name list).
  virtual Result<void> xattr_get(Node& n, std::string_view name,
                                 std::vector<std::uint8_t>& out) = 0;
  virtual Result<void> xattr_list(Node& n, std::vector<std::uint8_t>& out) = 0;
  // flags are the Linux XATTR_CREATE (1) / XATTR_REPLACE (2) values.
  virtual Result<void> xattr_set(Node& n, std::string_view name, p9::Bytes value,
                                 std::uint32_t flags) = 0;
  virtual Result<void> xattr_remove(Node& n, std::string_view name) = 0;

  // Change events (docs/events.md). The core starts watching when an export gets its first
  // subscriber and stops when the last one leaves (never both at once). Meanwhile the backend
  // watches the export root and each directory watch() names, at most `max_watches` of them (the
  // least recently named is dropped, reported as an Unwatched event), and hands each change on
  // the host to `sink`, from any thread, never after stop_watching() has returned. A backend
  // that cannot watch answers EOPNOTSUPP.
  using ChangeSink = std::function<void(const p9::Event&)>;
  virtual Result<void> start_watching(ChangeSink sink, std::size_t max_watches) {
    (void)sink;
    (void)max_watches;
    return fail(EOPNOTSUPP, "this backend does not report changes");
  }
  virtual void stop_watching() {}
  // A fid uses the directory `n` (for a file, the core names the directory it was walked in):
  // watch it. Does nothing when not watching. Called on every walk: a directory already
  // watched should cost no system call.
  virtual void watch(Node& n) { (void)n; }
};

}  // namespace ninep::server
