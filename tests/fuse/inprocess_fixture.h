// A FuseMount run in this process over a server of ours (or diod), for tests that look at the
// mount's own state (MountStats): the fid-lifetime tests and the cache=auto tests.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "fuse/fuse_mount.h"
#include "harness.h"
#include "transport/address.h"

namespace ninep::testing {

class InProcessMountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0)
      GTEST_SKIP() << "needs root and /dev/fuse";
    ServerKind kind = server_kind();
    if (kind == ServerKind::Ours && !ninep_can_serve())
      GTEST_SKIP() << "`ninep serve` is not available in this build";
    if (kind == ServerKind::Diod && find_program("diod").empty())
      GTEST_SKIP() << "diod is not installed";
    auto t = TempDir::create("ninep-fuse-inproc-");
    ASSERT_TRUE(t);
    tmp_ = std::move(*t);
    export_ = tmp_ / "export";
    mnt_ = tmp_ / "mnt";
    ASSERT_EQ(::mkdir(export_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(mnt_.c_str(), 0755), 0);
    prepare();
    auto s = ExportServer::start(kind, export_, export_options());
    ASSERT_TRUE(s) << s.error().to_string();
    server_ = std::move(*s);
    fuse::MountOptions o;
    auto addr = transport::parse_address(server_->address());
    ASSERT_TRUE(addr);
    o.address = *addr;
    o.aname = server_->aname();
    o.n_uname = 0;
    adjust(o);
    auto m = fuse::FuseMount::create(o, mnt_);
    ASSERT_TRUE(m) << m.error().to_string();
    mount_ = std::move(*m);
    ended_ = ended_promise_.get_future();
    loop_ = std::thread([this] {
      auto r = mount_->run({}, false);
      ended_promise_.set_value(r ? 0 : r.error().code);
    });
    struct stat st;
    ASSERT_EQ(::stat(mnt_.c_str(), &st), 0);
  }
  void TearDown() override {
    if (mount_) {
      mount_->stop();
      if (loop_.joinable()) loop_.join();
      EXPECT_FALSE(is_fuse_mounted(mnt_));
      mount_.reset();
    }
    server_.reset();
  }

  virtual void adjust(fuse::MountOptions&) {}
  virtual ExportOptions export_options() { return {}; }
  // Ours when it is built, else diod.
  virtual ServerKind server_kind() {
    return ninep_can_serve() ? ServerKind::Ours : ServerKind::Diod;
  }
  // Runs once the export directory exists, before the server starts.
  virtual void prepare() {}

  // Waits until no request is in flight (asynchronous clunks included) and the kernel's
  // asynchronous FORGETs and RELEASEs have arrived (every fid accounted for), for at most a
  // second, and returns the stats. A leak still shows: it never settles.
  fuse::MountStats settled() {
    fuse::MountStats s = mount_->stats();
    auto busy = [](const fuse::MountStats& st) {
      return st.tags_in_use != 0 || st.fids_in_use != st.inodes + st.open_files;
    };
    for (int i = 0; i < 500 && busy(s); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      s = mount_->stats();
    }
    return s;
  }

  TempDir tmp_;
  std::string export_, mnt_;
  std::unique_ptr<ExportServer> server_;
  std::unique_ptr<fuse::FuseMount> mount_;
  std::promise<int> ended_promise_;
  std::future<int> ended_;  // run()'s result: 0 or its error's errno
  std::thread loop_;
};

using FidsTest = InProcessMountTest;

}  // namespace ninep::testing
