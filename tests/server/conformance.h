// The conformance suite: the same tests against our server and against diod (the reference
// nobody here wrote). Where diod behaves differently the test says so with DIOD_DIFFERS and the
// reason (a diod bug or limitation our server fixes); every other difference is a failure.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "client/session.h"
#include "harness.h"

namespace ninep::servertest {

class Conformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "diod" && !testing::DiodServer::available())
      GTEST_SKIP() << "diod is not installed";
    target_ = make_target(GetParam());
    std::tie(session_, root_) = target_->attach();
    ASSERT_TRUE(root_);
  }
  void TearDown() override {
    root_ = client::Fid();
    session_.reset();
    target_.reset();
  }

  bool diod() const { return target_->is_diod(); }
  std::string host(const std::string& rel) const { return target_->host(rel); }

  // Sends a raw request on the fixture's session and returns the reply's errno (0 = success).
  template <typename Reply, typename Req>
  int raw(const Req& req, Reply* out = nullptr) {
    auto r = session_->call(p9::Message(req), [&](const p9::Message& m) -> Result<void> {
      if (out != nullptr) {
        if (auto* rep = std::get_if<Reply>(&m)) *out = *rep;
      }
      return {};
    });
    return r ? 0 : r.error().code;
  }

  std::unique_ptr<Target> target_;
  std::shared_ptr<client::Session> session_;
  client::Fid root_;
};

// diod behaves differently and the difference is a known diod bug or limitation (the reason says
// which); the rest of the test does not apply to diod.
#define DIOD_DIFFERS(reason)                                \
  do {                                                      \
    if (diod()) GTEST_SKIP() << "diod differs: " << reason; \
  } while (0)

// Same, only when the observed behaviour is diod's different one (so the claim is checked).
#define DIOD_DIFFERS_IF(observed, reason)                                 \
  do {                                                                    \
    if (diod() && (observed)) GTEST_SKIP() << "diod differs: " << reason; \
  } while (0)

}  // namespace ninep::servertest
