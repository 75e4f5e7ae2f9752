#include "fuse/coherence.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace ninep::fuse {

Coherence::Coherence(Connection& conn, InodeTable& inodes) : conn_(conn), inodes_(inodes) {}

Coherence::~Coherence() {
  stop();
}

Result<void> Coherence::subscribe() {
  auto s = conn_.subscribe_events(stream_generation_);
  if (!s) return std::unexpected(s.error());
  stream_.emplace(std::move(*s));
  return {};
}

void Coherence::start(fuse_session* se) {
  if (thread_.joinable() || !stream_) return;
  se_ = se;
  begin_invalidation(true);
  thread_ = std::jthread([this](std::stop_token stop) {
    run(stop);
    std::lock_guard lk(done_mu_);
    done_ = true;
    done_cv_.notify_all();
  });
}

void Coherence::stop(const std::function<void()>& stuck) {
  if (!thread_.joinable()) return;
  thread_.request_stop();  // flushes the waiting read
  {
    std::unique_lock lk(done_mu_);
    if (!done_cv_.wait_for(lk, std::chrono::seconds(2), [this] { return done_; }) && stuck) {
      lk.unlock();
      stuck();
    }
  }
  thread_.join();
  begin_invalidation(false);
}

bool Coherence::live() const {
  std::shared_lock lk(mu_);
  return live_;
}

void Coherence::run(std::stop_token stop) {
  auto retry_delay = kRetryDelay;
  while (!stop.stop_requested()) {
    if (!stream_) {
      // Not subscribed: on the next connection when this one is lost, else (the server refused
      // the subscription or ended it) on this one again after a pause. Then what was cached
      // meanwhile is dropped (changes made then were not reported).
      if (!conn_.current().alive()) {
        auto interrupted = [&stop] { return stop.stop_requested(); };
        if (!conn_.await_reconnect(stream_generation_, interrupted)) {
          if (!conn_.may_reconnect() || stop.stop_requested()) return;
          continue;
        }
      } else {
        std::mutex m;
        std::unique_lock lk(m);
        std::condition_variable_any().wait_for(lk, stop, retry_delay, [] { return false; });
        if (stop.stop_requested()) return;
      }
      if (!subscribe()) {
        retry_delay = std::min(retry_delay * 2, kMaxRetryDelay);
        continue;
      }
      retry_delay = kRetryDelay;
      drop(nullptr);
      begin_invalidation(true);
      continue;
    }
    client::CallOptions o;
    o.timeout = std::chrono::milliseconds(0);
    o.stop = stop;
    auto batch = stream_->next(o);
    if (!batch) {
      if (stop.stop_requested()) return;
      // Not followed any more: nothing may be cached from now on, and what is, is dropped.
      begin_invalidation(false);
      drop(nullptr);
      stream_.reset();
      continue;
    }
    for (const auto& e : *batch) apply(e);
    // While changes stream in (a build, an untar), the server gathers them meanwhile: one
    // batch, one round trip and a few wakeups of both processes per kBatchDelay instead of per
    // change. After a quiet spell the next change still arrives at once (the read waits for it).
    std::this_thread::sleep_for(kBatchDelay);
  }
}

void Coherence::begin_invalidation(bool live) {
  std::unique_lock lk(mu_);
  epoch_.fetch_add(1, std::memory_order_release);
  live_ = live;
}

void Coherence::inval_entry(fuse_ino_t parent, std::string_view name) {
  {
    std::lock_guard lk(negative_mu_);
    auto it = negative_.find(parent);
    if (it != negative_.end() && it->second.erase(std::string(name)) > 0) --negative_count_;
  }
  // ENOENT: the kernel has no such entry (cached no longer, or never).
  std::string n(name);
  fuse_lowlevel_notify_inval_entry(se_, parent, n.c_str(), n.size());
}

void Coherence::inval_inode(Inode& node, bool data) {
  node.pages_checked.store(false);
  // Offset 0, length 0: the attributes and every cached page; a negative offset: the
  // attributes only.
  fuse_lowlevel_notify_inval_inode(se_, node.ino, data ? 0 : -1, 0);
}

void Coherence::apply(const p9::Event& e) {
  using K = p9::EventKind;
  begin_invalidation(true);
  if (e.kind == K::Overflow) {
    drop(nullptr);
    applied_.fetch_add(1);
    return;
  }
  auto dir = inodes_.find_qid(e.dir_qid.path);
  // The entry, or the directory itself for a record without a name.
  auto node = e.name.empty() ? dir : e.qid.path != 0 ? inodes_.find_qid(e.qid.path) : nullptr;
  switch (e.kind) {
    case K::Create:
    case K::Remove:
      // (A removed file's own attributes, its link count, stay: the record does not say which
      // file it was.)
      if (dir) {
        inval_entry(dir->ino, e.name);
        inval_inode(*dir, true);  // its listing, size and times
      }
      break;
    case K::Rename: {
      auto to_dir = inodes_.find_qid(e.to_dir_qid.path);
      if (dir) {
        inval_entry(dir->ino, e.name);
        inval_inode(*dir, true);
      }
      if (to_dir) {
        inval_entry(to_dir->ino, e.to_name);
        inval_inode(*to_dir, true);
      }
      if (node) {
        // Its path, to walk to it again, is the new one.
        if (to_dir) inodes_.moved(node, to_dir, e.to_name, conn_.start_uid());
        inval_inode(*node, false);
      }
      break;
    }
    case K::Attrib:
      if (node) {
        inodes_.forget_absent_xattrs(*node);
        inval_inode(*node, false);
      }
      break;
    case K::Modify:
      if (node) inval_inode(*node, true);
      break;
    case K::Unwatched:
      if (dir) {
        dir->unwatched.store(true);
        drop(dir.get());
      }
      break;
    case K::Overflow:
      break;
  }
  applied_.fetch_add(1);
}

void Coherence::drop(Inode* dir) {
  if (!se_) return;
  for (const auto& c : inodes_.cached(dir ? std::optional(dir->ino) : std::nullopt)) {
    if (c.parent != 0) inval_entry(c.parent, c.name);
    inval_inode(*c.node, true);
  }
  if (dir) inval_inode(*dir, true);
  std::unordered_map<fuse_ino_t, std::unordered_set<std::string>> negatives;
  {
    std::lock_guard lk(negative_mu_);
    if (dir) {
      if (auto it = negative_.find(dir->ino); it != negative_.end()) {
        negative_count_ -= it->second.size();
        negatives.insert(negative_.extract(it));
      }
    } else {
      negatives.swap(negative_);
      negative_count_ = 0;
    }
  }
  for (const auto& [parent, names] : negatives)
    for (const auto& name : names)
      fuse_lowlevel_notify_inval_entry(se_, parent, name.c_str(), name.size());
}

double Coherence::note_negative(fuse_ino_t parent, std::string_view name, double timeout) {
  if (timeout == 0) return 0;
  std::lock_guard lk(negative_mu_);
  if (negative_count_ >= kMaxNegative) return 0;
  if (negative_[parent].emplace(name).second) ++negative_count_;
  return timeout;
}

void Coherence::forget_dir(fuse_ino_t ino) {
  std::lock_guard lk(negative_mu_);
  auto it = negative_.find(ino);
  if (it == negative_.end()) return;
  negative_count_ -= it->second.size();
  negative_.erase(it);
}

}  // namespace ninep::fuse
