// FuseMount: connecting, mounting through libfuse, serving with a multi-threaded loop, and
// unmounting cleanly on request or signal.
#include "fuse/fuse_mount.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>

#include "common/stop_on_signals.h"
#include "fuse/connection.h"
#include "fuse/filesystem.h"
#include "fuse/mount_table.h"
#include "fuse/request_loop.h"

namespace ninep::fuse {

struct FuseMount::Session {
  std::unique_ptr<Connection> conn;
  fuse_session* se = nullptr;
  bool mounted = false;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  bool loop_running = false;
  bool loop_done = false;
  RequestLoop* loop = nullptr;  // while run() serves
  std::chrono::nanoseconds poll_max{};
};

Result<CacheMode> parse_cache_mode(std::string_view text) {
  if (text == "none") return CacheMode::None;
  if (text == "loose") return CacheMode::Loose;
  if (text == "mmap") return CacheMode::Mmap;
  if (text == "auto") return CacheMode::Auto;
  return fail(EINVAL, "cache mode '" + std::string(text) + "' is not none, loose, mmap or auto");
}

namespace {

// The options every mount starts with (the caller's -o come after them, so they can override):
// like a kernel 9p mount made by `ninep mount`, set-user-id bits and device files on the export
// take no effect in the guest unless asked for with -o suid / -o dev.
std::string base_mount_options(const std::string& fsname) {
  std::string base = "fsname=" + fsname + ",subtype=ninep,default_permissions,nosuid,nodev";
  if (::geteuid() == 0) base += ",allow_other";  // like a kernel 9p mount: every user sees it
  return base;
}

// Runs fusermount3 (the unprivileged way to unmount FUSE); true on success.
bool fusermount_unmount(const std::string& dir, bool lazy) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (lazy)
      ::execlp("fusermount3", "fusermount3", "-u", "-q", "-z", "--", dir.c_str(), nullptr);
    else
      ::execlp("fusermount3", "fusermount3", "-u", "-q", "--", dir.c_str(), nullptr);
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) < 0) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Aborts the FUSE connection of the mount on `dir` through fusectl, so that a loop whose mount
// was only lazily detached (still busy) ends now.
void abort_connection(const std::string& dir, const std::string& device) {
  std::string dev = device;
  if (dev.empty()) {
    auto m = find_mount(dir);
    if (!m || !*m) return;
    dev = (*m)->device;
  }
  unsigned major = 0, minor = 0;
  if (std::sscanf(dev.c_str(), "%u:%u", &major, &minor) != 2) return;
  std::string path = "/sys/fs/fuse/connections/" + std::to_string((major << 20) | minor) + "/abort";
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::write(fd, "1", 1);
  ::close(fd);
}

}  // namespace

Result<std::unique_ptr<FuseMount>> FuseMount::create(const MountOptions& opts,
                                                     const std::string& dir) {
  std::unique_ptr<FuseMount> m(new FuseMount);
  m->dir_ = dir;
  m->max_threads_ = std::max(2u, opts.max_threads);
  m->session_ = std::make_unique<Session>();
  m->session_->poll_max = opts.poll_max;

  ConnectionOptions co;
  co.address = opts.address;
  co.session.msize = opts.msize;
  co.session.poll_max = opts.poll_max;
  if (opts.n_uname == 0xFFFFFFFF) {
    co.uid = ::geteuid();
    co.per_uid = co.uid == 0;
  } else {
    co.uid = opts.n_uname;
    co.uname = opts.uname;
  }
  co.aname = opts.aname;
  co.reconnect = opts.reconnect && opts.address.kind != transport::Address::Kind::Fd;
  auto conn = Connection::open(co);
  if (!conn) return std::unexpected(conn.error());
  m->session_->conn = std::move(*conn);
  m->fs_ = std::make_unique<FileSystem>(
      *m->session_->conn,
      FileSystemOptions{opts.cache, opts.fallback, opts.loose_timeout, opts.max_fids});

  std::string fsname = opts.address.to_string();
  std::replace(fsname.begin(), fsname.end(), ',', '_');
  std::vector<std::string> argv_s = {"ninep", "-o", base_mount_options(fsname)};
  for (const auto& o : opts.fuse_options) {
    argv_s.push_back("-o");
    argv_s.push_back(o);
  }
  if (opts.debug) argv_s.push_back("-d");
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv_s.size()), argv.data());
  const auto& ops = FileSystem::operations();
  fuse_session* se = fuse_session_new(&args, &ops, sizeof ops, m->fs_.get());
  fuse_opt_free_args(&args);
  if (!se) return fail(EINVAL, "invalid FUSE mount options");
  m->session_->se = se;
  m->fs_->set_session(se);
  if (fuse_session_mount(se, dir.c_str()) != 0) return fail(EIO, dir + ": FUSE mount failed");
  m->session_->mounted = true;
  if (auto mt = find_mount(dir); mt && *mt && is_fuse_type((*mt)->fstype))
    m->device_ = (*mt)->device;
  return m;
}

