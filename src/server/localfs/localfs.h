// The host-directory backend: serves a directory of the host. Every fid holds an O_PATH
// descriptor; every host call is relative to such a descriptor (or to the inode itself via
// /proc/self/fd, see host_path.h) and never follows a symlink, so nothing outside the export can
// be reached by any sequence of requests.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "server/backend.h"
#include "server/localfs/local_node.h"
#include "server/localfs/lock_registry.h"

namespace ninep::server::localfs {

// One client process's POSIX locks on one file: every fid it locks through shares them, and they
// conflict with other owners', as a process's locks on a local file do whatever descriptor it
// uses. They are OFD locks on a descriptor of the owner's own (host OFD locks belong to an open
// file description, not to a fid).
struct LockOwner {
  using Key = std::tuple<dev_t, ino_t, std::uint64_t, std::uint32_t, std::string>;
  Key key;  // file (dev, ino), connection, proc_id, client_id
  UniqueFd fd;
};

struct Options {
  bool read_only = false;
  // Deepest directory level below the export root a walk may reach.
  std::uint32_t max_depth = 1024;
  // Tests only (serve --test-unchecked-paths): walks follow symlinks and nothing checks that a
  // file is inside the export, so that a test can show what the sandbox alone stops.
  bool unchecked_for_tests = false;
};

class LocalFs final : public Backend {
 public:
  // Opens the export root. ENOENT / ENOTDIR / EACCES name the path.
  static Result<std::unique_ptr<LocalFs>> open(const std::string& path, Options opts = {});
  ~LocalFs() override;

  Result<NodePtr> attach() override;
  Result<NodePtr> clone(Node& from) override;
  Result<NodePtr> walk(Node& from, std::string_view name) override;
  Result<void> check_inside(Node& n) override;

  Result<void> getattr(Node& n, std::uint64_t request_mask, p9::Rgetattr& out) override;
  Result<void> setattr(Node& n, const p9::Tsetattr& req) override;
  Result<void> statfs(Node& n, p9::Rstatfs& out) override;

  Result<p9::Qid> open(Node& n, std::uint32_t flags) override;
  Result<p9::Qid> create(Node& dir, std::string_view name, std::uint32_t flags, std::uint32_t mode,
                         std::uint32_t gid) override;
  Result<p9::Qid> mkdir(Node& dir, std::string_view name, std::uint32_t mode,
                        std::uint32_t gid) override;
  Result<p9::Qid> symlink(Node& dir, std::string_view name, std::string_view target,
                          std::uint32_t gid) override;
  Result<p9::Qid> mknod(Node& dir, std::string_view name, std::uint32_t mode, std::uint32_t major,
                        std::uint32_t minor, std::uint32_t gid) override;
  Result<void> link(Node& dir, Node& target, std::string_view name) override;
  Result<void> rename(Node& n, Node& newdir, std::string_view newname) override;
  Result<void> renameat(Node& olddir, std::string_view oldname, Node& newdir,
                        std::string_view newname) override;
  Result<void> unlinkat(Node& dir, std::string_view name, std::uint32_t flags) override;
  Result<void> remove(Node& n) override;

  Result<std::size_t> readlink(Node& n, std::span<char> out) override;
  Result<std::size_t> read(Node& n, std::uint64_t offset, std::span<std::uint8_t> out) override;
  Result<std::size_t> write(Node& n, std::uint64_t offset, p9::Bytes data) override;
  Result<void> readdir(Node& n, std::uint64_t offset, p9::ReaddirBuilder& out) override;
  Result<void> fsync(Node& n, bool datasync) override;

  Result<std::uint8_t> lock(Node& n, const LockArgs& req) override;
  Result<void> getlock(Node& n, const LockArgs& req, LockHolder& out) override;

  Result<void> xattr_get(Node& n, std::string_view name, std::vector<std::uint8_t>& out) override;
  Result<void> xattr_list(Node& n, std::vector<std::uint8_t>& out) override;
  Result<void> xattr_set(Node& n, std::string_view name, p9::Bytes value,
                         std::uint32_t flags) override;
  Result<void> xattr_remove(Node& n, std::string_view name) override;

  // Change events through inotify (localfs_watch.cpp).
  Result<void> start_watching(ChangeSink sink, std::size_t max_watches) override;
  void stop_watching() override;
  void watch(Node& n) override;
  // Directories watched now (0 when not watching).
  std::size_t watch_count();

  const Options& options() const { return opts_; }

 private:
  friend class LocalNode;
  LocalFs(UniqueFd root, const struct stat& st, Options opts);

  // Node lifecycle.
  NodePtr make_node();
  void recycle(LocalNode* n);
  // Fills a node from a fresh O_PATH descriptor and its attributes.
  void fill(LocalNode& n, UniqueFd fd, const struct stat& st);
  // Fills a new node from a fresh O_PATH descriptor.
  Result<NodePtr> node_from(UniqueFd fd);
  // Twalk of "..": the parent as the kernel sees it now, opened beneath the root. `base` is the
  // path of `from` when the running walk made it.
  Result<NodePtr> walk_up(LocalNode& from, const std::string* base);

  // qids: path from (dev, ino), version from the data's timestamps and size.
  p9::Qid qid_of(const struct stat& st);
  std::uint64_t qid_path(dev_t dev, ino_t ino);
  bool is_root(const LocalNode& n) const { return n.dev == root_dev_ && n.ino == root_ino_; }

  // The path of what `fd` names, relative to the root ("" for the root); ENOENT when it is not
  // inside. Valid until the next call on this thread.
  Result<std::string_view> relative_path(int fd);
  // relative_path() of a node's descriptor, then its attributes into `st`; ENOENT when it has
  // been removed (a path read while it was being removed says nothing).
  Result<std::string_view> checked_path(int fd, struct stat& st);
  // The directory holding `n` and its name there, checked to still be `n`.
  Result<UniqueFd> locate(const LocalNode& n, std::string& name);
  // ENOENT when `n` is no longer inside the export (moved out on the host).
  Result<void> still_inside(const LocalNode& n);
  // A directory node checked to be inside the export, for operations on names in it.
  Result<void> usable_dir(LocalNode& d);
  // After creating `name` (now open as `fd`) in `dirfd`: check it is inside the export, give it
  // the requested group, return its qid.
  Result<p9::Qid> finish_create(int dirfd, const char* name, int fd, std::uint32_t gid);

  UniqueFd root_;
  dev_t root_dev_;
  ino_t root_ino_;
  Options opts_;

  std::shared_mutex root_path_mu_;
  std::string root_path_;  // refreshed when the export itself is moved

  std::mutex dev_mu_;
  std::vector<dev_t> devs_;  // index (+1) is mixed into qid.path of files on other devices

  std::mutex pool_mu_;
  std::vector<LocalNode*> free_nodes_;
  std::size_t live_nodes_ = 0;

  // Locks (localfs_lock.cpp). owners_mu_ also guards every node's lock_owners.
  Result<UniqueFd> open_lock_fd(const LocalNode& n, int io);
  void release_lock_owners(LocalNode& n);
  std::mutex owners_mu_;
  std::map<LockOwner::Key, std::shared_ptr<LockOwner>> owners_;
  LockRegistry locks_;

  class Watcher;
  struct WatcherDelete {
    void operator()(Watcher* w) const;
  };
  std::shared_mutex watcher_mu_;  // shared by watch(); exclusive to start or stop
  std::unique_ptr<Watcher, WatcherDelete> watcher_;
};

LocalNode& as_local(Node& n);

}  // namespace ninep::server::localfs
