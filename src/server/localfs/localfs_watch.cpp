// Change events through inotify: one inotify instance per watching export, a thread that turns
// what it reports into p9::Events, and a least-recently-used bound on the directories watched.
// Paths in events are those the watched directories had when watched, kept right across renames
// this thread sees both halves of; a watched directory moved where it cannot follow is dropped
// (an Unwatched event), as is one removed.
#include <fcntl.h>
#include <sys/inotify.h>

#include <list>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/path.h"
#include "server/localfs/host_path.h"
#include "server/localfs/localfs.h"
#include "transport/stream.h"

namespace ninep::server::localfs {

namespace {

constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |
                                IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF |
                                IN_ONLYDIR | IN_EXCL_UNLINK;

}  // namespace

class LocalFs::Watcher {
 public:
  // The inotify descriptor is read as a transport::Stream: interrupt() wakes the thread.
  Watcher(LocalFs& fs, UniqueFd inotify, ChangeSink sink, std::size_t max)
      : fs_(fs),
        ino_(std::move(inotify)),
        sink_(std::move(sink)),
        max_(std::max<std::size_t>(1, max)) {}

  ~Watcher() {
    ino_.interrupt();
    {
      // Each removal queues an IN_IGNORED: that wakes the thread too, should the stream have
      // had no descriptor left for its own wake-up.
      std::lock_guard lk(mu_);
      for (const auto& [wd, w] : watches_) ::inotify_rm_watch(ino_.fd(), wd);
    }
    if (thread_.joinable()) thread_.join();
  }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  // Watches the directory `fd` names (O_PATH); what had to be dropped for it goes to `out`.
  Result<void> add(int fd, std::vector<p9::Event>& out) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode)) return fail(ENOTDIR);
    auto rel = fs_.relative_path(fd);
    if (!rel) return std::unexpected(rel.error());
    std::string path(*rel);
    std::lock_guard lk(mu_);
    const int wd = ::inotify_add_watch(ino_.fd(), ProcFdPath(fd).c_str(), kMask);
    if (wd < 0) {
      const int e = errno;
      if (e == ENOSPC) {
        // The host's fs.inotify.max_user_watches is spent: subscribers must not count on it.
        p9::Event u;
        u.kind = p9::EventKind::Unwatched;
        u.flags = p9::kEventIsDir;
        u.dir_qid = u.qid = fs_.qid_of(st);
        u.path = std::move(path);
        out.push_back(std::move(u));
      }
      return fail(e, "inotify_add_watch");
    }
    auto it = watches_.find(wd);
    if (it != watches_.end()) {
      Watch& w = it->second;
      w.path = std::move(path);
      if (w.in_lru) lru_.splice(lru_.begin(), lru_, w.lru);
      return {};
    }
    Watch w{std::move(path), fs_.qid_of(st), {}, false};
    by_qid_[w.qid.path] = wd;
    if (watches_.empty()) {
      root_wd_ = wd;  // the first one is the export root
    } else {
      lru_.push_front(wd);
      w.lru = lru_.begin();
      w.in_lru = true;
    }
    watches_.emplace(wd, std::move(w));
    while (watches_.size() > max_ && !lru_.empty()) {
      const int victim = lru_.back();
      ::inotify_rm_watch(ino_.fd(), victim);
      drop(victim, out);
    }
    return {};
  }

  // Marks the directory whose qid path is `qid_path` as just used; false when it is not watched.
  bool refresh(std::uint64_t qid_path) {
    std::lock_guard lk(mu_);
    auto it = by_qid_.find(qid_path);
    if (it == by_qid_.end()) return false;
    Watch& w = watches_.at(it->second);
    if (w.in_lru) lru_.splice(lru_.begin(), lru_, w.lru);
    return true;
  }

  std::size_t count() {
    std::lock_guard lk(mu_);
    return watches_.size();
  }

  void emit(const std::vector<p9::Event>& events) {
    for (const p9::Event& e : events) sink_(e);
  }

 private:
  struct Watch {
    std::string path;
    p9::Qid qid;
    std::list<int>::iterator lru;
    bool in_lru = false;
  };

  // Forgets watch `wd` (mu_ held) and says so.
  void drop(int wd, std::vector<p9::Event>& out) {
    auto it = watches_.find(wd);
    if (it == watches_.end()) return;
    p9::Event e;
    e.kind = p9::EventKind::Unwatched;
    e.flags = p9::kEventIsDir;
    e.dir_qid = it->second.qid;
    e.qid = it->second.qid;
    e.path = it->second.path;
    if (it->second.in_lru) lru_.erase(it->second.lru);
    if (auto q = by_qid_.find(it->second.qid.path); q != by_qid_.end() && q->second == wd)
      by_qid_.erase(q);
    watches_.erase(it);
    followed_.erase(wd);
    out.push_back(std::move(e));
  }

  // The qids of directory `path` and of `name` in it, as a walk would give them now (zero when
  // gone); `dir` keeps the watch's qid when the directory cannot be reached.
  void qids(const std::string& path, std::string_view name, p9::Qid& dir, p9::Qid& entry) {
    auto fd = open_beneath(fs_.root_.get(), path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (!fd) return;
    struct stat st {};
    if (::fstat(fd->get(), &st) == 0) dir = fs_.qid_of(st);
    if (name.empty()) {
      entry = dir;
      return;
    }
    if (::fstatat(fd->get(), CName(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      entry = fs_.qid_of(st);
  }

  p9::Event entry_event(p9::EventKind kind, const Watch& w, const inotify_event& ie) {
    p9::Event e;
    e.kind = kind;
    e.flags = (ie.mask & IN_ISDIR) ? p9::kEventIsDir : 0;
    e.path = w.path;
    e.name = ie.len > 0 ? std::string(ie.name) : std::string();
    e.dir_qid = w.qid;
    p9::Qid entry;
    qids(e.path, e.name, e.dir_qid, entry);
    if (kind != p9::EventKind::Remove) e.qid = entry;
    if (e.name.empty() && w.qid.type != 0) e.flags = p9::kEventIsDir;
    return e;
  }

  // A watched directory moved from (path, name) to (to_path, to_name): its watch and those
  // below it follow.
  void moved(const std::string& from, const std::string& to) {
    for (auto& [wd, w] : watches_) {
      if (!is_at_or_below(w.path, from) || wd == root_wd_) continue;
      // Only the moved directory itself gets an IN_MOVE_SELF (which this makes no news).
      if (w.path.size() == from.size()) followed_.insert(wd);
      w.path = to + w.path.substr(from.size());
    }
  }

  void handle(const char* buf, std::size_t len, std::vector<p9::Event>& out) {
    std::lock_guard lk(mu_);
    auto push = [&](p9::Event e) {
      // Repeats of one change (a write: modify, modify, close) are said once: the last one,
      // whose qid is the newest.
      if (!out.empty()) {
        p9::Event& last = out.back();
        if (e.kind == last.kind && e.path == last.path && e.name == last.name &&
            e.kind != p9::EventKind::Rename && e.kind != p9::EventKind::Overflow &&
            e.kind != p9::EventKind::Unwatched) {
          last = std::move(e);
          return;
        }
      }
      out.push_back(std::move(e));
    };
    for (std::size_t at = 0; at + sizeof(inotify_event) <= len;) {
      const auto& ie = *reinterpret_cast<const inotify_event*>(buf + at);
      at += sizeof(inotify_event) + ie.len;
      if (ie.mask & IN_Q_OVERFLOW) {
        p9::Event e;
        e.kind = p9::EventKind::Overflow;
        push(std::move(e));
        continue;
      }
      auto it = watches_.find(ie.wd);
      if (it == watches_.end()) continue;  // dropped already (IN_IGNORED after rm_watch)
      const Watch& w = it->second;
      if (ie.mask & IN_IGNORED) {
        drop(ie.wd, out);
        continue;
      }
      if (ie.mask & IN_DELETE_SELF) {
        drop(ie.wd, out);
        continue;
      }
      if (ie.mask & IN_MOVE_SELF) {
        if (ie.wd == root_wd_) continue;  // the export itself moved: paths below it hold
        if (followed_.erase(ie.wd) > 0) continue;
        // Moved where this thread could not follow: it and what is below are dropped.
        const std::string gone = w.path;
        std::vector<int> victims;
        for (auto& [wd, x] : watches_)
          if (is_at_or_below(x.path, gone) && wd != root_wd_) victims.push_back(wd);
        for (int v : victims) {
          ::inotify_rm_watch(ino_.fd(), v);
          drop(v, out);
        }
        continue;
      }
      if (ie.mask & IN_MOVED_FROM) {
        // Paired with the IN_MOVED_TO of the same cookie that follows it in the same read.
        const inotify_event* to = nullptr;
        if (at + sizeof(inotify_event) <= len) {
          const auto* next = reinterpret_cast<const inotify_event*>(buf + at);
          if ((next->mask & IN_MOVED_TO) && next->cookie == ie.cookie &&
              watches_.contains(next->wd))
            to = next;
        }
        if (to == nullptr) {
          push(entry_event(p9::EventKind::Remove, w, ie));
          continue;
        }
        at += sizeof(inotify_event) + to->len;
        const Watch& tw = watches_.at(to->wd);
        p9::Event e = entry_event(p9::EventKind::Remove, w, ie);
        e.kind = p9::EventKind::Rename;
        e.to_path = tw.path;
        e.to_name = to->len > 0 ? std::string(to->name) : std::string();
        e.to_dir_qid = tw.qid;
        qids(e.to_path, e.to_name, e.to_dir_qid, e.qid);
        if (ie.mask & IN_ISDIR) moved(child_path(e.path, e.name), child_path(e.to_path, e.to_name));
        push(std::move(e));
        continue;
      }
      if (ie.mask & (IN_CREATE | IN_MOVED_TO)) {
        push(entry_event(p9::EventKind::Create, w, ie));
      } else if (ie.mask & IN_DELETE) {
        push(entry_event(p9::EventKind::Remove, w, ie));
      } else if (ie.mask & IN_ATTRIB) {
        push(entry_event(p9::EventKind::Attrib, w, ie));
      } else if (ie.mask & (IN_MODIFY | IN_CLOSE_WRITE)) {
        push(entry_event(p9::EventKind::Modify, w, ie));
      }
    }
  }

  void run() {
    // Aligned for inotify_event; inotify hands out whole events only.
    std::vector<std::uint64_t> buf(64 * 1024 / sizeof(std::uint64_t));
    const std::span<std::uint8_t> bytes(reinterpret_cast<std::uint8_t*>(buf.data()),
                                        buf.size() * sizeof(std::uint64_t));
    for (;;) {
      auto n = ino_.read(bytes);
      std::vector<p9::Event> out;
      if (!n || *n == 0) {
        if (ino_.interrupted()) return;  // stopping
        // The descriptor failed: nothing is watched any more, and subscribers are told so.
        {
          std::lock_guard lk(mu_);
          std::vector<int> all;
          for (const auto& [wd, w] : watches_) all.push_back(wd);
          for (int wd : all) drop(wd, out);
        }
        emit(out);
        return;
      }
      handle(reinterpret_cast<const char*>(bytes.data()), *n, out);
      emit(out);
    }
  }

  LocalFs& fs_;
  transport::Stream ino_;
  const ChangeSink sink_;
  const std::size_t max_;
  std::mutex mu_;  // watches_, lru_, root_wd_, followed_
  std::unordered_map<int, Watch> watches_;
  std::unordered_map<std::uint64_t, int> by_qid_;  // watches_ by their directory's qid path
  std::list<int> lru_;  // most recently used first; the root is never in it
  int root_wd_ = -1;
  std::unordered_set<int> followed_;  // moved with a rename seen whole: its IN_MOVE_SELF is no news
  std::thread thread_;
};

void LocalFs::WatcherDelete::operator()(Watcher* w) const {
  delete w;
}

Result<void> LocalFs::start_watching(ChangeSink sink, std::size_t max_watches) {
  UniqueFd ino(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!ino) return fail_errno("inotify_init1");
  std::unique_ptr<Watcher, WatcherDelete> w(
      new Watcher(*this, std::move(ino), std::move(sink), max_watches));
  std::vector<p9::Event> none;
  if (auto r = w->add(root_.get(), none); !r) return r;
  w->start();
  std::unique_lock lk(watcher_mu_);
  watcher_ = std::move(w);
  return {};
}

void LocalFs::stop_watching() {
  std::unique_ptr<Watcher, WatcherDelete> w;
  {
    std::unique_lock lk(watcher_mu_);
    w = std::move(watcher_);
  }
  // Destroyed (its thread joined) outside the lock: the thread may be delivering.
}

void LocalFs::watch(Node& node) {
  std::shared_lock lk(watcher_mu_);
  if (!watcher_) return;
  LocalNode& n = as_local(node);
  if (!n.is_dir() || watcher_->refresh(n.qid.path)) return;
  std::vector<p9::Event> dropped;
  (void)watcher_->add(n.path.get(), dropped);
  watcher_->emit(dropped);
}

std::size_t LocalFs::watch_count() {
  std::shared_lock lk(watcher_mu_);
  return watcher_ ? watcher_->count() : 0;
}

}  // namespace ninep::server::localfs
