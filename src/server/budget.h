// The server-wide budget of what clients make the server hold: bytes (request frames in flight,
// and the read buffer a large frame still arriving makes grow; extended-attribute values,
// directory buffers) and descriptors (fids). Every connection draws
// from it through its own Account.
//
// Fairness: the last quarter of the limit is kept for connections that hold less than an equal
// share (limit / (connections + 1)). A lone connection may use three quarters of everything;
// however greedy the connections already served are, a newcomer finds room; and the total never
// passes the limit. A connection refused is told ENFILE (fids) or ENOBUFS (buffers), and a reader
// whose connection holds more than it may stops reading requests until its own replies free frames
// (backpressure), as does a reader whose buffer would have to grow past its share for a frame
// still arriving, while the others go on.
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

    // Takes `n` if allowed (see above).
    bool take(Kind k, std::uint64_t n);
    // Takes `n` whatever the rules (what was already received must be held somewhere); take()
    // then refuses until enough is given back.
    void force(Kind k, std::uint64_t n);
    void give(Kind k, std::uint64_t n);
    // Holds more than it could take now: its reader should wait (backpressure).
    bool over_share(Kind k) const;
    std::uint64_t held(Kind k) const;

   private:
    Budget& b_;
    std::array<std::uint64_t, 2> held_{};
  };

 private:
  // Whether an account holding `held` may take `n` more.
  bool allowed_locked(Kind k, std::uint64_t held, std::uint64_t n) const;

  const std::array<std::uint64_t, 2> limit_;
  mutable std::mutex mu_;
  std::array<std::uint64_t, 2> total_{};
  std::uint64_t accounts_ = 0;
};

}  // namespace ninep::server
