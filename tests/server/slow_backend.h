// A Backend that forwards to another and makes Tfsync slow: a request that keeps a worker busy,
// for tests of concurrency, flush ordering and limits.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "server/backend.h"

namespace ninep::servertest {

class SlowFsyncBackend final : public server::Backend {
 public:
  SlowFsyncBackend(std::unique_ptr<server::Backend> inner, std::chrono::milliseconds delay)
      : in_(std::move(inner)), delay_(delay) {}

  Result<void> fsync(server::Node& n, bool datasync) override {
    std::this_thread::sleep_for(delay_);
    return in_->fsync(n, datasync);
  }

  Result<server::NodePtr> attach() override { return in_->attach(); }
  Result<server::NodePtr> clone(server::Node& f) override { return in_->clone(f); }
  Result<server::NodePtr> walk(server::Node& f, std::string_view n) override {
    return in_->walk(f, n);
  }
  Result<void> check_inside(server::Node& n) override { return in_->check_inside(n); }
  Result<void> getattr(server::Node& n, std::uint64_t m, p9::Rgetattr& o) override {
    return in_->getattr(n, m, o);
  }
  Result<void> setattr(server::Node& n, const p9::Tsetattr& r) override {
    return in_->setattr(n, r);
  }
  Result<void> statfs(server::Node& n, p9::Rstatfs& o) override { return in_->statfs(n, o); }
  Result<p9::Qid> open(server::Node& n, std::uint32_t f) override { return in_->open(n, f); }
  Result<p9::Qid> create(server::Node& d, std::string_view n, std::uint32_t f, std::uint32_t m,
                         std::uint32_t g) override {
    return in_->create(d, n, f, m, g);
  }
  Result<p9::Qid> mkdir(server::Node& d, std::string_view n, std::uint32_t m,
                        std::uint32_t g) override {
    return in_->mkdir(d, n, m, g);
  }
  Result<p9::Qid> symlink(server::Node& d, std::string_view n, std::string_view t,
                          std::uint32_t g) override {
    return in_->symlink(d, n, t, g);
  }
  Result<p9::Qid> mknod(server::Node& d, std::string_view n, std::uint32_t m, std::uint32_t ma,
                        std::uint32_t mi, std::uint32_t g) override {
    return in_->mknod(d, n, m, ma, mi, g);
  }
  Result<void> link(server::Node& d, server::Node& t, std::string_view n) override {
    return in_->link(d, t, n);
  }
  Result<void> rename(server::Node& n, server::Node& d, std::string_view nn) override {
    return in_->rename(n, d, nn);
  }
  Result<void> renameat(server::Node& od, std::string_view on, server::Node& nd,
                        std::string_view nn) override {
    return in_->renameat(od, on, nd, nn);
  }
  Result<void> unlinkat(server::Node& d, std::string_view n, std::uint32_t f) override {
    return in_->unlinkat(d, n, f);
  }
  Result<void> remove(server::Node& n) override { return in_->remove(n); }
  Result<std::size_t> readlink(server::Node& n, std::span<char> o) override {
    return in_->readlink(n, o);
  }
  Result<std::size_t> read(server::Node& n, std::uint64_t off, std::span<std::uint8_t> o) override {
    return in_->read(n, off, o);
  }
  Result<std::size_t> write(server::Node& n, std::uint64_t off, p9::Bytes d) override {
    return in_->write(n, off, d);
  }
  Result<void> readdir(server::Node& n, std::uint64_t off, p9::ReaddirBuilder& o) override {
    return in_->readdir(n, off, o);
  }
  Result<std::uint8_t> lock(server::Node& n, const server::LockArgs& r) override {
    return in_->lock(n, r);
  }
  Result<void> getlock(server::Node& n, const server::LockArgs& r, server::LockHolder& o) override {
    return in_->getlock(n, r, o);
  }
  Result<void> xattr_get(server::Node& n, std::string_view nm,
                         std::vector<std::uint8_t>& o) override {
    return in_->xattr_get(n, nm, o);
  }
  Result<void> xattr_list(server::Node& n, std::vector<std::uint8_t>& o) override {
    return in_->xattr_list(n, o);
  }
  Result<void> xattr_set(server::Node& n, std::string_view nm, p9::Bytes v,
                         std::uint32_t f) override {
    return in_->xattr_set(n, nm, v, f);
  }
  Result<void> xattr_remove(server::Node& n, std::string_view nm) override {
    return in_->xattr_remove(n, nm);
  }

 private:
  std::unique_ptr<server::Backend> in_;
  std::chrono::milliseconds delay_;
};

}  // namespace ninep::servertest
