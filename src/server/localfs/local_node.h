// The localfs backend's state behind one fid.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/unique_fd.h"
#include "server/backend.h"

namespace ninep::server::localfs {

class LocalFs;
struct LockOwner;

// Where a directory stream stands: entries read by getdents64 and not yet sent are kept, so a
// Treaddir resuming at the cookie of the last entry sent needs no seek.
struct DirStream {
  UniqueFd fd;  // opened lazily when the fid was not opened (Tlopen) itself
  std::vector<std::uint8_t> buf;
  std::size_t pos = 0, len = 0;
  std::uint64_t next_cookie = 0;  // the cookie the buffered entries continue from
  bool eof = false;
};

class LocalNode final : public server::Node {
 public:
  explicit LocalNode(LocalFs* fs) : fs_(fs) {}

  void release() override;

  UniqueFd path;            // O_PATH | O_NOFOLLOW: names the file, never opened for I/O
  std::atomic<int> io{-1};  // after Tlopen/Tlcreate (owned: closed by reset())
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;        // S_IFMT bits
  bool writable = false;  // io was opened for writing
  // The lock owners that locked through this fid (guarded by the LocalFs's owners mutex):
  // clunking it releases their locks, as closing any descriptor of a file releases the closing
  // process's POSIX locks on it.
  std::vector<std::shared_ptr<LockOwner>> lock_owners;

  std::mutex dir_mu;  // Treaddir on one fid is serialised
  DirStream dir;

  // Set by a Twalk step, cleared by check_inside() before the node is given to a fid: the walk
  // knows where below the export root the node is (in a per-thread buffer in localfs.cpp), and
  // its next step is looked up from the root by that path. A fid's file may be renamed at any
  // time, so its path is never kept.
  bool walked_valid = false;

  bool is_dir() const { return type == S_IFDIR; }
  // Closes everything so the node can be reused.
  void reset();

 private:
  LocalFs* fs_;
};

}  // namespace ninep::server::localfs
