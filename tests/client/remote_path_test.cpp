// Remote path helpers and the path operations of mkdir, mv and ln (client/remote_path.h), and who
// the client commands attach as (client/remote.h).
#include "client/remote_path.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "client/remote.h"
#include "fake_tree_fixture.h"

namespace ninep::client {
namespace {

using Parts = std::pair<std::string, std::string>;

TEST(SplitParent, Forms) {
  EXPECT_EQ(split_parent("a/b/c"), Parts("a/b", "c"));
  EXPECT_EQ(split_parent("c"), Parts("", "c"));
  EXPECT_EQ(split_parent("/c"), Parts("/", "c"));
  EXPECT_EQ(split_parent("a/b/"), Parts("a", "b"));
  EXPECT_EQ(split_parent("a//"), Parts("", "a"));
  EXPECT_EQ(split_parent("/"), Parts("/", ""));
  EXPECT_EQ(split_parent(""), Parts("", ""));
}

TEST(JoinPath, ExactlyOneSlash) {
  EXPECT_EQ(join_path("", "x"), "x");
  EXPECT_EQ(join_path("a", "x"), "a/x");
  EXPECT_EQ(join_path("a/", "x"), "a/x");
  EXPECT_EQ(join_path("a", "/x"), "a/x");
  EXPECT_EQ(join_path("/", "x"), "/x");
}

TEST(About, PrefixesTheMessage) {
  EXPECT_EQ(about("p", Error{ENOENT, ""}).to_string(), "p: No such file or directory");
  EXPECT_EQ(about("p", Error{EIO, "read"}).to_string(), "p: read: Input/output error");
  EXPECT_EQ(about("p", Error{EIO, "read"}).code, EIO);
  EXPECT_EQ(about("", Error{EIO, "read"}).message, "read");
}

TEST(AttachIdentity, Defaults) {
  RemoteOptions o;
  o.uid = 1234;
  o.uname = "alice";
  EXPECT_EQ(attach_identity(o).uname, "alice");
  EXPECT_EQ(attach_identity(o).uid, 1234u);
  o.uname.clear();
  ::setenv("USER", "bob", 1);
  EXPECT_EQ(attach_identity(o).uname, "bob");
  ::unsetenv("USER");
  EXPECT_EQ(attach_identity(o).uname, "1234");
  o.uid.reset();
  EXPECT_EQ(attach_identity(o).uid, ::getuid());
}

class RemotePathTest : public testing::FakeTreeTest {};

TEST_F(RemotePathTest, WalkParent) {
  auto a = tree.add_dir(0, "a");
  tree.add_file(a, "f", "data");
  connect();
  auto p = walk_parent(root, "a/f");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->first.qid().path, a + 1);
  EXPECT_EQ(p->second, "f");
  auto top = walk_parent(root, "new");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->first.qid().path, 1u);
  for (const char* bad : {"", "/", ".", "a/..", "a/."})
    EXPECT_EQ(walk_parent(root, bad).error().code, EINVAL) << bad;
  EXPECT_EQ(walk_parent(root, "missing/f").error().code, ENOENT);
}

TEST_F(RemotePathTest, MkdirWithParentsCreatesWhatIsMissing) {
  auto a = tree.add_dir(0, "a");
  tree.add_file(a, "file", "x");
  connect();
  auto r = make_directory(root, "a/b/c", 0750, 0, true);
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_TRUE(root.walk_path("a/b/c")) << "not created";
  // Existing directories are no error; "." and empty components are skipped.
  EXPECT_TRUE(make_directory(root, "./a//b/c/", 0750, 0, true));
  // A file on the way is, naming the component.
  auto f = make_directory(root, "a/file/x", 0750, 0, true);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, ENOTDIR);
  EXPECT_EQ(f.error().message, "a/file");
  stop();
  auto b = tree.node(a).entries.back().node;
  EXPECT_EQ(tree.node(b).mode, S_IFDIR | 0750u);
}

TEST_F(RemotePathTest, MkdirWithoutParents) {
  tree.add_dir(0, "a");
  connect();
  EXPECT_TRUE(make_directory(root, "a/b", 0755, 0, false));
  auto again = make_directory(root, "a/b", 0755, 0, false);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().to_string(), "a/b: File exists");
  auto missing = make_directory(root, "x/y", 0755, 0, false);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().to_string(), "x/y: No such file or directory");
}

}  // namespace
}  // namespace ninep::client
