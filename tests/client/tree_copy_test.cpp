// Downloads from a hostile server (FakeTree): whatever names, listings and trees it sends, nothing
// is written outside the destination, no symlink is followed, and the copy ends with an error in
// bounded time.
#include "client/tree_copy.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <sstream>

#include "client/dir_listing.h"
#include "client/session.h"
#include "fake_tree.h"
#include "temp_dir.h"

namespace ninep::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FakeServer;
using testing::FakeTree;

struct Recorder : TreeCopyObserver {
  std::vector<std::string> errors, warnings;
  void on_error(std::string_view what, const Error& e) override {
    errors.push_back(std::string(what) + ": " + e.to_string());
  }
  void on_warning(std::string_view what, const Error& e) override {
    warnings.push_back(std::string(what) + ": " + e.to_string());
  }
  std::string all() const {
    std::string s;
    for (const auto& e : errors) s += e + "\n";
    return s;
  }
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Contents as shown in snapshots: short ones as they are, long ones by size and hash.
std::string describe(const std::string& data) {
  if (data.size() <= 64) return data;
  return std::to_string(data.size()) + " bytes, hash " +
         std::to_string(std::hash<std::string>{}(data));
}

// Every entry below `root` (symlinks not followed) with its type and contents or target.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = e.path().lexically_relative(root);
    auto st = fs::symlink_status(e.path());
    if (fs::is_symlink(st))
      out[rel] = "link:" + fs::read_symlink(e.path()).string();
    else if (fs::is_directory(st))
      out[rel] = "dir";
    else
      out[rel] = "file:" + describe(read_file(e.path()));
  }
  return out;
}

class TreeCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-tree-copy-");
    ASSERT_TRUE(d);
    tmp_ = std::move(*d);
    outside_ = tmp_ / "outside";
    dest_ = tmp_ / "work/dest";
    fs::create_directories(outside_);
    fs::create_directories(dest_);
    std::ofstream(outside_ + "/secret") << "keep";
    std::ofstream(tmp_ / "work/escape") << "keep too";
  }
  void TearDown() override { stop(); }

  // Starts the fake on `tree` and attaches.
  void connect() {
    tree.serve(fake_);
    auto s = Session::start(fake_.client_end());
    ASSERT_TRUE(s) << s.error().to_string();
    session_ = *s;
    auto r = session_->attach("user", "/", 0);
    ASSERT_TRUE(r) << r.error().to_string();
    root_ = std::move(*r);
  }
  void stop() {
    root_ = Fid();
    if (session_) session_->shutdown();
    session_.reset();
    tree.join();
  }

  // Downloads the remote root as dest/top, in bounded time.
  Result<void> get(const TreeCopyOptions& opts) {
    auto fut = std::async(std::launch::async, [&] {
      UniqueFd dfd(::open(dest_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      return get_tree(root_, dfd.get(), "top", "/", opts, rec);
    });
    if (fut.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "copy did not finish";
      session_->shutdown();  // makes every request fail, so the copy ends
    }
    return fut.get();
  }
  static TreeCopyOptions recursive() {
    TreeCopyOptions o;
    o.recursive = true;
    return o;
  }

  // Everything outside dest/top, as it was before the copy.
  void expect_outside_unchanged(const std::map<std::string, std::string>& before) {
    auto after = snapshot(tmp_.path());
    std::erase_if(after, [](const auto& kv) { return kv.first.starts_with("work/dest/top"); });
    auto want = before;
    std::erase_if(want, [](const auto& kv) { return kv.first.starts_with("work/dest/top"); });
    EXPECT_EQ(after, want);
    EXPECT_EQ(read_file(outside_ + "/secret"), "keep");
  }

  Result<Fid> root_clone() const { return root_.clone(); }
  Result<Fid> root_walk(std::string_view path) const { return root_.walk_path(path); }

  FakeTree tree;
  Recorder rec;
  testing::TempDir tmp_;
  std::string outside_, dest_;

 private:
  FakeServer fake_;
  std::shared_ptr<Session> session_;
  Fid root_;
};

TEST_F(TreeCopyTest, CopiesANormalTree) {
  tree.add_entry(0, ".", 0);  // what real servers send: skipped silently
  tree.add_entry(0, "..", 0);
  auto d = tree.add_dir(0, "d", 0750);
  tree.add_file(d, "f", "hello");
  std::string big(200000, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  tree.add_file(0, "big", big, 0600);
  tree.add_file(d, "empty", "");
  tree.add_symlink(0, "rel", "d/f");
  tree.add_symlink(0, "abs", outside_ + "/secret");
  tree.add_node(0, "fifo", S_IFIFO | 0644);
  tree.add_dir(d, "sub");
  connect();
  auto before = snapshot(tmp_.path());
  auto r = get(recursive());
  ASSERT_TRUE(r) << r.error().to_string() << "\n" << rec.all();
  EXPECT_TRUE(rec.errors.empty()) << rec.all();
  std::string top = dest_ + "/top";
  std::map<std::string, std::string> want = {
      {"d", "dir"},
      {"d/f", "file:hello"},
      {"d/empty", "file:"},
      {"d/sub", "dir"},
      {"big", "file:" + describe(big)},
      {"rel", "link:d/f"},
      {"abs", "link:" + outside_ + "/secret"},
  };
  EXPECT_EQ(snapshot(top), want);
  EXPECT_EQ(fs::status(top + "/d").permissions(), fs::perms(0750));
  EXPECT_EQ(fs::status(top + "/big").permissions() & fs::perms(0777), fs::perms(0600));
  ASSERT_EQ(rec.warnings.size(), 1u);
  EXPECT_NE(rec.warnings[0].find("/fifo"), std::string::npos) << rec.warnings[0];
  expect_outside_unchanged(before);
}

TEST_F(TreeCopyTest, InvalidNamesAreErrorsAndNothingIsWrittenForThem) {
  const std::string names[] = {"../escape", "../../outside/secret", "a/b", "", ".",
                               "..",        std::string("x\0y", 3), "/abs"};
  for (const auto& n : names) tree.add_file(0, n, "pwned");
  tree.add_dir(0, "a");
  tree.add_file(0, "ok", "fine");
  connect();
  auto before = snapshot(tmp_.path());
  auto r = get(recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_EQ(rec.errors.size(), std::size(names)) << rec.all();
  for (const auto* quoted : {"\"../escape\"", "\"a/b\"", "\"\"", "\".\"", "\"..\"", "\"x\\x00y\""})
    EXPECT_NE(rec.all().find(quoted), std::string::npos) << quoted << " not named in\n"
                                                         << rec.all();
  std::map<std::string, std::string> want = {{"a", "dir"}, {"ok", "file:fine"}};
  EXPECT_EQ(snapshot(dest_ + "/top"), want);
  expect_outside_unchanged(before);
  EXPECT_EQ(read_file(tmp_ / "work/escape"), "keep too");
}

TEST_F(TreeCopyTest, DuplicateNamesAreErrors) {
  tree.add_file(0, "dup", "first");
  tree.add_file(0, "dup", "second");
  auto d = tree.add_dir(0, "d");
  tree.add_entry(d, "..", 0);
  tree.add_entry(d, "..", 0);  // a directory's parent link, twice
  connect();
  auto r = get(recursive());
  ASSERT_FALSE(r);
  ASSERT_EQ(rec.errors.size(), 2u) << rec.all();
  EXPECT_NE(rec.errors[0].find("\"dup\" twice"), std::string::npos) << rec.all();
  EXPECT_NE(rec.errors[1].find("\"..\""), std::string::npos) << rec.all();
  EXPECT_EQ(read_file(dest_ + "/top/dup"), "first");
}

TEST_F(TreeCopyTest, SymlinkWhereADirectoryGoesIsNeverFollowed) {
  auto sub = tree.add_dir(0, "sub");
  tree.add_file(sub, "secret", "pwned");
  tree.add_file(sub, "new", "pwned");
  tree.add_file(0, "ok", "fine");
  connect();
  fs::create_directories(dest_ + "/top");
  fs::create_directory_symlink(outside_, dest_ + "/top/sub");
  auto before = snapshot(tmp_.path());
  auto r = get(recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ELOOP) << r.error().to_string();
  EXPECT_NE(rec.all().find("top/sub"), std::string::npos) << rec.all();
  EXPECT_EQ(read_file(dest_ + "/top/ok"), "fine");
  before["work/dest/top/ok"] = "file:fine";
  EXPECT_EQ(snapshot(tmp_.path()), before);
}

TEST_F(TreeCopyTest, SymlinkAtTheDestinationRootIsNeverFollowed) {
  tree.add_file(0, "secret", "pwned");
  connect();
  fs::create_directory_symlink(outside_, dest_ + "/top");
  auto before = snapshot(tmp_.path());
  auto r = get(recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(snapshot(tmp_.path()), before);
}

TEST_F(TreeCopyTest, ExistingEntriesNeedForceWhichReplacesOnlyRegularFiles) {
  tree.add_file(0, "link", "pwned");
  tree.add_file(0, "plain", "new");
  tree.add_symlink(0, "link2", "/somewhere");
  tree.add_file(0, "dir", "pwned");
  connect();
  fs::create_directories(dest_ + "/top/dir");
  fs::create_symlink(outside_ + "/secret", dest_ + "/top/link");
  fs::create_symlink(outside_ + "/secret", dest_ + "/top/link2");
  std::ofstream(dest_ + "/top/plain") << "old";
  auto before = snapshot(tmp_.path());

  auto r = get(recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EEXIST);
  EXPECT_EQ(rec.errors.size(), 4u) << rec.all();
  EXPECT_EQ(snapshot(tmp_.path()), before);

  rec = Recorder();
  auto opts = recursive();
  opts.force = true;
  r = get(opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(rec.errors.size(), 3u) << rec.all();  // everything but "plain"
  before["work/dest/top/plain"] = "file:new";
  EXPECT_EQ(snapshot(tmp_.path()), before);
}

TEST_F(TreeCopyTest, CyclingReaddirCookiesAreAnErrorInBoundedTime) {
  // One entry per reply, and after the last one the listing starts again: the cookies go
  // 1, 2, 3, 1, 2, 3, ... and never advance the same offset twice in a row.
  tree.add_file(0, "a", "1");
  tree.add_file(0, "b", "2");
  tree.add_file(0, "c", "3");
  tree.node(0).listing = FakeTree::Listing::Wrap;
  tree.node(0).per_reply = 1;
  connect();
  auto before = snapshot(tmp_.path());
  auto start = std::chrono::steady_clock::now();
  auto r = get(recursive());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_NE(rec.all().find("cycle"), std::string::npos) << rec.all();
  EXPECT_LE(tree.readdirs(), 5u);
  expect_outside_unchanged(before);
  EXPECT_FALSE(fs::exists(dest_ + "/top/a"));
}

TEST_F(TreeCopyTest, ReaddirAllDetectsCyclingCookies) {
  tree.add_file(0, "a", "1");
  tree.add_file(0, "b", "2");
  tree.node(0).listing = FakeTree::Listing::Wrap;
  tree.node(0).per_reply = 1;
  connect();
  auto fut = std::async(std::launch::async, [&]() -> Result<std::vector<DirEntry>> {
    auto d = root_clone();
    if (!d) return std::unexpected(d.error());
    if (auto o = d->lopen(p9::kORdonly | p9::kODirectory); !o) return std::unexpected(o.error());
    return d->readdir_all();
  });
  ASSERT_EQ(fut.wait_for(20s), std::future_status::ready);
  auto r = fut.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
}

TEST_F(TreeCopyTest, EndlessListingHitsTheEntryLimit) {
  auto f = tree.add_file(0, "target", "x");
  tree.node(0).listing = FakeTree::Listing::Endless;
  tree.node(0).endless_node = f;
  connect();
  auto opts = recursive();
  opts.max_entries = 5000;
  auto r = get(opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E2BIG);
  EXPECT_NE(rec.all().find("5000"), std::string::npos) << rec.all();
  EXPECT_FALSE(fs::exists(dest_ + "/top/e0"));
}

TEST_F(TreeCopyTest, EntryLimitCountsTheWholeTree) {
  for (int i = 0; i < 4; ++i) {
    auto d = tree.add_dir(0, "d" + std::to_string(i));
    for (int j = 0; j < 4; ++j) tree.add_file(d, "f" + std::to_string(j), "x");
  }
  connect();
  auto opts = recursive();
  opts.max_entries = 12;  // 4 dirs + 16 files
  auto r = get(opts);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E2BIG);
}

TEST_F(TreeCopyTest, DirectoryContainingItselfHitsTheDepthLimit) {
  tree.add_file(0, "f", "x");
  tree.add_entry(0, "loop", 0);
  connect();
  auto r = get(recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ELOOP);
  EXPECT_NE(rec.all().find("256"), std::string::npos) << rec.all();
  std::string deepest = dest_ + "/top";
  for (int i = 0; i < 256; ++i) deepest += "/loop";
  EXPECT_TRUE(fs::is_directory(deepest));
  EXPECT_FALSE(fs::exists(deepest + "/loop"));

  rec = Recorder();
  auto opts = recursive();
  opts.max_depth = 3;
  opts.force = true;
  fs::remove_all(dest_ + "/top");
  r = get(opts);
  ASSERT_FALSE(r);
  EXPECT_TRUE(fs::exists(dest_ + "/top/loop/loop/loop/f"));
  EXPECT_FALSE(fs::exists(dest_ + "/top/loop/loop/loop/loop"));
}

TEST_F(TreeCopyTest, DirectoryNeedsRecursive) {
  tree.add_file(0, "f", "x");
  connect();
  auto r = get(TreeCopyOptions{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EISDIR);
  EXPECT_FALSE(fs::exists(dest_ + "/top"));
}

TEST_F(TreeCopyTest, GetToPathCopiesIntoAnExistingDirectory) {
  auto d = tree.add_dir(0, "src");
  tree.add_file(d, "f", "hello");
  connect();
  auto src = root_walk("src");
  ASSERT_TRUE(src);
  auto r = get_to_path(*src, "/src", dest_, recursive(), rec);
  ASSERT_TRUE(r) << rec.all();
  EXPECT_EQ(read_file(dest_ + "/src/f"), "hello");
  auto f = root_walk("src/f");
  ASSERT_TRUE(f);
  r = get_to_path(*f, "/src/f", dest_ + "/copy", TreeCopyOptions{}, rec);
  ASSERT_TRUE(r) << rec.all();
  EXPECT_EQ(read_file(dest_ + "/copy"), "hello");
  r = get_to_path(*f, "/src/f", dest_ + "/copy", TreeCopyOptions{}, rec);
  EXPECT_FALSE(r);  // exists, no --force
}

TEST(CheckEntryNameTest, AcceptsPlainNamesOnly) {
  for (std::string_view ok : {"a", "...", ".hidden", "with space", "\xff\xfe", "a\\b"})
    EXPECT_TRUE(check_entry_name(ok)) << ok;
  const std::string_view bad_names[] = {"",  ".",    "..",   "a/b",
                                        "/", "../x", "x/..", std::string_view("a\0b", 3)};
  for (std::string_view bad : bad_names) EXPECT_FALSE(check_entry_name(bad)) << bad;
}

}  // namespace
}  // namespace ninep::client
