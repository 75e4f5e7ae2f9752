// The inodes the kernel knows about: FUSE node ids, their lookup counts, and the walked (never
// opened) fids each one holds on the server: one per user that used the node, since a fid acts
// as the user whose attached root it descends from (see Connection). The root's fids are those
// roots, held by the Connection.
//
// A node's fids live at most as long as the kernel's references (lookup count): forget() to zero
// clunks them. Each node also remembers its parent and name, so that its fid can be walked again
// from the root: after a reconnect, and after the table let it go to stay within its fid budget
// (the server holds a descriptor for each fid, and a kernel caching a large tree references
// far more inodes than a server may keep open); a parent stays reachable for that as long as a
// child needs it.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "client/fid.h"
#include "client/types.h"
#include "p9/message.h"

namespace ninep::fuse {

struct Inode;

// One walked fid of a node, for the user `uid`.
struct InodeFid {
  std::uint32_t uid = 0;
  std::uint64_t generation = 0;  // connection generation of `fid`
  std::shared_ptr<client::Fid> fid;
  std::list<std::pair<Inode*, std::uint32_t>>::iterator lru;  // its place in the table's LRU
};

struct Inode {
  fuse_ino_t ino = 0;
  p9::Qid qid;
  // Everything below is guarded by the table's mutex.
  std::uint64_t nlookup = 0;
  std::shared_ptr<Inode> parent;  // null for the root
  std::string name;
  bool unlinked = false;  // removed by us: its path no longer leads to it
  // cache=auto: the server said it stopped watching this directory (see Coherence).
  std::atomic<bool> unwatched{false};
  // cache=auto: an open by `pages_uid` checked the file's version against its cached pages, and
  // no change to the file was reported since (Coherence clears it): that user's read-only opens
  // need not ask the server again.
  std::atomic<bool> pages_checked{false};
  std::atomic<std::uint32_t> pages_uid{0};
  std::vector<InodeFid> fids;        // walked, per user; none once forgotten, fewer once let go
  std::uint32_t cached_version = 0;  // qid.version when the page cache was last filled
  bool version_known = false;
  client::Attr attr;  // the last attributes the server sent
  bool has_attr = false;
  std::weak_ptr<client::Fid> open_fid;  // an open file of this node, while there is one
  std::uint32_t open_fid_uid = 0;       // the user who opened it
  // Loose caching: attribute names the server recently said the file does not have (the kernel
  // asks for security.capability before every write, ls for ACLs and labels of every file).
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> absent_xattrs;
};

class InodeTable {
 public:
  // At most this many fids are kept for nodes (besides the root), all users together; beyond, the
  // least recently used one that can be walked again is clunked. 0: no limit.
  void set_max_fids(std::size_t n);

  void set_root(const p9::Qid& qid);

  // The node with this id, or null when the kernel has forgotten it (a kernel bug or a race
  // with forget; reported as ESTALE).
  std::shared_ptr<Inode> get(fuse_ino_t ino) const;

  // Records a successful lookup of `name` in `parent` by `uid`: an existing node with the same
  // qid.path (a hard link, or the same file again) gets its lookup count raised and the newer
  // path and fid of `uid`; otherwise a new node is made. Returns the node.
  std::shared_ptr<Inode> remember(const std::shared_ptr<Inode>& parent, std::string_view name,
                                  const p9::Qid& qid, client::Fid&& fid, std::uint64_t generation,
                                  std::uint32_t uid);

  // The live node for a server file, or null.
  std::shared_ptr<Inode> find_qid(std::uint64_t qid_path) const;

  // Undoes one remember() whose reply could not be delivered (readdirplus entry that did not fit).
  void unremember(fuse_ino_t ino) { forget(ino, 1); }

  // Drops `n` kernel references; at zero the node's fids are clunked and the id is retired.
  void forget(fuse_ino_t ino, std::uint64_t n);

