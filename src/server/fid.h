// One fid of a connection: which export and user it belongs to, the backend node behind it, and
// the extended-attribute transfer state of Txattrwalk/Txattrcreate fids.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/backend.h"
#include "server/config.h"
#include "server/events.h"
#include "server/identity.h"

namespace ninep::server {

class FidTable;

// The value of an attribute being read (Txattrwalk) or written (Txattrcreate, committed at
// Tclunk when exactly `size` bytes arrived).
struct XattrTransfer {
  std::string name;
  std::vector<std::uint8_t> data;
  std::uint64_t size = 0;   // attr_size announced by Txattrcreate
  std::uint32_t flags = 0;  // XATTR_CREATE / XATTR_REPLACE
  std::uint64_t written = 0;
};

class Fid {
 public:
  enum class Kind : std::uint8_t { File, XattrRead, XattrWrite, Events };

  std::uint32_t id = 0;
  const Export* exp = nullptr;
  IdentityPtr who;
  NodePtr node;
  Kind kind = Kind::File;
  bool opened = false;  // by Tlopen / Tlcreate
  std::unique_ptr<XattrTransfer> xattr;
  // Kind::Events: the change-event subscription (`node` is then the export root).
  std::unique_ptr<Subscription> events;
  // What this fid holds of the connection's budget (given back when it is recycled).
  std::array<std::uint64_t, 2> charged{};
  bool listed = false;  // a directory stream was charged for (first Treaddir)
  // Kept only on exports with a request policy (null otherwise): the path by which this fid was
  // reached, relative to the export root ("" for the root, no leading '/'), and its depth. It is
  // the walked path ("a/b/.." is "a"), extended by Twalk and Tlcreate, and changed by a Trename
  // of this fid; other renames (on the host, Trenameat, a Trename of a directory above) leave
  // it as it was: it names the way the client came, not where the file is now. Read and written
  // under `mu` (shared to read; exclusive to change).
  std::shared_ptr<const std::string> path;
  std::uint32_t depth = 0;
  // Which file (or transfer) this fid stands for: a number never given twice in the process,
  // renewed whenever that changes (a new fid, a walk in place, Tlcreate, Txattrcreate; under `mu`
  // held exclusively). A request judged by a policy runs only if its fid still has the
  // generation it was judged with (see RequestContext::still_judged).
  std::uint64_t generation = 0;
  void renew() {
    static std::atomic<std::uint64_t> next{1};
    generation = next.fetch_add(1, std::memory_order_relaxed);
  }
  // Shared by requests that only use the fid; exclusive for those that change what it is
  // (open, create, xattrcreate, walk in place), so no request sees a node being replaced.
  std::shared_mutex mu;

 private:
  friend class FidTable;
  friend class FidRef;
  std::atomic<std::uint32_t> refs_{0};
  FidTable* table_ = nullptr;
};

// A counted reference to a Fid; the Fid goes back to its table's pool when the last one drops.
class FidRef {
 public:
  FidRef() = default;
  explicit FidRef(Fid* f) : f_(f) {}  // adopts one reference
  FidRef(FidRef&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
  FidRef& operator=(FidRef&& o) noexcept {
    if (this != &o) {
      reset();
      f_ = std::exchange(o.f_, nullptr);
    }
    return *this;
  }
  FidRef(const FidRef&) = delete;
  FidRef& operator=(const FidRef&) = delete;
  ~FidRef() { reset(); }

  Fid* get() const { return f_; }
  Fid* operator->() const { return f_; }
  Fid& operator*() const { return *f_; }
  explicit operator bool() const { return f_ != nullptr; }
  void reset();

 private:
  Fid* f_ = nullptr;
};

}  // namespace ninep::server
