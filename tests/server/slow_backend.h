// A Backend that makes Tfsync slow: a request that keeps a worker busy, for tests of
// concurrency, flush ordering and limits.
#pragma once

#include <chrono>
#include <thread>

#include "server/forwarding_backend.h"

namespace ninep::servertest {

class SlowFsyncBackend final : public server::ForwardingBackend {
 public:
  SlowFsyncBackend(std::unique_ptr<server::Backend> inner, std::chrono::milliseconds delay)
      : ForwardingBackend(std::move(inner)), delay_(delay) {}

  Result<void> fsync(server::Node& n, bool datasync) override {
    std::this_thread::sleep_for(delay_);
    return inner().fsync(n, datasync);
  }

 private:
  std::chrono::milliseconds delay_;
};

}  // namespace ninep::servertest
