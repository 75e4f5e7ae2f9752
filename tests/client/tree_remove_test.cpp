// Recursive removal from a hostile server (FakeTree): whatever listings it sends, removal ends in
// bounded time with a clear error, and nothing is removed under a name that is not a plain name.
#include "client/tree_remove.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <future>

#include "fake_tree_fixture.h"

namespace ninep::client {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

class TreeRemoveTest : public testing::FakeTreeTest {
 protected:
  // remove_path in bounded time.
  Result<void> rm(std::string_view path, TreeRemoveOptions opts) {
    auto fut = std::async(std::launch::async, [&] { return remove_path(root, path, opts); });
    if (fut.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "removal did not finish";
      stop();  // makes every request fail, so the removal ends
    }
    return fut.get();
  }
  static TreeRemoveOptions recursive() {
    TreeRemoveOptions o;
    o.recursive = true;
    return o;
  }
};

TEST_F(TreeRemoveTest, RemovesATreeDepthFirst) {
  auto d = tree.add_dir(0, "d");
  tree.add_file(d, "f", "x");
  auto sub = tree.add_dir(d, "sub");
  tree.add_symlink(sub, "l", "../f");
  tree.add_entry(sub, ".", sub);  // the directory's own links, as real servers send them
  tree.add_entry(sub, "..", d);
  tree.add_file(0, "keep", "y");
  connect();
  auto r = rm("d", recursive());
  ASSERT_TRUE(r) << r.error().to_string();
  stop();
  std::string s = std::to_string(sub), dn = std::to_string(d);
  EXPECT_EQ(tree.unlinked(), (Strings{dn + "/f", s + "/l", dn + "/sub", "0/d"}));
  ASSERT_EQ(tree.node(0).entries.size(), 1u);
  EXPECT_EQ(tree.node(0).entries[0].name, "keep");
}

TEST_F(TreeRemoveTest, FilesDirectoriesAndMissingPaths) {
  auto d = tree.add_dir(0, "d");
  tree.add_file(d, "f", "x");
  tree.add_dir(0, "empty");
  tree.add_file(0, "f", "x");
  connect();
  TreeRemoveOptions plain;
  auto isdir = rm("d", plain);
  ASSERT_FALSE(isdir);
  EXPECT_EQ(isdir.error().code, EISDIR);
  EXPECT_TRUE(isdir.error().message.starts_with("d: use -r")) << isdir.error().message;
  TreeRemoveOptions dirs;
  dirs.empty_dirs = true;
  EXPECT_EQ(rm("d", dirs).error().to_string(), "d: Directory not empty");
  EXPECT_TRUE(rm("empty", dirs));
  EXPECT_TRUE(rm("f", plain));
  EXPECT_EQ(rm("f", plain).error().to_string(), "f: No such file or directory");
  EXPECT_EQ(rm("nope/f", plain).error().to_string(), "nope/f: No such file or directory");
  TreeRemoveOptions force;
  force.force = true;
  EXPECT_TRUE(rm("f", force));
  EXPECT_TRUE(rm("nope/f", force));
  EXPECT_EQ(rm("..", force).error().code, EINVAL);
}

TEST_F(TreeRemoveTest, SelfContainingDirectoryIsAnErrorNotACrash) {
  auto loop = tree.add_dir(0, "loop");
  tree.add_entry(loop, "again", loop);
  connect();
  auto r = rm("loop", recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ELOOP);
  EXPECT_NE(r.error().message.find("deeper than 256 levels"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("contain itself"), std::string::npos) << r.error().message;
  stop();
  EXPECT_EQ(tree.unlinkats(), 0u);
  EXPECT_LE(tree.readdirs(), 2u * 258);
}

TEST_F(TreeRemoveTest, DepthLimit) {
  auto a = tree.add_dir(0, "a");
  auto b = tree.add_dir(a, "b");
  tree.add_dir(b, "c");
  connect();
  TreeRemoveOptions o = recursive();
  o.max_depth = 1;
  auto r = rm("a", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ELOOP);
  EXPECT_TRUE(r.error().message.starts_with("a/b/c: ")) << r.error().message;
  o.max_depth = 2;
  EXPECT_TRUE(rm("a", o));
}

class BadNameTest : public TreeRemoveTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(BadNameTest, IsRefusedBeforeAnythingIsRemoved) {
  auto d = tree.add_dir(0, "d");
  tree.add_file(d, "ok", "x");
  tree.add_entry(d, GetParam(), 0);  // e.g. "../x" naming the export's root
  connect();
  auto r = rm("d", recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_NE(r.error().message.find("invalid entry name"), std::string::npos) << r.error().message;
  EXPECT_TRUE(r.error().message.starts_with("d: ")) << r.error().message;
  stop();
  EXPECT_EQ(tree.unlinkats(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Names, BadNameTest, ::testing::Values("../x", "a/b", "", "x/../.."));

TEST_F(TreeRemoveTest, DotEntriesAreTheDirectorysOwnLinksOnlyOnce) {
  auto d = tree.add_dir(0, "d");
  tree.add_entry(d, "..", 0);
  tree.add_entry(d, "..", 0);
  auto f = tree.add_dir(0, "f");
  tree.add_entry(f, ".", tree.add_file(0, "file", ""));  // "." that is not a directory
  connect();
  auto r = rm("d", recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
  auto g = rm("f", recursive());
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().code, EPROTO);
  stop();
  EXPECT_EQ(tree.unlinkats(), 0u);
}

TEST_F(TreeRemoveTest, DuplicateNamesAreRefused) {
  auto d = tree.add_dir(0, "d");
  auto f = tree.add_file(d, "f", "x");
  tree.add_entry(d, "f", f);
  connect();
  auto r = rm("d", recursive());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPROTO);
  EXPECT_NE(r.error().message.find("\"f\" twice"), std::string::npos) << r.error().message;
}

TEST_F(TreeRemoveTest, EndlessAndCyclingListingsEnd) {
  auto endless = tree.add_dir(0, "endless");
  tree.node(endless).listing = testing::FakeTree::Listing::Endless;
  tree.node(endless).per_reply = 50;
  tree.node(endless).endless_node = tree.add_file(0, "target", "x");
  auto wrap = tree.add_dir(0, "wrap");
  tree.add_file(wrap, "w", "x");
  tree.node(wrap).listing = testing::FakeTree::Listing::Wrap;
  connect();
  TreeRemoveOptions o = recursive();
  o.max_entries = 1000;
  auto r = rm("endless", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E2BIG);
  EXPECT_NE(r.error().message.find("more than 1000 entries"), std::string::npos)
      << r.error().message;
  auto w = rm("wrap", o);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, EPROTO);
  stop();
  EXPECT_EQ(tree.unlinkats(), 0u);
}

TEST_F(TreeRemoveTest, EntryLimitCountsTheWholeTree) {
  auto d = tree.add_dir(0, "d");
  for (int i = 0; i < 3; ++i) {
    auto s = tree.add_dir(d, "s" + std::to_string(i));
    for (int j = 0; j < 3; ++j) tree.add_file(s, "f" + std::to_string(j), "");
  }
  connect();
  TreeRemoveOptions o = recursive();
  o.max_entries = 8;  // 3 + 3 * 3 = 12 entries
  auto r = rm("d", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, E2BIG);
  o.max_entries = 12;
  auto ok = rm("d", o);
  EXPECT_TRUE(ok) << ok.error().to_string();
}

}  // namespace
}  // namespace ninep::client
