// A test fixture with an export directory served by ours or diod, mounted through FUSE, and a
// local directory to run the same work on for comparison. Always unmounted at the end.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace ninep::testing {

class MountedTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/fuse", R_OK | W_OK) != 0)
      GTEST_SKIP() << "needs root and /dev/fuse";
    if (GetParam() == ServerKind::Ours && !ninep_can_serve())
      GTEST_SKIP() << "`ninep serve` is not available in this build";
    if (GetParam() == ServerKind::Diod && find_program("diod").empty())
      GTEST_SKIP() << "diod is not installed";
    auto t = TempDir::create("ninep-fuse-");
    ASSERT_TRUE(t) << t.error().to_string();
    tmp_ = std::move(*t);
    export_ = tmp_ / "export";
    mnt_ = tmp_ / "mnt";
    local_ = tmp_ / "local";
    for (const auto& d : {export_, mnt_, local_}) ASSERT_EQ(::mkdir(d.c_str(), 0755), 0) << d;
    prepare();
    if (HasFatalFailure()) return;
    auto s = ExportServer::start(GetParam(), export_, export_options());
    ASSERT_TRUE(s) << s.error().to_string();
    server_ = std::move(*s);
    auto m = FuseMountProcess::start(*server_, mnt_, mount_args());
    ASSERT_TRUE(m) << m.error().to_string() << "\nserver log: " << server_->log();
    mount_ = std::move(*m);
  }

  void TearDown() override {
    if (mount_) {
      auto r = mount_->unmount();
      EXPECT_TRUE(r) << r.error().to_string();
      mount_.reset();
    }
    server_.reset();
  }

  virtual std::vector<std::string> mount_args() { return {}; }
  virtual ExportOptions export_options() { return {}; }
  // Runs once the directories exist, before the server starts.
  virtual void prepare() {}

  TempDir tmp_;
  std::string export_, mnt_, local_;
  std::unique_ptr<ExportServer> server_;
  std::unique_ptr<FuseMountProcess> mount_;
};

inline std::string ServerKindName(const ::testing::TestParamInfo<ServerKind>& info) {
  return server_name(info.param);
}

}  // namespace ninep::testing