  // The fid of `node` for `uid` if it has one of `generation`, else null (the caller re-walks).
  std::shared_ptr<client::Fid> fid_of(Inode& node, std::uint64_t generation, std::uint32_t uid);
  // Installs a re-walked fid of `uid` (keeps a newer one if another thread was faster).
  void set_fid(Inode& node, std::shared_ptr<client::Fid> fid, std::uint64_t generation,
               std::uint32_t uid);
  // Fids held for nodes (the LRU's length).
  std::size_t fids() const;

  // The directory `node` is in (null for the root).
  std::shared_ptr<Inode> parent_of(const Inode& node) const;
  // Names from the root to `node` (empty for the root); false if the node was unlinked.
  bool path_of(const Inode& node, std::vector<std::string>& names) const;

  // After a rename: the node now lives at `name` in `new_parent`. The fids of other users than
  // `by` are let go: servers whose fids are paths (diod) would keep them at the old name.
  void moved(const std::shared_ptr<Inode>& node, const std::shared_ptr<Inode>& new_parent,
             std::string_view name, std::uint32_t by);
  void mark_unlinked(const std::shared_ptr<Inode>& node);

  // Loose caching: true when the page cache of `node` may be kept for a file at `version`
  // (records the version for next time).
  bool keep_cache(Inode& node, std::uint32_t version);

  // Attributes cache for lookups (see FileSystem::lookup_entry).
  void set_attr(Inode& node, const client::Attr& attr);
  // The last attributes of `node` if they were taken at exactly `qid` (same type and version).
  std::optional<client::Attr> cached_attr(const Inode& node, const p9::Qid& qid) const;
  std::optional<client::Attr> last_attr(const Inode& node) const;

  // Records an open fid of `node` opened by `uid`, and returns the latest one that is still open
  // if `uid` opened it (or null).
  void set_open_fid(Inode& node, const std::shared_ptr<client::Fid>& fid, std::uint32_t uid);
  std::shared_ptr<client::Fid> open_fid(const Inode& node, std::uint32_t uid) const;

  // The absent-xattr cache (see Inode::absent_xattrs).
  bool known_absent_xattr(const Inode& node, std::string_view name,
                          std::chrono::steady_clock::duration ttl) const;
  void set_absent_xattr(Inode& node, std::string_view name);
  void forget_absent_xattrs(Inode& node);

  std::size_t size() const;

  // What the kernel may cache of a node: its id, and the entry that names it (parent 0: none).
  struct Cached {
    std::shared_ptr<Inode> node;
    fuse_ino_t parent = 0;
    std::string name;
  };
  // Every node (`parent` null), or the nodes whose entry is in directory `parent`.
  std::vector<Cached> cached(std::optional<fuse_ino_t> parent) const;

 private:
  using Released = std::vector<std::shared_ptr<client::Fid>>;  // clunked outside the lock
  // Marks the fid of `uid` of `node` as just used; lets go of the least recently used ones over
  // the budget (moved to `out`).
  void touch_locked(Inode& node, std::uint32_t uid, Released* out);
  // Installs `fid` as the one of `uid` (the old one, if any, to `out`).
  void put_fid_locked(Inode& node, std::shared_ptr<client::Fid> fid, std::uint64_t generation,
                      std::uint32_t uid, Released* out);
  // Removes the fid at `index` of `node` (to `out`).
  void drop_fid_locked(Inode& node, std::size_t index, Released* out);

  mutable std::mutex mu_;
  std::size_t max_fids_ = 0;
  // Every fid held for a node (besides the root), as (node, uid), most recently used first.
  std::list<std::pair<Inode*, std::uint32_t>> lru_;
  std::unordered_map<fuse_ino_t, std::shared_ptr<Inode>> by_ino_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Inode>> by_qid_;
  fuse_ino_t next_ino_ = FUSE_ROOT_ID + 1;
};

}  // namespace ninep::fuse
