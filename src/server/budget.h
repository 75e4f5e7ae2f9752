// The server-wide budget of what clients make the server hold: bytes (request frames in flight,
// extended-attribute values, directory buffers) and descriptors (fids). Every connection draws
// from it through its own Account.
//
// Fairness: an account may hold at most an equal share counted with one connection more than
// there are (limit / (accounts + 1)), so however greedy the connections already served are, a
// newcomer always finds room; and the total never passes the limit. A connection over its share
// is refused new fids and buffers (ENFILE / ENOBUFS) and its reader stops reading requests until
// its own replies free frames (backpressure), while the others go on.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>

namespace ninep::server {

class Budget {
 public:
  enum Kind { kBytes = 0, kDescriptors = 1 };

  Budget(std::uint64_t max_bytes, std::uint64_t max_descriptors);
  Budget(const Budget&) = delete;
  Budget& operator=(const Budget&) = delete;

  std::uint64_t limit(Kind k) const { return limit_[k]; }
  std::uint64_t total(Kind k) const;

  class Account {
   public:
    explicit Account(Budget& b);
    ~Account();  // gives back whatever is still held
    Account(const Account&) = delete;
    Account& operator=(const Account&) = delete;

    // Takes `n` if this account stays within its share and the total within the limit.
    bool take(Kind k, std::uint64_t n);
    // Takes `n` whatever the share (what was already received must be held somewhere); the
    // account is then over its share and take() refuses until it gives back.
    void force(Kind k, std::uint64_t n);
    void give(Kind k, std::uint64_t n);
    bool over_share(Kind k) const;
    std::uint64_t held(Kind k) const;

   private:
    Budget& b_;
    std::array<std::uint64_t, 2> held_{};
  };

 private:
  std::uint64_t share_locked(Kind k) const { return limit_[k] / (accounts_ + 1); }

  const std::array<std::uint64_t, 2> limit_;
  mutable std::mutex mu_;
  std::array<std::uint64_t, 2> total_{};
  std::uint64_t accounts_ = 0;
};

}  // namespace ninep::server
