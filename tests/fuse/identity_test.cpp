// Who requests run as on the server, through a real FUSE mount made by root: by default each
// guest user's requests run as that user (the mount attaches once per user), with --uid every
// request runs as that one user; nosuid,nodev unless asked otherwise. The guest users are forked
// children that switch to uids 1000 and 1001 and work in a world-writable directory.
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

// Guest users the host knows (diod refuses users it cannot look up; ours does not care), each
// with the group of the same number.
uid_t known_uid(std::initializer_list<uid_t> candidates) {
  for (uid_t u : candidates)
    if (::getpwuid(u) != nullptr) return u;
  return *candidates.begin();
}
const uid_t kAlice = known_uid({1000}), kBob = known_uid({1001, 1, 2});

class IdentityTest : public MountedTest {
 protected:
  void prepare() override {
    // Other users must reach the mount point (and, for diod, which works by path, the export),
    // and have somewhere to write.
    ASSERT_EQ(::chmod(tmp_.path().c_str(), 0755), 0);
    shared_ = export_ + "/shared";
    ASSERT_EQ(::mkdir(shared_.c_str(), 0777), 0);
    ASSERT_EQ(::chmod(shared_.c_str(), 01777), 0);
    write_file(export_ + "/roots", "root's file\n");
    ASSERT_EQ(::chmod((export_ + "/roots").c_str(), 0644), 0);
  }

  struct stat host_stat(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((export_ + "/" + rel).c_str(), &st), 0) << rel;
    return st;
  }

  std::string shared_;
};

// Creates `path` (mode 0644 before the umask) with `data`; 0 or an errno.
int create_file(const char* path, const char* data, mode_t mode = 0644) {
  int fd = ::open(path, O_CREAT | O_EXCL | O_WRONLY, mode);
  if (fd < 0) return errno;
  ssize_t n = ::write(fd, data, std::strlen(data));
  int err = n < 0 ? errno : 0;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

TEST_P(IdentityTest, GuestUsersCreateAsThemselves) {
  std::string a_file = mnt_ + "/shared/alice", a_dir = mnt_ + "/shared/alice.d",
              a_link = mnt_ + "/shared/alice.l", b_file = mnt_ + "/shared/bob",
              r_file = mnt_ + "/shared/root";
  EXPECT_EQ(run_as_user(kAlice,
                        [&] {
                          if (int e = create_file(a_file.c_str(), "alice\n")) return e;
                          if (int e = errno_of(::mkdir(a_dir.c_str(), 0755))) return e;
                          return errno_of(::symlink("alice", a_link.c_str()));
                        }),
            0);
  EXPECT_EQ(run_as_user(kBob, [&] { return create_file(b_file.c_str(), "bob\n"); }), 0);
  // Alice again, after Bob: each user keeps its own attachment.
  std::string a_file2 = mnt_ + "/shared/alice.d/second";
  EXPECT_EQ(run_as_user(kAlice, [&] { return create_file(a_file2.c_str(), "2\n"); }), 0);
  ASSERT_EQ(create_file(r_file.c_str(), "root\n"), 0);

  for (const char* rel :
       {"shared/alice", "shared/alice.d", "shared/alice.l", "shared/alice.d/second"}) {
    struct stat st = host_stat(rel);
    EXPECT_EQ(st.st_uid, kAlice) << rel;
    EXPECT_EQ(st.st_gid, kAlice) << rel;
  }
  EXPECT_EQ(host_stat("shared/bob").st_uid, kBob);
  EXPECT_EQ(host_stat("shared/bob").st_gid, kBob);
  EXPECT_EQ(host_stat("shared/root").st_uid, 0u) << "the server runs with --no-root-squash";
  EXPECT_EQ(read_file(export_ + "/shared/alice"), "alice\n");
}

TEST_P(IdentityTest, GuestUsersAreRefusedWhatTheirHostUserIsRefused) {
  std::string roots = mnt_ + "/roots", alices = mnt_ + "/shared/alices";
  // A root-owned 0644 file: readable, not writable, not removable from a sticky directory.
  EXPECT_EQ(run_as_user(kAlice, [&] { return errno_of(::open(roots.c_str(), O_WRONLY)); }), EACCES);
  EXPECT_EQ(run_as_user(kAlice,
                        [&] {
                          int fd = ::open(roots.c_str(), O_RDONLY);
                          if (fd < 0) return errno;
                          ::close(fd);
                          return 0;
                        }),
            0);
  EXPECT_EQ(run_as_user(kAlice, [&] { return errno_of(::chmod(roots.c_str(), 0666)); }), EPERM);
  EXPECT_EQ(read_file(export_ + "/roots"), "root's file\n");
  EXPECT_EQ(host_stat("roots").st_mode & 07777, 0644u);

  // Alice's private file: Bob can neither read nor replace it; Alice can.
  ASSERT_EQ(run_as_user(kAlice, [&] { return create_file(alices.c_str(), "secret\n", 0600); }), 0);
  EXPECT_EQ(run_as_user(kBob, [&] { return errno_of(::open(alices.c_str(), O_RDONLY)); }), EACCES);
  EXPECT_EQ(run_as_user(kBob, [&] { return errno_of(::unlink(alices.c_str())); }), EPERM);
  EXPECT_EQ(run_as_user(kAlice,
                        [&] {
                          int fd = ::open(alices.c_str(), O_RDWR | O_APPEND);
                          if (fd < 0) return errno;
                          int e = errno_of(::write(fd, "more\n", 5));
                          ::close(fd);
                          return e;
                        }),
            0);
  EXPECT_EQ(read_file(export_ + "/shared/alices"), "secret\nmore\n");
}

TEST_P(IdentityTest, NosuidAndNodevByDefault) {
  struct statvfs v {};
  ASSERT_EQ(::statvfs(mnt_.c_str(), &v), 0);
  EXPECT_TRUE(v.f_flag & ST_NOSUID);
  EXPECT_TRUE(v.f_flag & ST_NODEV);
}

INSTANTIATE_TEST_SUITE_P(Servers, IdentityTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

// -o suid,dev opts back in; each on its own.
class MountFlagsTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"-o", "suid", "-o", "dev"}; }
};

