// Identities: when the server runs as root, each request runs with the attaching user's
// file-system credentials (per worker thread, supplementary groups included), and nothing leaks
// between users served at the same time.
#include <fcntl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "harness.h"

namespace ninep::servertest {
namespace {

class Identity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the server switches users only as root)";
    srv_ = InProcessServer::start();
    ASSERT_EQ(::chmod(srv_->export_dir().c_str(), 0777), 0);
  }
  std::pair<std::shared_ptr<client::Session>, client::Fid> as_user(std::uint32_t uid) {
    auto s = srv_->connect();
    EXPECT_TRUE(s);
    auto r = (*s)->attach(std::to_string(uid), "", uid);
    EXPECT_TRUE(r) << r.error().to_string();
    return {*s, r ? std::move(*r) : client::Fid()};
  }
  std::string in(const std::string& rel) const { return srv_->export_dir() + "/" + rel; }
  std::unique_ptr<InProcessServer> srv_;
};

// Unknown to the host's user database: gid = uid, no supplementary groups.
constexpr std::uint32_t kUserA = 43210, kUserB = 43211;

TEST_F(Identity, FilesAreCreatedAsTheAttachingUser) {
  auto [s, root] = as_user(kUserA);
  auto c = root.clone();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->lcreate("mine", p9::kORdwr, 0644, kUserA));
  ASSERT_TRUE(root.mkdir("dir", 0755, kUserA));
  struct stat st = lstat_of(in("mine"));
  EXPECT_EQ(st.st_uid, kUserA);
  EXPECT_EQ(st.st_gid, kUserA);
  EXPECT_EQ(lstat_of(in("dir")).st_uid, kUserA);
}

TEST_F(Identity, PermissionsAreTheUsersNotTheServers) {
  write_file(in("root-only"), "secret");
  ASSERT_EQ(::chmod(in("root-only").c_str(), 0600), 0);
  write_file(in("group-root"), "secret");
  ASSERT_EQ(::chmod(in("group-root").c_str(), 0060), 0);
  auto [s, root] = as_user(kUserA);
  for (const char* name : {"root-only", "group-root"}) {
    auto f = root.walk({name});
    ASSERT_TRUE(f);
    auto o = f->lopen(p9::kORdonly);
    ASSERT_FALSE(o) << name << " opened by a user without permission";
    EXPECT_EQ(o.error().code, EACCES);
  }
  auto f = root.walk({"root-only"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrUid;
  sa.uid = kUserA;
  auto r = f->setattr(sa);
  ASSERT_FALSE(r) << "a user cannot chown root's file";
  EXPECT_EQ(r.error().code, EPERM);
  auto mine = root.clone();
  ASSERT_TRUE(mine);
  ASSERT_TRUE(mine->lcreate("mine", p9::kORdwr, 0644, kUserA));
  auto m = root.walk({"mine"});
  ASSERT_TRUE(m);
  sa.uid = 0;
  auto give = m->setattr(sa);
  ASSERT_FALSE(give) << "chown to another user needs privilege";
  EXPECT_EQ(give.error().code, EPERM);
}

TEST_F(Identity, RootAttachIsRoot) {
  write_file(in("root-only"), "secret");
  ASSERT_EQ(::chmod(in("root-only").c_str(), 0600), 0);
  auto [s, root] = as_user(0);
  auto f = root.walk({"root-only"});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->lopen(p9::kORdonly));
}

TEST_F(Identity, ConcurrentUsersNeverSeeEachOthersCredentials) {
  auto [sa, ra] = as_user(kUserA);
  auto [sb, rb] = as_user(kUserB);
  std::vector<gid_t> groups_before(64);
  groups_before.resize(::getgroups(64, groups_before.data()));
  constexpr int kThreads = 8, kFiles = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const client::Fid& root = t % 2 ? rb : ra;
      for (int i = 0; i < kFiles; ++i) {
        auto c = root.clone();
        ASSERT_TRUE(c);
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(c->lcreate(name, p9::kORdwr, 0644, p9::kNoUid)) << name;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kFiles; ++i) {
      struct stat st = lstat_of(in("t" + std::to_string(t) + "-" + std::to_string(i)));
      const std::uint32_t want = t % 2 ? kUserB : kUserA;
      EXPECT_EQ(st.st_uid, want);
      EXPECT_EQ(st.st_gid, want);
    }
  }
  // Switching is per thread: this process's own credentials never changed.
  std::vector<gid_t> groups_after(64);
  groups_after.resize(::getgroups(64, groups_after.data()));
  EXPECT_EQ(groups_after, groups_before);
  EXPECT_EQ(::setfsuid(static_cast<uid_t>(-1)), 0);
}

}  // namespace
}  // namespace ninep::servertest
