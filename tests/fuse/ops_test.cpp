// File system operations through the FUSE mount, checked against what the host shows in the
// exported directory.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

class OpsTest : public MountedTest {
 protected:
  std::string m(const std::string& name) const { return mnt_ + "/" + name; }
  std::string h(const std::string& name) const { return export_ + "/" + name; }
};

std::string pread_all(int fd, std::size_t n, off_t off = 0) {
  std::string s(n, '\0');
  ssize_t r = ::pread(fd, s.data(), n, off);
  s.resize(r < 0 ? 0 : std::size_t(r));
  return s;
}

TEST_P(OpsTest, CreateWriteReadAppendTruncate) {
  UniqueFd fd(::open(m("f").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640));
  ASSERT_TRUE(fd) << strerror(errno);
  ASSERT_EQ(::pwrite(fd.get(), "hello world", 11, 0), 11);
  EXPECT_EQ(pread_all(fd.get(), 100), "hello world");
  EXPECT_EQ(read_file(h("f")), "hello world");
  struct stat st {};
  ASSERT_EQ(::stat(h("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(::open(m("f").c_str(), O_CREAT | O_EXCL | O_RDWR, 0640), -1);
  EXPECT_EQ(errno, EEXIST);

  UniqueFd app(::open(m("f").c_str(), O_WRONLY | O_APPEND));
  ASSERT_TRUE(app);
  ASSERT_EQ(::write(app.get(), "!!", 2), 2);
  EXPECT_EQ(read_file(h("f")), "hello world!!");
  ASSERT_EQ(::ftruncate(fd.get(), 5), 0);
  EXPECT_EQ(read_file(h("f")), "hello");
  ASSERT_EQ(::truncate(m("f").c_str(), 8), 0);
  EXPECT_EQ(read_file(h("f")), std::string("hello\0\0\0", 8));
  ASSERT_EQ(::stat(m("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8);
  UniqueFd tr(::open(m("f").c_str(), O_WRONLY | O_TRUNC));
  ASSERT_TRUE(tr);
  EXPECT_EQ(read_file(h("f")), "");
  EXPECT_EQ(::fsync(fd.get()), 0);
  EXPECT_EQ(::fdatasync(fd.get()), 0);
}

TEST_P(OpsTest, RenameVariants) {
  write_file(m("a"), "A");
  write_file(m("b"), "B");
  ASSERT_EQ(::mkdir(m("d").c_str(), 0755), 0);
  ASSERT_EQ(::rename(m("a").c_str(), m("d/a2").c_str()), 0);
  EXPECT_EQ(read_file(h("d/a2")), "A");
  ASSERT_EQ(::rename(m("d/a2").c_str(), m("b").c_str()), 0);  // replaces b
  EXPECT_EQ(read_file(m("b")), "A");
  EXPECT_EQ(::access(h("d/a2").c_str(), F_OK), -1);

  write_file(m("c"), "C");
  // RENAME_NOREPLACE: refused when the target exists, done when it does not.
  EXPECT_EQ(::syscall(SYS_renameat2, AT_FDCWD, m("c").c_str(), AT_FDCWD, m("b").c_str(),
                      RENAME_NOREPLACE),
            -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(read_file(m("b")), "A");
  ASSERT_EQ(::syscall(SYS_renameat2, AT_FDCWD, m("c").c_str(), AT_FDCWD, m("c2").c_str(),
                      RENAME_NOREPLACE),
            0)
      << strerror(errno);
  EXPECT_EQ(read_file(h("c2")), "C");
  EXPECT_EQ(::access(h("c").c_str(), F_OK), -1);
  struct stat st {};
  ASSERT_EQ(::stat(m("c2").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  // Directories: renamed without replacing, or refused with EINVAL (never replaced).
  ASSERT_EQ(::mkdir(m("d2").c_str(), 0755), 0);
  long r = ::syscall(SYS_renameat2, AT_FDCWD, m("d2").c_str(), AT_FDCWD, m("d").c_str(),
                     RENAME_NOREPLACE);
  EXPECT_EQ(r, -1);
  EXPECT_TRUE(errno == EEXIST || errno == EINVAL) << strerror(errno);
  // RENAME_EXCHANGE cannot be done atomically over 9P.
  EXPECT_EQ(::syscall(SYS_renameat2, AT_FDCWD, m("b").c_str(), AT_FDCWD, m("c2").c_str(),
                      RENAME_EXCHANGE),
            -1);
  EXPECT_EQ(errno, EINVAL);
  // A renamed directory keeps working under its new name, also for open files inside it.
  write_file(m("d/inner"), "in");
  UniqueFd fd(::open(m("d/inner").c_str(), O_RDWR));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::rename(m("d").c_str(), m("e").c_str()), 0);
  EXPECT_EQ(read_file(m("e/inner")), "in");
  ASSERT_EQ(::pwrite(fd.get(), "IN", 2, 0), 2);
  EXPECT_EQ(read_file(h("e/inner")), "IN");
}

TEST_P(OpsTest, DirectoriesAndRemoval) {
  ASSERT_EQ(::mkdir(m("d").c_str(), 0750), 0);
  struct stat st {};
  ASSERT_EQ(::stat(h("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(::mkdir(m("d").c_str(), 0750), -1);
  EXPECT_EQ(errno, EEXIST);
  write_file(m("d/f"), "x");
  EXPECT_EQ(::rmdir(m("d").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(::unlink(m("d").c_str()), -1);
  EXPECT_TRUE(errno == EISDIR || errno == EPERM) << strerror(errno);
  EXPECT_EQ(::rmdir(m("d/f").c_str()), -1);
  EXPECT_EQ(errno, ENOTDIR);
  ASSERT_EQ(::unlink(m("d/f").c_str()), 0);
  ASSERT_EQ(::rmdir(m("d").c_str()), 0);
  EXPECT_EQ(::access(h("d").c_str(), F_OK), -1);
  EXPECT_EQ(::unlink(m("nothing").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
  // An unlinked file stays readable through an open descriptor.
  write_file(m("g"), "ghost");
  UniqueFd fd(::open(m("g").c_str(), O_RDONLY));
  ASSERT_TRUE(fd);
  ASSERT_EQ(::unlink(m("g").c_str()), 0);
  EXPECT_EQ(pread_all(fd.get(), 10), "ghost");
}

TEST_P(OpsTest, SymlinksAndHardLinks) {
  write_file(m("target"), "T");
  ASSERT_EQ(::symlink("target", m("sl").c_str()), 0);
  char buf[64] = {};
  ASSERT_EQ(::readlink(m("sl").c_str(), buf, sizeof buf), 6);
  EXPECT_STREQ(buf, "target");
  ASSERT_EQ(::readlink(h("sl").c_str(), buf, sizeof buf), 6);
  EXPECT_EQ(read_file(m("sl")), "T");
  struct stat st {};
  ASSERT_EQ(::lstat(m("sl").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(::symlink("/does/not/exist", m("dangling").c_str()), 0);
  EXPECT_EQ(::stat(m("dangling").c_str(), &st), -1);

  ASSERT_EQ(::link(m("target").c_str(), m("hard").c_str()), 0);
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(m("target").c_str(), &a), 0);
  ASSERT_EQ(::stat(m("hard").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
  EXPECT_EQ(a.st_nlink, 2u);
  write_file(m("hard"), "changed");
  EXPECT_EQ(read_file(m("target")), "changed");
  ASSERT_EQ(::unlink(m("target").c_str()), 0);
  ASSERT_EQ(::stat(m("hard").c_str(), &b), 0);
  EXPECT_EQ(b.st_nlink, 1u);
}

TEST_P(OpsTest, SpecialFiles) {
  ASSERT_EQ(::mkfifo(m("fifo").c_str(), 0644), 0) << strerror(errno);
  struct stat st {};
  ASSERT_EQ(::stat(h("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  ASSERT_EQ(::mknod(m("null").c_str(), S_IFCHR | 0600, makedev(1, 3)), 0) << strerror(errno);
  ASSERT_EQ(::stat(m("null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(major(st.st_rdev), 1u);
  EXPECT_EQ(minor(st.st_rdev), 3u);
  ASSERT_EQ(::stat(h("null").c_str(), &st), 0);
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  ASSERT_EQ(::mknod(m("regular").c_str(), S_IFREG | 0600, 0), 0) << strerror(errno);
  ASSERT_EQ(::stat(h("regular").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_P(OpsTest, AttributesAndTimes) {
  write_file(m("f"), "data");
  ASSERT_EQ(::chmod(m("f").c_str(), 04751), 0);
  struct stat st {};
  ASSERT_EQ(::stat(h("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04751u);
  ASSERT_EQ(::chown(m("f").c_str(), 1234, 5678), 0) << strerror(errno);
  ASSERT_EQ(::stat(h("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  ASSERT_EQ(::stat(m("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);

  timespec times[2] = {{1000000000, 123456789}, {1100000000, 987654321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, m("f").c_str(), times, 0), 0);
  ASSERT_EQ(::stat(h("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  EXPECT_EQ(st.st_atim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  ASSERT_EQ(::stat(m("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1100000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);

  // UTIME_NOW for mtime, UTIME_OMIT keeps atime.
  timespec now_omit[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  auto before = std::chrono::system_clock::now() - std::chrono::seconds(5);
  ASSERT_EQ(::utimensat(AT_FDCWD, m("f").c_str(), now_omit, 0), 0);
  ASSERT_EQ(::stat(h("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_atim.tv_sec, 1000000000);
  EXPECT_GE(st.st_mtim.tv_sec, std::chrono::system_clock::to_time_t(before));
  // Writing updates mtime on the server, and the mount shows it.
  ASSERT_EQ(::utimensat(AT_FDCWD, m("f").c_str(), times, 0), 0);
  write_file(m("f"), "more data");
  ASSERT_EQ(::stat(m("f").c_str(), &st), 0);
  EXPECT_GE(st.st_mtim.tv_sec, std::chrono::system_clock::to_time_t(before));
  EXPECT_EQ(st.st_size, 9);
}

TEST_P(OpsTest, Statfs) {
  struct statvfs a {
  }, b{};
  ASSERT_EQ(::statvfs(mnt_.c_str(), &a), 0);
  ASSERT_EQ(::statvfs(export_.c_str(), &b), 0);
  EXPECT_EQ(a.f_blocks * a.f_frsize, b.f_blocks * b.f_frsize);
  EXPECT_GT(a.f_bavail, 0u);
  EXPECT_EQ(a.f_namemax, 255u);
}

TEST_P(OpsTest, ExtendedAttributes) {
  write_file(m("f"), "x");
  ASSERT_EQ(::setxattr(m("f").c_str(), "user.color", "blue", 4, 0), 0) << strerror(errno);
  char buf[64];
  ASSERT_EQ(::getxattr(h("f").c_str(), "user.color", buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "blue");
  EXPECT_EQ(::getxattr(m("f").c_str(), "user.color", nullptr, 0), 4);  // size probe
  EXPECT_EQ(::getxattr(m("f").c_str(), "user.color", buf, 2), -1);
  EXPECT_EQ(errno, ERANGE);
  ASSERT_EQ(::getxattr(m("f").c_str(), "user.color", buf, sizeof buf), 4);
  EXPECT_EQ(std::string(buf, 4), "blue");
  EXPECT_EQ(::getxattr(m("f").c_str(), "user.none", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);

  ASSERT_EQ(::setxattr(m("f").c_str(), "user.shape", "round", 5, XATTR_CREATE), 0);
  EXPECT_EQ(::setxattr(m("f").c_str(), "user.shape", "square", 6, XATTR_CREATE), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(::setxattr(m("f").c_str(), "user.nothing", "v", 1, XATTR_REPLACE), -1);
  EXPECT_EQ(errno, ENODATA);
  ssize_t len = ::listxattr(m("f").c_str(), nullptr, 0);
  ASSERT_GT(len, 0);
  std::string names(std::size_t(len), '\0');
  EXPECT_EQ(::listxattr(m("f").c_str(), names.data(), 3), -1);
  EXPECT_EQ(errno, ERANGE);
  ASSERT_EQ(::listxattr(m("f").c_str(), names.data(), names.size()), len);
  std::set<std::string> got;
  for (std::size_t p = 0; p < names.size(); p += std::strlen(names.c_str() + p) + 1)
    got.insert(names.c_str() + p);
  EXPECT_TRUE(got.count("user.color") && got.count("user.shape"));

  std::string big(3000, 'v');  // larger than one small read
  ASSERT_EQ(::setxattr(m("f").c_str(), "user.big", big.data(), big.size(), 0), 0);
  std::string back(4000, '\0');
  ASSERT_EQ(::getxattr(m("f").c_str(), "user.big", back.data(), back.size()), 3000);
  EXPECT_EQ(back.substr(0, 3000), big);

  ASSERT_EQ(::removexattr(m("f").c_str(), "user.color"), 0);
  EXPECT_EQ(::getxattr(h("f").c_str(), "user.color", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(::removexattr(m("f").c_str(), "user.color"), -1);
  EXPECT_EQ(errno, ENODATA);
}

// Runs `fn` in a child process; returns its exit code.
template <typename F>
pid_t fork_child(F&& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int rc = fn();
    ::_exit(rc);
  }
  return pid;
}

int wait_child(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

struct flock whole(short type) {
  struct flock l {};
  l.l_type = type;
  l.l_whence = SEEK_SET;
  l.l_start = 0;
  l.l_len = 0;
  return l;
}

TEST_P(OpsTest, PosixLocksBetweenProcesses) {
  write_file(m("lockfile"), "0123456789");
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  std::string path = m("lockfile");
  pid_t holder = fork_child([&] {
    int fd = ::open(path.c_str(), O_RDWR);
    struct flock l = whole(F_WRLCK);
    if (fd < 0 || ::fcntl(fd, F_SETLK, &l) != 0) return 1;
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) return 2;
    if (::read(release[0], &c, 1) != 1) return 3;
    ::usleep(200 * 1000);  // the waiter is blocked in F_SETLKW meanwhile
    l.l_type = F_UNLCK;
    return ::fcntl(fd, F_SETLK, &l) == 0 ? 0 : 4;
  });
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);

  UniqueFd fd(::open(path.c_str(), O_RDWR));
  ASSERT_TRUE(fd);
  struct flock l = whole(F_WRLCK);
  EXPECT_EQ(::fcntl(fd.get(), F_SETLK, &l), -1);
  EXPECT_TRUE(errno == EAGAIN || errno == EACCES) << strerror(errno);
  struct flock q = whole(F_WRLCK);
  ASSERT_EQ(::fcntl(fd.get(), F_GETLK, &q), 0) << strerror(errno);
  EXPECT_EQ(q.l_type, F_WRLCK);

  // A blocking lock is interruptible by a signal.
  struct sigaction sa {};
  sa.sa_handler = [](int) {};
  ::sigaction(SIGALRM, &sa, nullptr);
  ::ualarm(150 * 1000, 0);
  l = whole(F_WRLCK);
  EXPECT_EQ(::fcntl(fd.get(), F_SETLKW, &l), -1);
  EXPECT_EQ(errno, EINTR);

  // And is granted once the holder lets go.
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  auto t0 = std::chrono::steady_clock::now();
  l = whole(F_WRLCK);
  ASSERT_EQ(::fcntl(fd.get(), F_SETLKW, &l), 0) << strerror(errno);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(100));
  EXPECT_EQ(wait_child(holder), 0);
  l = whole(F_UNLCK);
  EXPECT_EQ(::fcntl(fd.get(), F_SETLK, &l), 0);
  for (int p : {ready[0], ready[1], release[0], release[1]}) ::close(p);
}

TEST_P(OpsTest, FlockBetweenProcesses) {
  write_file(m("flockfile"), "x");
  std::string path = m("flockfile");
  UniqueFd a(::open(path.c_str(), O_RDWR));
  ASSERT_TRUE(a);
  ASSERT_EQ(::flock(a.get(), LOCK_EX), 0) << strerror(errno);
  pid_t child = fork_child([&] {
    int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) return 1;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return 2;  // must conflict
    if (errno != EWOULDBLOCK) return 3;
    return 0;
  });
  EXPECT_EQ(wait_child(child), 0);
  ASSERT_EQ(::flock(a.get(), LOCK_UN), 0);
  child = fork_child([&] {
    int fd = ::open(path.c_str(), O_RDWR);
    return fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1;
  });
  EXPECT_EQ(wait_child(child), 0);
}

// POSIX locks belong to the process whatever descriptor it uses, and closing any descriptor of
// the file drops them; flock() locks belong to the open file.
TEST_P(OpsTest, LockOwnershipFollowsPosixAndFlock) {
  write_file(m("ownfile"), "0123456789");
  std::string path = m("ownfile");
  UniqueFd a(::open(path.c_str(), O_RDWR));
  UniqueFd b(::open(path.c_str(), O_RDWR));
  ASSERT_TRUE(a && b);
  struct flock l = whole(F_WRLCK);
  ASSERT_EQ(::fcntl(a.get(), F_SETLK, &l), 0) << strerror(errno);
  l = whole(F_WRLCK);
  if (GetParam() == ServerKind::Diod && ::fcntl(b.get(), F_SETLK, &l) != 0)
    GTEST_SKIP() << "diod's locks belong to the fid, so one process conflicts with itself";
  l = whole(F_WRLCK);
  EXPECT_EQ(::fcntl(b.get(), F_SETLK, &l), 0)
      << "one process, two descriptors: " << strerror(errno);
  auto child_can_lock = [&] {
    return wait_child(fork_child([&] {
      int fd = ::open(path.c_str(), O_RDWR);
      struct flock c = whole(F_WRLCK);
      return fd >= 0 && ::fcntl(fd, F_SETLK, &c) == 0 ? 0 : 1;
    }));
  };
  EXPECT_EQ(child_can_lock(), 1) << "held by this process";
  b.reset();  // closing either descriptor drops the process's locks on the file
  EXPECT_EQ(child_can_lock(), 0) << "released by the close";

  ASSERT_EQ(::flock(a.get(), LOCK_EX | LOCK_NB), 0) << strerror(errno);
  UniqueFd c(::open(path.c_str(), O_RDWR));
  ASSERT_TRUE(c);
  EXPECT_EQ(::flock(c.get(), LOCK_EX | LOCK_NB), -1) << "flock: two open files conflict";
  EXPECT_EQ(errno, EWOULDBLOCK);
  // The open file's last close releases its flock; FUSE sends that release after close()
  // returns, so the lock comes free shortly after, not at once.
  a.reset();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  int rc;
  while ((rc = ::flock(c.get(), LOCK_EX | LOCK_NB)) != 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(rc, 0) << strerror(errno);
}

std::vector<std::string> list_dir(DIR* d) {
  std::vector<std::string> out;
  while (dirent* e = ::readdir(d)) out.push_back(e->d_name);
  return out;
}

TEST_P(OpsTest, LargeDirectoryListsEveryEntry) {
  ASSERT_EQ(::mkdir(h("big").c_str(), 0755), 0);
  for (int i = 0; i < 10000; ++i) {
    UniqueFd fd(::open(h("big/entry-with-a-longish-name-" + std::to_string(i)).c_str(),
                       O_CREAT | O_WRONLY, 0644));
    ASSERT_TRUE(fd);
  }
  DIR* d = ::opendir(m("big").c_str());
  ASSERT_NE(d, nullptr);
  auto all = list_dir(d);
  std::set<std::string> unique(all.begin(), all.end());
  EXPECT_EQ(all.size(), 10002u);  // with . and ..
  EXPECT_EQ(unique.size(), all.size());
  // seekdir/telldir in the middle, then rewinddir.
  ::rewinddir(d);
  for (int i = 0; i < 4321; ++i) ASSERT_NE(::readdir(d), nullptr);
  long pos = ::telldir(d);
  auto rest1 = list_dir(d);
  ::seekdir(d, pos);
  auto rest2 = list_dir(d);
  EXPECT_EQ(rest1, rest2);
  EXPECT_EQ(rest1.size(), 10002u - 4321u);
  ::rewinddir(d);
  EXPECT_EQ(list_dir(d).size(), 10002u);
  ::closedir(d);
  // Every name can be looked up (ls -l of a tenth of them: stat after readdir).
  auto ls =
      run_shell("cd " + shell_quote(m("big")) + " && ls -l entry-with-a-longish-name-*5 | wc -l");
  EXPECT_EQ(ls.output, "1000\n");
}

TEST_P(OpsTest, LargeFileAndParallelReads) {
  std::string data(24 * 1024 * 1024 + 12345, '\0');
  std::mt19937_64 rng(42);
  for (auto& c : data) c = static_cast<char>(rng());
  {
    UniqueFd fd(::open(m("big").c_str(), O_CREAT | O_WRONLY, 0644));
    ASSERT_TRUE(fd);
    std::size_t off = 0;
    while (off < data.size()) {
      ssize_t n =
          ::write(fd.get(), data.data() + off, std::min<std::size_t>(3 << 20, data.size() - off));
      ASSERT_GT(n, 0) << strerror(errno);
      off += std::size_t(n);
    }
  }
  EXPECT_TRUE(read_file(h("big")) == data);
  UniqueFd fd(::open(m("big").c_str(), O_RDONLY | O_DIRECT));
  if (!fd) fd.reset(::open(m("big").c_str(), O_RDONLY));
  ASSERT_TRUE(fd);
  std::vector<std::thread> readers;
  std::atomic<int> bad{0};
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&, t] {
      std::size_t chunk = data.size() / 8;
      std::size_t off = t * chunk;
      std::size_t len = t == 7 ? data.size() - off : chunk;
      std::string got(len, '\0');
      std::size_t done = 0;
      while (done < len) {
        ssize_t n = ::pread(fd.get(), got.data() + done, len - done, off_t(off + done));
        if (n <= 0) break;
        done += std::size_t(n);
      }
      if (done != len || got != data.substr(off, len)) ++bad;
    });
  }
  for (auto& r : readers) r.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_P(OpsTest, SharedWritableMmap) {
  write_file(m("mm"), std::string(8192, 'a'));
  UniqueFd fd(::open(m("mm").c_str(), O_RDWR));
  ASSERT_TRUE(fd);
  void* p = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  ASSERT_NE(p, MAP_FAILED) << strerror(errno);
  std::memcpy(static_cast<char*>(p) + 4096, "mapped", 6);
  ASSERT_EQ(::msync(p, 8192, MS_SYNC), 0);
  ::munmap(p, 8192);
  EXPECT_EQ(read_file(h("mm")).substr(4096, 6), "mapped");
}

INSTANTIATE_TEST_SUITE_P(Servers, OpsTest, ::testing::Values(ServerKind::Ours, ServerKind::Diod),
                         ServerKindName);

// cache=none: nothing is cached, so a change made on the host shows at once (cache=auto shows it
// once its event has arrived: coherence_test.cpp).
class NoCacheOpsTest : public OpsTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--cache", "none"}; }
};

TEST_P(NoCacheOpsTest, HostChangesAreVisibleAtOnce) {
  write_file(h("host"), "one");
  EXPECT_EQ(read_file(m("host")), "one");
  write_file(h("host"), "two");  // same size: only a fresh read shows it
  EXPECT_EQ(read_file(m("host")), "two");
  write_file(h("host"), "three!");
  EXPECT_EQ(read_file(m("host")), "three!");
  struct stat st {};
  ASSERT_EQ(::stat(m("host").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 6);
  ASSERT_EQ(::rename(h("host").c_str(), h("moved").c_str()), 0);
  EXPECT_EQ(::stat(m("host").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(read_file(m("moved")), "three!");
  ASSERT_EQ(::unlink(h("moved").c_str()), 0);
  EXPECT_EQ(::access(m("moved").c_str(), F_OK), -1);
  ASSERT_EQ(::mkdir(h("newdir").c_str(), 0755), 0);
  EXPECT_EQ(::stat(m("newdir").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  ASSERT_EQ(::chmod(h("newdir").c_str(), 0700), 0);
  ASSERT_EQ(::stat(m("newdir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  // Attribute-only changes on the host (no data change) show at once as well.
  write_file(h("newdir/f"), "f");
  ASSERT_EQ(::stat(m("newdir/f").c_str(), &st), 0);
  ASSERT_EQ(::chown(h("newdir/f").c_str(), 4321, 8765), 0);
  ASSERT_EQ(::chmod(h("newdir/f").c_str(), 0604), 0);
  ASSERT_EQ(::stat(m("newdir/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 4321u);
  EXPECT_EQ(st.st_gid, 8765u);
  EXPECT_EQ(st.st_mode & 07777, 0604u);
  timespec times[2] = {{200000000, 0}, {300000000, 5}};
  ASSERT_EQ(::utimensat(AT_FDCWD, h("newdir/f").c_str(), times, 0), 0);
  ASSERT_EQ(::stat(m("newdir/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 300000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 5);
  ASSERT_EQ(::link(h("newdir/f").c_str(), h("newdir/g").c_str()), 0);
  ASSERT_EQ(::stat(m("newdir/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 2u);
}

INSTANTIATE_TEST_SUITE_P(Servers, NoCacheOpsTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

// The same operations with cache=loose: readdirplus and kept page caches.
class LooseOpsTest : public OpsTest {
 protected:
  std::vector<std::string> mount_args() override { return {"--cache", "loose"}; }
};

TEST_P(LooseOpsTest, ReaddirplusListsAndStatsEverything) {
  ASSERT_EQ(::mkdir(h("dir").c_str(), 0755), 0);
  for (int i = 0; i < 3000; ++i) write_file(h("dir/f" + std::to_string(i)), std::to_string(i));
  auto ls = run_shell("ls -l " + shell_quote(m("dir")) + " | awk '{s += $5} END {print NR-1, s}'");
  // Sizes: 10*1 + 90*2 + 900*3 + 2000*4 = 10890
  EXPECT_EQ(ls.output, "3000 10890\n");
  struct stat st {};
  ASSERT_EQ(::stat(m("dir/f2999").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 4);
}

TEST_P(LooseOpsTest, CachedPagesAreDroppedWhenTheFileChanges) {
  write_file(h("f"), "first version");
  EXPECT_EQ(read_file(m("f")), "first version");
  EXPECT_EQ(read_file(m("f")), "first version");
  write_file(h("f"), "second version, longer");
  // Changed data changes qid.version: the next open must not serve the old pages (after the
  // attribute timeout has passed).
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(read_file(m("f")), "second version, longer");
  write_file(m("f"), "through the mount");
  EXPECT_EQ(read_file(m("f")), "through the mount");
}

TEST_P(LooseOpsTest, AbsentXattrCacheIsDroppedBySetxattr) {
  write_file(m("f"), "x");
  char buf[16];
  EXPECT_EQ(::getxattr(m("f").c_str(), "user.later", buf, sizeof buf), -1);
  EXPECT_EQ(errno, ENODATA);
  EXPECT_EQ(::getxattr(m("f").c_str(), "user.later", buf, sizeof buf), -1);  // cached
  ASSERT_EQ(::setxattr(m("f").c_str(), "user.later", "now", 3, 0), 0);
  ASSERT_EQ(::getxattr(m("f").c_str(), "user.later", buf, sizeof buf), 3);
  EXPECT_EQ(std::string(buf, 3), "now");
  // Writes (which make the kernel ask for security.capability) keep working.
  for (int i = 0; i < 20; ++i) write_file(m("f"), "write " + std::to_string(i));
  EXPECT_EQ(read_file(h("f")), "write 19");
}

INSTANTIATE_TEST_SUITE_P(Servers, LooseOpsTest,
                         ::testing::Values(ServerKind::Ours, ServerKind::Diod), ServerKindName);

}  // namespace
}  // namespace ninep::testing
