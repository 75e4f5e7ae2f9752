// A full disk through the client library: `ninep serve` exports a 2 MiB tmpfs (mounted by the
// test, as root). Writes past the end fail with ENOSPC, the data written before reads back intact
// byte for byte, the server keeps serving, and once a file is removed writes work again.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/session.h"
#include "server_process.h"
#include "temp_dir.h"

namespace ninep::client {
namespace {

constexpr int kDiskKiB = 2048;

// `n` bytes that differ per `seed`.
std::vector<std::uint8_t> pattern(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(n);
  for (auto& c : v) c = static_cast<std::uint8_t>(rng());
  return v;
}

std::vector<std::uint8_t> read_host_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (mounts a tmpfs)";
    auto t = testing::TempDir::create("ninep-client-full-");
    ASSERT_TRUE(t) << t.error().to_string();
    tmp_ = std::move(*t);
    export_ = tmp_ / "export";
    ASSERT_EQ(::mkdir(export_.c_str(), 0755), 0);
    const std::string opts = "size=" + std::to_string(kDiskKiB) + "k,mode=0755";
    ASSERT_EQ(::mount("ninep-test", export_.c_str(), "tmpfs", 0, opts.c_str()), 0)
        << "mount tmpfs: " << std::strerror(errno);
    tmpfs_mounted_ = true;
    const std::string socket = tmp_ / "9p.sock";
    testing::ServerProcess::Options o;
    o.argv = {NINEP_BINARY,   "serve",    "--no-root-squash", "--export",
              "t=" + export_, "--listen", "unix:" + socket};
    o.socket_path = socket;
    o.log_path = tmp_ / "server.log";
    auto p = testing::ServerProcess::start(std::move(o));
    ASSERT_TRUE(p) << p.error().to_string();
    server_ = std::move(*p);
    auto s = Session::connect("unix:" + socket);
    ASSERT_TRUE(s) << s.error().to_string();
    session_ = *s;
    auto r = session_->attach("root", "t", 0);
    ASSERT_TRUE(r) << r.error().to_string() << "\nserver log:\n" << server_.log();
    root_ = std::move(*r);
  }

  void TearDown() override {
    root_ = Fid();
    session_.reset();
    server_ = testing::ServerProcess();
    if (tmpfs_mounted_) {
      EXPECT_EQ(::umount2(export_.c_str(), MNT_DETACH), 0) << std::strerror(errno);
    }
  }

  // A new file `name`, created and opened for reading and writing.
  Fid create(const std::string& name) {
    auto f = root_.clone();
    EXPECT_TRUE(f) << f.error().to_string();
    if (!f) return Fid();
    auto o = f->lcreate(name, p9::kORdwr, 0644, 0);
    EXPECT_TRUE(o) << name << ": " << o.error().to_string();
    return std::move(*f);
  }

  // The whole file `f` as read through the client (`size` bytes asked, one more to see the end).
  std::vector<std::uint8_t> read_all(const Fid& f, std::size_t size) {
    std::vector<std::uint8_t> buf(size + 1);
    auto n = f.read(0, buf);
    EXPECT_TRUE(n) << n.error().to_string();
    buf.resize(n ? *n : 0);
    return buf;
  }

  testing::TempDir tmp_;
  std::string export_;
  bool tmpfs_mounted_ = false;
  testing::ServerProcess server_;
  std::shared_ptr<Session> session_;
  Fid root_;
};

TEST_F(DiskFullTest, WritesPastTheEndFailWithEnospcAndEarlierDataIsIntact) {
  // Half the disk in one pipelined write (several Twrites in flight).
  const auto first = pattern(1000 * 1000, 1);
  Fid f1 = create("first");
  ASSERT_TRUE(f1);
  auto n = f1.write(0, first);
  ASSERT_TRUE(n) << n.error().to_string();
  ASSERT_EQ(*n, first.size());

  // Then 64 KiB at a time (one Twrite each) until the disk is full: a write may come back short
  // (what fitted), and the next one fails with ENOSPC.
  const auto second = pattern(2 * kDiskKiB * 1024, 2);
  Fid f2 = create("second");
  ASSERT_TRUE(f2);
  std::size_t written = 0;
  Error error;
  constexpr std::size_t kChunk = 64 * 1024;
  while (written < second.size()) {
    std::size_t len = std::min(kChunk, second.size() - written);
    auto w = f2.write(written, std::span(second).subspan(written, len));
    if (!w) {
      error = w.error();
      break;
    }
    ASSERT_GT(*w, 0u) << "a write of nothing without an error";
    written += *w;
  }
  EXPECT_EQ(error.code, ENOSPC) << "the write past the end: " << error.to_string();
  EXPECT_LT(written, std::size_t(kDiskKiB) * 1024 - first.size());
  std::printf("the disk took %zu bytes of the second file before ENOSPC\n", written);

  // A large pipelined write into a new file fails the same way, writing nothing.
  const auto third = pattern(800 * 1000, 3);
  Fid f3 = create("third");
  ASSERT_TRUE(f3);
  auto w3 = f3.write(0, third);
  ASSERT_FALSE(w3 && *w3 == third.size()) << "a write onto a full disk succeeded";
  if (!w3) {
    EXPECT_EQ(w3.error().code, ENOSPC) << w3.error().to_string();
  } else {
    std::printf("the large write onto the full disk came back short: %zu bytes\n", *w3);
  }

  // What was written before is intact, through the client and on the host.
  EXPECT_TRUE(read_all(f1, first.size()) == first);
  EXPECT_TRUE(read_host_file(export_ + "/first") == first);
  const std::vector<std::uint8_t> second_part(second.begin(), second.begin() + written);
  EXPECT_TRUE(read_all(f2, second.size()) == second_part);
  EXPECT_TRUE(read_host_file(export_ + "/second") == second_part);

  // The server keeps serving: attributes, file system statistics, listing.
  auto a = f1.getattr();
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(a->size, first.size());
  auto fs = root_.statfs();
  ASSERT_TRUE(fs) << fs.error().to_string();
  EXPECT_LT(std::uint64_t(fs->bavail) * fs->bsize, std::uint64_t(kChunk));
  auto dir = root_.clone();
  ASSERT_TRUE(dir && dir->lopen(p9::kORdonly));
  auto entries = dir->readdir_all();
  ASSERT_TRUE(entries) << entries.error().to_string();
  std::set<std::string> names;
  for (const auto& e : *entries) names.insert(e.name);
  for (const char* want : {"first", "second", "third"}) EXPECT_TRUE(names.count(want)) << want;

  // Free the space: removing the second file lets the third be written whole.
  f2 = Fid();
  auto rm = root_.unlinkat("second");
  ASSERT_TRUE(rm) << rm.error().to_string();
  w3 = f3.write(0, third);
  ASSERT_TRUE(w3) << "after freeing space: " << w3.error().to_string();
  EXPECT_EQ(*w3, third.size());
  EXPECT_TRUE(read_all(f3, third.size()) == third);
  EXPECT_TRUE(read_host_file(export_ + "/third") == third);
  EXPECT_TRUE(read_all(f1, first.size()) == first);
}

}  // namespace
}  // namespace ninep::client
