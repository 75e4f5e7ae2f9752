// A test fixture with a client session attached to a FakeTree (the tree is filled in before
// connect()).
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "client/session.h"
#include "fake_tree.h"

namespace ninep::testing {

class FakeTreeTest : public ::testing::Test {
 protected:
  void TearDown() override { stop(); }

  // Starts answering from `tree` and attaches.
  void connect() {
    tree.serve(fake_);
    auto s = client::Session::start(fake_.client_end());
    ASSERT_TRUE(s) << s.error().to_string();
    session_ = *s;
    auto r = session_->attach("user", "/", 0);
    ASSERT_TRUE(r) << r.error().to_string();
    root = std::move(*r);
  }
  // Ends the session and the serving thread: `tree` may be inspected afterwards.
  void stop() {
    root = client::Fid();
    if (session_) session_->shutdown();
    session_.reset();
    tree.join();
  }

  FakeTree tree;
  client::Fid root;

 private:
  FakeServer fake_;
  std::shared_ptr<client::Session> session_;
};

}  // namespace ninep::testing
