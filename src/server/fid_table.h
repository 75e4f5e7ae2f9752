// The fids of one connection: fid number -> Fid, with a pool of recycled Fid objects so walking
// and clunking do not allocate once the connection is warm.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/error.h"
#include "server/budget.h"
#include "server/fid.h"

namespace ninep::server {

class FidTable {
 public:
  // Fids (and what charge() adds to them) are drawn from `account` when there is one.
  explicit FidTable(std::uint32_t max_fids, Budget::Account* account = nullptr);
  ~FidTable();
  FidTable(const FidTable&) = delete;
  FidTable& operator=(const FidTable&) = delete;

  // A fresh, unregistered Fid (one reference, the caller's).
  FidRef make();
  // Registers `f` under `id`. EBADF when `id` is in use (or is NOFID), EMFILE at the limit,
  // ENFILE when the connection holds its share of the server's descriptors.
  Result<void> insert(std::uint32_t id, const FidRef& f);
  // Adds `n` of `kind` to what `f` holds, until it is recycled; `error` when over the share.
  Result<void> charge(Fid& f, Budget::Kind kind, std::uint64_t n, int error);
  // The fid registered under `id`, or an empty reference.
  FidRef get(std::uint32_t id);
  // Unregisters `id` and hands over the table's reference (empty when absent).
  FidRef take(std::uint32_t id);
  // Unregisters every fid (Tversion, end of connection).
  void clear();
  std::size_t size() const;

 private:
  friend class FidRef;
  void recycle(Fid* f);

  // Open addressing with linear probing; slots hold Fid pointers, nullptr = empty.
  std::size_t find_slot(std::uint32_t id) const;
  void grow();
  void erase_slot(std::size_t slot);

  const std::uint32_t max_fids_;
  Budget::Account* const account_;
  mutable std::mutex mu_;
  std::vector<Fid*> slots_;
  std::size_t count_ = 0;
  std::vector<std::unique_ptr<Fid>> owned_;  // every Fid ever made, for destruction
  std::vector<Fid*> free_;
};

}  // namespace ninep::server