TEST_P(MountFlagsTest, SuidAndDevOptBackIn) {
  struct statvfs v {};
  ASSERT_EQ(::statvfs(mnt_.c_str(), &v), 0);
  EXPECT_FALSE(v.f_flag & ST_NOSUID);
  EXPECT_FALSE(v.f_flag & ST_NODEV);
}

class MountSuidOnlyTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"-o", "suid"}; }
};

TEST_P(MountSuidOnlyTest, SuidAloneKeepsNodev) {
  struct statvfs v {};
  ASSERT_EQ(::statvfs(mnt_.c_str(), &v), 0);
  EXPECT_FALSE(v.f_flag & ST_NOSUID);
  EXPECT_TRUE(v.f_flag & ST_NODEV);
}

class MountDevOnlyTest : public MountedTest {
 protected:
  std::vector<std::string> mount_args() override { return {"-o", "dev"}; }
};

TEST_P(MountDevOnlyTest, DevAloneKeepsNosuid) {
  struct statvfs v {};
  ASSERT_EQ(::statvfs(mnt_.c_str(), &v), 0);
  EXPECT_TRUE(v.f_flag & ST_NOSUID);
  EXPECT_FALSE(v.f_flag & ST_NODEV);
}

INSTANTIATE_TEST_SUITE_P(Servers, MountFlagsTest, ::testing::Values(ServerKind::Ours),
                         ServerKindName);
INSTANTIATE_TEST_SUITE_P(Servers, MountSuidOnlyTest, ::testing::Values(ServerKind::Ours),
                         ServerKindName);
INSTANTIATE_TEST_SUITE_P(Servers, MountDevOnlyTest, ::testing::Values(ServerKind::Ours),
                         ServerKindName);

// --uid: one identity for everyone, root included.
class SingleIdentityTest : public IdentityTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--uid", std::to_string(kAlice)}; }
};

