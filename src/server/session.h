// The per-connection state that request handlers work on.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "server/budget.h"
#include "server/config.h"
#include "server/events.h"
#include "server/fid_table.h"
#include "server/log.h"

namespace ninep::server {

struct Session {
  Session(const ServerConfig& c, const std::vector<Export>& e, const Log& l, std::uint64_t id,
          Budget& budget)
      : cfg(c),
        exports(e),
        log(l),
        conn_id(id),
        any_policy(
            std::any_of(e.begin(), e.end(), [](const Export& x) { return x.policy != nullptr; })),
        account(budget),
        fids(c.max_fids, &account) {}

  const ServerConfig& cfg;
  const std::vector<Export>& exports;
  const Log& log;
  const std::uint64_t conn_id;
  // Some export has a request policy (else no request is judged, and fids keep no paths).
  const bool any_policy;
  // Wakes this connection's reads waiting for change events (set by the connection).
  std::shared_ptr<EventWaker> waker;
  Budget::Account account;  // before fids: clunking them gives back to it
  FidTable fids;
  // Negotiated by Tversion; 0 before it. Every reply is smaller than this.
  std::atomic<std::uint32_t> msize{0};
  // Running out of descriptors has been logged (once per connection).
  std::atomic<bool> told_out_of_fds{false};
};

}  // namespace ninep::server
