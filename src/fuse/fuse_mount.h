// Mounting a 9P2000.L export through FUSE (libfuse3 low-level API) on top of the client library.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "transport/address.h"
#include "transport/poll_window.h"

namespace ninep::fuse {

enum class CacheMode {
  None,   // attr/entry timeouts 0, page cache dropped at open: host changes visible at once
  Loose,  // attr/entry timeouts > 0, page cache kept while the file's qid.version is unchanged
  Mmap,   // accepted for symmetry with v9fs; behaves like None (FUSE supports shared mmap anyway)
  // Follows the server's change events (docs/events.md): entries, attributes, pages and listings
  // cached for long, each change invalidating exactly what it touched. Against a server without
  // events: MountOptions::fallback.
  Auto,
};

// "none" / "loose" / "mmap" / "auto" (EINVAL otherwise).
Result<CacheMode> parse_cache_mode(std::string_view text);

struct MountOptions {
  transport::Address address;  // dialed at start (and again on reconnect)
  std::string aname;
  // Who requests run as on the server. A uid (n_uname): every request runs as that one user,
  // whoever makes it. ~0 (the default): each guest user that makes requests is attached on its
  // first one and its requests run as itself (like v9fs's access=user), when this process runs
  // as root; otherwise every request runs as this process's effective uid (an unprivileged mount
  // serves only its owner anyway).
  std::uint32_t n_uname = 0xFFFFFFFF;
  std::string uname;  // Tattach uname of a single identity; empty: its user name, or the number
  std::uint32_t msize = 1024 * 1024;  // requested; the server may lower it
  CacheMode cache = CacheMode::None;
  CacheMode fallback = CacheMode::Loose;  // Auto against a server that offers no change events
  double loose_timeout = 1.0;             // attr/entry timeout (seconds) in loose mode
  // -o values for libfuse (allow_other, ro, ...). The mount is nosuid,nodev unless they say
  // suid or dev.
  std::vector<std::string> fuse_options;
  bool reconnect = false;     // re-dial and re-attach when the connection is lost
  unsigned max_threads = 32;  // FUSE worker threads (requests in flight)
  // How long a wait (for a request from the kernel, for a reply from the server) polls before it
  // sleeps, at most (adaptive: transport/poll_window.h). Zero: never poll.
  std::chrono::microseconds poll_max = transport::PollWindow::kDefaultMax;
  // Fids kept for inodes the kernel caches (the server holds a descriptor for each); beyond,
  // the least recently used are clunked and walked again by path when needed. 0: no limit.
  std::size_t max_fids = 8192;
  bool debug = false;  // libfuse debug output
};

struct MountStats {
  std::uint32_t fids_in_use = 0;  // fids held on the current connection (and the event stream's)
  std::uint32_t inode_fids = 0;   // of which walked fids kept for inodes (see max_fids)
  std::uint32_t users = 0;        // users attached on the current connection
  std::uint32_t tags_in_use = 0;
  std::uint64_t inodes = 0;  // inodes the kernel holds references to (incl. the root)
  std::uint64_t open_files = 0;
  std::uint64_t reconnects = 0;
  bool following_events = false;  // cache=auto, subscribed to the server's change events
  std::uint64_t events = 0;       // change-event records applied (invalidations made)
};

class FileSystem;

// One mounted export. create() connects (dial, Tversion, Tattach) and mounts; run() serves.
class FuseMount {
 public:
  // Errors are one line naming what failed: the address (unreachable, version or attach refused)
  // or the directory (mount refused).
  static Result<std::unique_ptr<FuseMount>> create(const MountOptions& opts,
                                                   const std::string& dir);
  ~FuseMount();  // unmounts if still mounted

  // Serves kernel requests until the file system is unmounted or stop() is called. `ready` runs
  // once, after the kernel's INIT request has been answered (the mount is usable).
  // When `handle_signals` is set, SIGINT/SIGTERM/SIGHUP stop the loop and unmount cleanly.
  Result<void> run(std::function<void()> ready = {}, bool handle_signals = true);

  // Ends run() and unmounts (lazily if busy). Safe from any thread (not from a signal handler).
  void stop();

  MountStats stats() const;
  // The cache mode in effect (Auto falls back when the server offers no events: why, then).
  CacheMode cache_mode() const;
  Error events_error() const;
  const std::string& dir() const { return dir_; }

 private:
  FuseMount() = default;
  struct Session;
  std::string dir_;
  std::string device_;  // the FUSE connection's "major:minor", once mounted (to abort it)
  unsigned max_threads_ = 32;
  std::unique_ptr<FileSystem> fs_;
  std::unique_ptr<Session> session_;
};

}  // namespace ninep::fuse
