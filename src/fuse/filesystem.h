// The FUSE file system: every low-level FUSE operation mapped onto 9P2000.L requests.
//
// Each operation runs on one of libfuse's worker threads and blocks on its 9P requests; many
// operations are in flight at once on the one multiplexed client session. An operation runs as
// the user who made it (fuse_req_ctx's uid) on a per-user connection (see Connection): every fid
// it uses descends from that user's attached root. Open files keep the fid of their opener.
// Operations that find the connection dead either wait for a reconnect and run again on the new
// connection (with re-walked fids), or fail with EIO.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "client/fid.h"
#include "client/types.h"
#include "common/error.h"
#include "fuse/coherence.h"
#include "fuse/connection.h"
#include "fuse/fuse_mount.h"
#include "fuse/inode_table.h"
#include "fuse/work_pool.h"

namespace ninep::fuse {

// An open file or directory (fuse_file_info::fh points to one).
struct OpenHandle {
  std::shared_ptr<Inode> node;
  std::uint32_t uid = 0;          // the opener: the fid acts as this user
  std::uint32_t lopen_flags = 0;  // to re-open after a reconnect
  bool is_dir = false;
  std::mutex mu;                     // guards the fields below
  std::shared_ptr<client::Fid> fid;  // opened
  std::uint64_t generation = 0;
  bool locked = false;  // a POSIX lock was taken through this handle: release at flush
  // Directories: entries fetched from the server and not yet passed to the kernel.
  std::vector<client::DirEntry> entries;
  std::size_t next_entry = 0;
  std::uint64_t entries_from = ~std::uint64_t(0);  // cookie the entries were fetched after
  bool at_end = false;
};

struct FileSystemOptions {
  CacheMode cache = CacheMode::None;
  CacheMode fallback = CacheMode::Loose;  // see MountOptions::fallback
  double loose_timeout = 1.0;
  std::size_t max_fids = 0;  // see MountOptions::max_fids
};

class FileSystem {
 public:
  FileSystem(Connection& conn, const FileSystemOptions& opts);
  ~FileSystem();
  FileSystem(const FileSystem&) = delete;
  FileSystem& operator=(const FileSystem&) = delete;

  static const fuse_lowlevel_ops& operations();  // userdata: FileSystem*

  void set_session(fuse_session* se) { session_ = se; }
  void set_ready_callback(std::function<void()> fn) { on_ready_ = std::move(fn); }