FuseMount::~FuseMount() {
  if (fs_) fs_->stop_following([this] { abort_connection(dir_, device_); });
  if (session_ && session_->se) {
    if (session_->mounted) fuse_session_unmount(session_->se);
    fuse_session_destroy(session_->se);
    session_->se = nullptr;
  }
  if (session_ && session_->conn) session_->conn->shutdown();
  fs_.reset();
  session_.reset();
}

Result<void> FuseMount::run(std::function<void()> ready, bool handle_signals) {
  Session& s = *session_;
  fs_->set_ready_callback(std::move(ready));

  // Signals are taken by a watcher thread (signalfd) that unmounts; every other thread of the
  // mount, including the request loop's workers created below, inherits the blocked mask.
  std::optional<StopOnSignals> on_signals;
  if (handle_signals) on_signals.emplace({SIGINT, SIGTERM, SIGHUP}, [this] { stop(); });
  RequestLoop loop(s.se, max_threads_, s.poll_max);
  {
    std::lock_guard lk(s.mu);
    s.loop_running = true;
    s.loop = &loop;
  }
  int rc = loop.run();
  // It invalidates through the session.
  fs_->stop_following([this] { abort_connection(dir_, device_); });
  {
    std::lock_guard lk(s.mu);
    s.loop_done = true;
    s.loop = nullptr;
  }
  s.cv.notify_all();
  on_signals.reset();
  bool still_mounted;
  {
    std::lock_guard lk(s.mu);
    still_mounted = std::exchange(s.mounted, false);
  }
  // Only when nobody unmounted it: the path could be another mount by now.
  if (still_mounted) fuse_session_unmount(s.se);
  s.conn->shutdown();
  if (rc < 0) return fail(-rc, "FUSE session failed");
  return {};
}

void FuseMount::stop() {
  Session& s = *session_;
  if (s.stopping.exchange(true)) return;
  fuse_session_exit(s.se);
  // Unmounting ends the loop (its reads of /dev/fuse fail with ENODEV). A busy mount is detached
  // lazily: processes that still use it get ENOTCONN once the loop has ended and the device is
  // closed.
  bool root = ::geteuid() == 0;
  bool done = root ? ::umount2(dir_.c_str(), 0) == 0 : fusermount_unmount(dir_, false);
  if (!done)
    done = root ? ::umount2(dir_.c_str(), MNT_DETACH) == 0 : fusermount_unmount(dir_, true);
  std::unique_lock lk(s.mu);
  if (done) s.mounted = false;
  if (!s.loop_running) return;
  // A lazily detached mount keeps the workers waiting for requests: wake them all.
  if (s.loop) s.loop->exit();
  // Workers busy with a request end once they have replied. If one has not within 5 s (a request
  // stuck on the server), the connection is aborted: processes using the mount get ENOTCONN.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  if (!s.cv.wait_until(lk, deadline, [&] { return s.loop_done; })) {
    lk.unlock();
    abort_connection(dir_, device_);
  }
}

MountStats FuseMount::stats() const {
  MountStats st;
  auto cs = session_->conn->stats();
  st.fids_in_use = cs.fids_in_use;
  st.tags_in_use = cs.tags_in_use;
  st.inode_fids = static_cast<std::uint32_t>(fs_->inode_fids());
  st.users = static_cast<std::uint32_t>(session_->conn->attached_users());
  st.inodes = fs_->inodes();
  st.open_files = fs_->open_handles();
  st.reconnects = session_->conn->reconnects();
  st.following_events = fs_->following_events();
  st.events = fs_->events_applied();
  return st;
}

CacheMode FuseMount::cache_mode() const {
  return fs_->cache_mode();
}

Error FuseMount::events_error() const {
  return fs_->events_error();
}

}  // namespace ninep::fuse
