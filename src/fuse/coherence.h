// cache=auto: the mount follows the server's change events (docs/events.md) and turns each one
// into the exact invalidation of what the kernel caches for it (entries, attributes, pages,
// directory listings), so that the kernel may cache everything for a long time.
//
// Ordering. An operation whose reply the kernel will cache takes a ticket (the invalidation
// epoch) before it asks the server, and sends its reply through reply(): the reply may be cached
// for long only if no invalidation began since the ticket, and the check and the reply are made
// under a lock that an invalidation takes (briefly) before it tells the kernel. So either the
// kernel has the reply before it is told to drop it, or the reply is not cached at all. (The
// kernel itself keeps a dentry being looked up locked against an invalidation until the reply is
// in place.)
//
// Losing the stream (the connection, or an OVERFLOW record) drops everything it covered; until
// the mount subscribes again, nothing is cached. A directory the server stopped watching
// (UNWATCHED) is dropped and its entries are not cached until a walk has it watched again.
#pragma once

#define FUSE_USE_VERSION 314
#include <fuse3/fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "client/events.h"
#include "common/error.h"
#include "fuse/connection.h"
#include "fuse/inode_table.h"

namespace ninep::fuse {

class Coherence {
 public:
  // How long the kernel may cache what a reply carries while the events are followed.
  static constexpr double kTimeout = 3600.0;
  // The pause after applying a batch of events before reading the next (see run()).
  static constexpr std::chrono::milliseconds kBatchDelay{2};
  // How long a refused subscription waits before it is asked for again (doubling up to the max).
  static constexpr std::chrono::milliseconds kRetryDelay{1000};
  static constexpr std::chrono::milliseconds kMaxRetryDelay{30000};
  // Negative entries remembered (to drop them when the stream is lost); beyond, not cached.
  static constexpr std::size_t kMaxNegative = 65536;

  Coherence(Connection& conn, InodeTable& inodes);
  ~Coherence();
  Coherence(const Coherence&) = delete;
  Coherence& operator=(const Coherence&) = delete;

  // Subscribes on the current connection. An error when the server offers no events (diod
  // answers the unknown aname with an error).
  Result<void> subscribe();
  // Follows the subscription on a thread of its own, invalidating through `se`. Starts once the
  // kernel's INIT is answered; stop() before `se` is destroyed. An invalidation waits for the
  // kernel's lock on the directory: when the thread has not stopped after 2 s (a process holds
  // that lock waiting for a reply nobody will send), `stuck` runs (it aborts the connection).
  void start(fuse_session* se);
  void stop(const std::function<void()>& stuck = {});

  std::uint64_t ticket() const { return epoch_.load(std::memory_order_acquire); }

  // Runs `send(timeout)` ordered against invalidations: `timeout` is kTimeout when the events
  // are followed, nothing was invalidated since `ticket` and `dir` (the directory the reply's
  // entry or file is in; null for the root) is watched; otherwise 0.
  template <typename F>
  void reply(std::uint64_t ticket, const Inode* dir, F&& send) {
    std::shared_lock lk(mu_);
    bool fresh = live_ && epoch_.load(std::memory_order_relaxed) == ticket &&
                 (dir == nullptr || !dir->unwatched.load(std::memory_order_relaxed));
    send(fresh ? kTimeout : 0.0);
  }

  // A negative entry is about to be replied with `timeout`: remembers it, or answers 0 when
  // too many are remembered already.
  double note_negative(fuse_ino_t parent, std::string_view name, double timeout);
  // The kernel forgot directory `ino`, and with it the negative entries in it.
  void forget_dir(fuse_ino_t ino);

  std::uint64_t applied() const { return applied_.load(); }
  bool live() const;

 private:
  void run(std::stop_token stop);
  void apply(const p9::Event& e);
  // Bumps the epoch (and sets live_ to `live`) so that no reply in flight is cached.
  void begin_invalidation(bool live);
  void inval_entry(fuse_ino_t parent, std::string_view name);
  // The node's attributes, and with `data` its pages (a directory's: its listing); either way
  // its next open asks the server again.
  void inval_inode(Inode& node, bool data);
  // Every entry, attribute, page and negative entry (in `dir` only, when not null) is dropped.
  void drop(Inode* dir);

  Connection& conn_;
  InodeTable& inodes_;
  fuse_session* se_ = nullptr;
  std::optional<client::EventStream> stream_;
  std::uint64_t stream_generation_ = 0;
  std::jthread thread_;
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool done_ = false;  // run() returned

  mutable std::shared_mutex mu_;  // replies shared, epoch bumps exclusive
  std::atomic<std::uint64_t> epoch_{0};
  bool live_ = false;
  std::atomic<std::uint64_t> applied_{0};

  std::mutex negative_mu_;
  std::unordered_map<fuse_ino_t, std::unordered_set<std::string>> negative_;
  std::size_t negative_count_ = 0;
};

}  // namespace ninep::fuse