  // ---- operations (each replies to `req` exactly once) ----
  void init(fuse_conn_info* conn);
  void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
  void forget(fuse_ino_t ino, std::uint64_t n);
  void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi);
  // `attr` null: a getattr.
  void setattr(fuse_req_t req, fuse_ino_t ino, const struct stat* attr, int to_set,
               fuse_file_info* fi);
  void readlink(fuse_req_t req, fuse_ino_t ino);
  void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
  void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
  void unlink(fuse_req_t req, fuse_ino_t parent, const char* name, bool dir);
  void symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name);
  void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned flags);
  void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
  void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi, bool dir);
  void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, fuse_file_info* fi);
  void read(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi);
  void write(fuse_req_t req, const char* buf, size_t size, off_t off, fuse_file_info* fi);
  void flush(fuse_req_t req, fuse_file_info* fi);
  void release(fuse_req_t req, fuse_file_info* fi);
  void fsync(fuse_req_t req, int datasync, fuse_file_info* fi);
  void readdir(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus);
  void statfs(fuse_req_t req, fuse_ino_t ino);
  void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
                int flags);
  void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
  void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
  void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);
  void getlk(fuse_req_t req, fuse_file_info* fi, struct flock* lock);
  void setlk(fuse_req_t req, fuse_file_info* fi, struct flock* lock, bool sleep);
  void flock(fuse_req_t req, fuse_file_info* fi, int op);

  std::size_t inodes() const { return inodes_.size(); }
  std::size_t inode_fids() const { return inodes_.fids(); }
  std::uint64_t open_handles() const;
  // The cache mode in effect: Auto only while the server offers change events (else the
  // fallback), and why it does not.
  CacheMode cache_mode() const { return opts_.cache; }
  const Error& events_error() const { return events_error_; }
  std::uint64_t events_applied() const { return coherence_ ? coherence_->applied() : 0; }
  bool following_events() const { return coherence_ && coherence_->live(); }
  // Stops following change events: before the FUSE session is destroyed (see Coherence::stop).
  void stop_following(const std::function<void()>& stuck) {
    if (coherence_) coherence_->stop(stuck);
  }

 private:
  struct Attempt;  // one try of an operation against one connection generation

  // Runs `op` against the current connection as the user who made `req` (the start user when
  // `req` is null); when it fails because the connection died and reconnecting is enabled, waits
  // for the new connection and runs it again.
  template <typename T, typename F>
  Result<T> retrying(fuse_req_t req, F&& op) {
    return retrying_as<T>(req, requester(req), std::forward<F>(op));
  }
  template <typename T, typename F>
  Result<T> retrying_as(fuse_req_t req, std::uint32_t uid, F&& op);
  std::uint32_t requester(fuse_req_t req) const;
  // The group a file created by `req` gets.
  gid_t creator_gid(fuse_req_t req) const;

  // The walked fid of `node` for the user and generation of `snap` (walked by path from the
  // user's root if it has none of this generation).
  Result<std::shared_ptr<client::Fid>> fid_for(const std::shared_ptr<Inode>& node,
                                               const Connection::Snapshot& snap);
  Result<std::shared_ptr<Inode>> node(fuse_ino_t ino) const;
  // node(ino) and its fid_for(snap), which most operations start with.
  struct NodeFid {
    std::shared_ptr<Inode> node;
    std::shared_ptr<client::Fid> fid;
  };
  Result<NodeFid> node_fid(fuse_ino_t ino, const Connection::Snapshot& snap);
  // The opened fid of a handle (re-opened after a reconnect).
  Result<std::shared_ptr<client::Fid>> fid_for(OpenHandle& h, const Connection::Snapshot& snap);
  // Applies `change` (if any) and returns the attributes of node `ino` (see the comment inside
  // for which fid is asked).
  Result<client::Attr> attributes(fuse_ino_t ino, fuse_file_info* fi, const client::SetAttr* change,
                                  const Connection::Snapshot& snap);

  // Walks `name` from `parent`, gets its attributes and records the node (lookup count + 1).
  Result<fuse_entry_param> lookup_entry(const std::shared_ptr<Inode>& parent, std::string_view name,
                                        const Connection::Snapshot& snap);
  fuse_entry_param make_entry(const Inode& node, const client::Attr& attr) const;
  void reply_error(fuse_req_t req, const Error& e);

  // Replies the kernel caches (entries, attributes, negative entries, listings) are sent through
  // reply_cached(ticket(), dir, send): `send(timeout)` gets how long the kernel may keep what it
  // carries (cache=auto: see Coherence; `dir` is the directory the entry or file is in, null for
  // the root). The ticket is taken before the operation asks the server.
  using Ticket = std::uint64_t;
  Ticket ticket() const;
  template <typename F>
  void reply_cached(Ticket t, const Inode* dir, F&& send) {
    if (coherence_) return coherence_->reply(t, dir, send);
    send(opts_.cache == CacheMode::Loose ? opts_.loose_timeout : 0.0);
  }
  bool caching() const { return opts_.cache == CacheMode::Loose || opts_.cache == CacheMode::Auto; }
  std::shared_ptr<Inode> directory_of(fuse_ino_t ino) const;
  // Replies a new entry in `parent` (or the error).
  void reply_entry(fuse_req_t req, Ticket t, fuse_ino_t parent, Result<fuse_entry_param> e);
  Result<void> fill_dir_entries(OpenHandle& h, std::uint64_t off, std::size_t want,
                                const Connection::Snapshot& snap);
  Result<std::uint8_t> lock_once(OpenHandle& h, const client::LockRequest& lr,
                                 const Connection::Snapshot& snap);
  void lock_wait(fuse_req_t req, OpenHandle& h, client::LockRequest lr, bool sleep);
  // Releases every lock of `owner` (a fuse_file_info::lock_owner) on the file.
  void unlock_all(OpenHandle& h, std::uint64_t owner);
  void readdir_plain(fuse_req_t req, size_t size, std::uint64_t off, OpenHandle& h);
  void readdir_plus(fuse_req_t req, size_t size, std::uint64_t off, OpenHandle& h);
  // Makes the handle's buffered entries continue at cookie `off` (fetching if needed). False at
  // the end of the directory.
  Result<bool> position_entries(fuse_req_t req, OpenHandle& h, std::uint64_t off, std::size_t size);

  // Records `h` as given to the kernel and returns it as an fh; forget() undoes it.
  std::uint64_t hand_out(OpenHandle* h);
  void forget(OpenHandle* h);

  bool connection_alive() const { return conn_.current().alive(); }

  Connection& conn_;
  FileSystemOptions opts_;
  InodeTable inodes_;
  std::unique_ptr<Coherence> coherence_;  // cache=auto with a server that offers events
  Error events_error_{};
  fuse_session* session_ = nullptr;
  std::function<void()> on_ready_;
  // Handles given to the kernel (fuse_file_info::fh) and not released yet: freed with the file
  // system when no release comes (the session ended with files still open).
  mutable std::mutex handles_mu_;
  std::unordered_set<OpenHandle*> handles_;
  std::uint32_t max_io_ = 0;
  gid_t start_gid_ = 0;  // primary group of the connection's start uid
  WorkPool lookups_{8};  // readdirplus looks its entries up in parallel
};

}  // namespace ninep::fuse
