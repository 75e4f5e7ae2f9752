// A Backend that hands every operation to another one: the base for decorators that change a
// few operations (a policy, a fault injector in tests, a fuzzing guard) and keep the rest.
#pragma once

#include <memory>

#include "server/backend.h"

namespace ninep::server {

class ForwardingBackend : public Backend {
 public:
  explicit ForwardingBackend(std::unique_ptr<Backend> inner) : in_(std::move(inner)) {}

  Result<NodePtr> attach() override { return in_->attach(); }
  Result<NodePtr> clone(Node& f) override { return in_->clone(f); }
  Result<NodePtr> walk(Node& f, std::string_view n) override { return in_->walk(f, n); }
  Result<void> check_inside(Node& n) override { return in_->check_inside(n); }
  Result<void> getattr(Node& n, std::uint64_t m, p9::Rgetattr& o) override {
    return in_->getattr(n, m, o);
  }
  Result<void> setattr(Node& n, const p9::Tsetattr& r) override { return in_->setattr(n, r); }
  Result<void> statfs(Node& n, p9::Rstatfs& o) override { return in_->statfs(n, o); }
  Result<p9::Qid> open(Node& n, std::uint32_t f) override { return in_->open(n, f); }
  Result<p9::Qid> create(Node& d, std::string_view n, std::uint32_t f, std::uint32_t m,
                         std::uint32_t g) override {
    return in_->create(d, n, f, m, g);
  }
  Result<p9::Qid> mkdir(Node& d, std::string_view n, std::uint32_t m, std::uint32_t g) override {
    return in_->mkdir(d, n, m, g);
  }
  Result<p9::Qid> symlink(Node& d, std::string_view n, std::string_view t,
                          std::uint32_t g) override {
    return in_->symlink(d, n, t, g);
  }
  Result<p9::Qid> mknod(Node& d, std::string_view n, std::uint32_t m, std::uint32_t ma,
                        std::uint32_t mi, std::uint32_t g) override {
    return in_->mknod(d, n, m, ma, mi, g);
  }
  Result<void> link(Node& d, Node& t, std::string_view n) override { return in_->link(d, t, n); }
  Result<void> rename(Node& n, Node& d, std::string_view nn) override {
    return in_->rename(n, d, nn);
  }
  Result<void> renameat(Node& od, std::string_view on, Node& nd, std::string_view nn) override {
    return in_->renameat(od, on, nd, nn);
  }
  Result<void> unlinkat(Node& d, std::string_view n, std::uint32_t f) override {
    return in_->unlinkat(d, n, f);
  }
  Result<void> remove(Node& n) override { return in_->remove(n); }
  Result<std::size_t> readlink(Node& n, std::span<char> o) override { return in_->readlink(n, o); }
  Result<std::size_t> read(Node& n, std::uint64_t off, std::span<std::uint8_t> o) override {
    return in_->read(n, off, o);
  }
  Result<std::size_t> write(Node& n, std::uint64_t off, p9::Bytes d) override {
    return in_->write(n, off, d);
  }
  Result<void> readdir(Node& n, std::uint64_t off, p9::ReaddirBuilder& o) override {
    return in_->readdir(n, off, o);
  }
  Result<void> fsync(Node& n, bool datasync) override { return in_->fsync(n, datasync); }
  Result<std::uint8_t> lock(Node& n, const LockArgs& r) override { return in_->lock(n, r); }
  Result<void> getlock(Node& n, const LockArgs& r, LockHolder& o) override {
    return in_->getlock(n, r, o);
  }
  Result<void> xattr_get(Node& n, std::string_view nm, std::vector<std::uint8_t>& o) override {
    return in_->xattr_get(n, nm, o);
  }
  Result<void> xattr_list(Node& n, std::vector<std::uint8_t>& o) override {
    return in_->xattr_list(n, o);
  }
  Result<void> xattr_set(Node& n, std::string_view nm, p9::Bytes v, std::uint32_t f) override {
    return in_->xattr_set(n, nm, v, f);
  }
  Result<void> xattr_remove(Node& n, std::string_view nm) override {
    return in_->xattr_remove(n, nm);
  }

  Result<void> start_watching(ChangeSink sink, std::size_t max_watches) override {
    return in_->start_watching(std::move(sink), max_watches);
  }
  void stop_watching() override { in_->stop_watching(); }
  void watch(Node& n) override { in_->watch(n); }

 protected:
  Backend& inner() { return *in_; }

 private:
  std::unique_ptr<Backend> in_;
};

}  // namespace ninep::server