TEST_P(SingleIdentityTest, EveryRequestRunsAsThatUser) {
  std::string by_root = mnt_ + "/shared/by-root", by_bob = mnt_ + "/shared/by-bob";
  ASSERT_EQ(create_file(by_root.c_str(), "x"), 0);
  ASSERT_EQ(run_as_user(kBob, [&] { return create_file(by_bob.c_str(), "y"); }), 0);
  EXPECT_EQ(host_stat("shared/by-root").st_uid, kAlice);
  EXPECT_EQ(host_stat("shared/by-root").st_gid, kAlice) << "Alice's group, not root's";
  EXPECT_EQ(host_stat("shared/by-bob").st_uid, kAlice);
  // The kernel lets root write anything: the server, acting as Alice, refuses.
  int fd = ::open((mnt_ + "/roots").c_str(), O_WRONLY);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(err, EACCES);
  EXPECT_EQ(read_file(export_ + "/roots"), "root's file\n");
}

INSTANTIATE_TEST_SUITE_P(Servers, SingleIdentityTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

// The server's default, root_squash: guest root is the anonymous user, the others themselves.
class RootSquashTest : public IdentityTest {
 protected:
  ExportOptions export_options() override {
    ExportOptions o;
    o.root_squash = true;
    return o;
  }
  std::vector<std::string> mount_args() override { return {"--reconnect"}; }
};

TEST_P(RootSquashTest, RootIsSquashedOthersAreNot) {
  if (!ninep_serve_has("--no-root-squash")) GTEST_SKIP() << "this server does not squash root";
  std::string by_root = mnt_ + "/shared/by-root", by_alice = mnt_ + "/shared/by-alice";
  ASSERT_EQ(create_file(by_root.c_str(), "x"), 0);
  ASSERT_EQ(run_as_user(kAlice, [&] { return create_file(by_alice.c_str(), "y"); }), 0);
  EXPECT_EQ(host_stat("shared/by-root").st_uid, 65534u);
  EXPECT_EQ(host_stat("shared/by-alice").st_uid, kAlice);
  int fd = ::open((mnt_ + "/roots").c_str(), O_WRONLY);
  EXPECT_LT(fd, 0) << "squashed root wrote a root-owned 0644 file";
  if (fd >= 0) ::close(fd);
}

// After a reconnect every user is attached again, and an open file is re-opened as its opener:
// Alice's 0600 file, which the (squashed) root may not open, keeps taking her writes.
TEST_P(RootSquashTest, ReconnectReattachesEveryUser) {
  if (!ninep_serve_has("--no-root-squash")) GTEST_SKIP() << "this server does not squash root";
  std::string log = mnt_ + "/shared/log", after = mnt_ + "/shared/after";
  int go[2], done[2];
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(go[1]);
    ::close(done[0]);
    int rc = run_as_user(kAlice, [&] {
      int fd = ::open(log.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_APPEND, 0600);
      if (fd < 0) return errno;
      if (::write(fd, "before\n", 7) != 7) return errno;
      char c = 1;
      if (::write(done[1], &c, 1) != 1 || ::read(go[0], &c, 1) != 1) return EPIPE;
      if (::write(fd, "after\n", 6) != 6) return errno;
      if (::close(fd) != 0) return errno;
      return create_file(after.c_str(), "new\n");
    });
    ::_exit(rc);
  }
  ::close(go[0]);
  ::close(done[1]);
  char c = 0;
  ASSERT_EQ(::read(done[0], &c, 1), 1) << "Alice could not write before the restart";
  server_->kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = server_->restart();
  ASSERT_TRUE(r) << r.error().to_string();
  ASSERT_EQ(::write(go[1], &c, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(go[1]);
  ::close(done[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << std::strerror(WEXITSTATUS(status)) << "\nmount log:\n"
                                    << mount_->log();
  EXPECT_EQ(read_file(export_ + "/shared/log"), "before\nafter\n");
  EXPECT_EQ(host_stat("shared/log").st_uid, kAlice);
  EXPECT_EQ(host_stat("shared/after").st_uid, kAlice);
}

INSTANTIATE_TEST_SUITE_P(Servers, RootSquashTest, ::testing::Values(ServerKind::Ours),
                         ServerKindName);

}  // namespace
}  // namespace ninep::testing
