// The requests of one connection that were admitted and are not answered yet, found by tag, and
// the pool their Request objects are recycled through (so steady traffic does not allocate).
// Not locked itself: the connection's mutex guards it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "server/request.h"

namespace ninep::server {

class InFlightTable {
 public:
  // `keep_big`: how many recycled requests may keep a frame buffer above 64 KiB.
  explicit InFlightTable(std::size_t keep_big);

  // A clean request from the pool, not in the table.
  Request* acquire();
  // Back to the pool (after remove() when it was added); the caller has given back its budget.
  void release(Request* r);

  enum class Added : std::uint8_t { Ok, TagInUse, Full };
  // Adds `r` under its tag unless the tag is in flight or `max` requests already are.
  Added add(Request* r, std::uint32_t max);
  void remove(Request* r);
  Request* find(std::uint16_t tag) const;
  std::uint32_t size() const { return count_; }

  template <typename F>
  void for_each(F f) const {
    for (Request* r = head_; r != nullptr; r = r->next) f(r);
  }

 private:
  bool tag_in_use(std::uint16_t tag) const;

  const std::size_t keep_big_;
  std::vector<std::uint64_t> tags_;  // bitmap of the 65536 tags
  Request* head_ = nullptr;          // doubly linked through prev/next
  std::uint32_t count_ = 0;
  std::vector<std::unique_ptr<Request>> requests_;
  std::vector<Request*> free_;
};

}  // namespace ninep::server
