// What ls, stat, df and cat show (client/listing.h), against a scripted server (FakeTree).
#include "client/listing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "fake_tree_fixture.h"

namespace ninep::client {
namespace {

using Strings = std::vector<std::string>;

class ListingTest : public testing::FakeTreeTest {
 protected:
  void SetUp() override {
    auto d = tree.add_dir(0, "d");
    tree.add_file(d, "b", "bb");
    tree.add_file(d, ".hidden", "");
    tree.add_dir(d, "a");
    tree.add_symlink(d, "c", "b");
    tree.add_file(0, "f", "hello");
  }
};

TEST_F(ListingTest, ShortFormatSortedDirectoriesMarked) {
  connect();
  auto l = list_path(root, "d", {});
  ASSERT_TRUE(l) << l.error().to_string();
  EXPECT_TRUE(l->contents);
  EXPECT_EQ(l->lines, (Strings{"a/", "b", "c"}));
  ListOptions all;
  all.all = true;
  EXPECT_EQ(list_path(root, "d", all)->lines, (Strings{".hidden", "a/", "b", "c"}));
  ListOptions self;
  self.directory = true;
  auto s = list_path(root, "d", self);
  EXPECT_FALSE(s->contents);
  EXPECT_EQ(s->lines, (Strings{"d"}));
  auto f = list_path(root, "f", {});
  EXPECT_FALSE(f->contents);
  EXPECT_EQ(f->lines, (Strings{"f"}));
}

TEST_F(ListingTest, LongFormatShowsLinkTargets) {
  connect();
  ListOptions o;
  o.long_format = true;
  auto l = list_path(root, "d", o);
  ASSERT_TRUE(l) << l.error().to_string();
  ASSERT_EQ(l->lines.size(), 3u);
  EXPECT_TRUE(l->lines[0].starts_with("drwxr-xr-x")) << l->lines[0];
  EXPECT_TRUE(l->lines[0].ends_with(" a")) << l->lines[0];
  EXPECT_TRUE(l->lines[1].starts_with("-rw-r--r--")) << l->lines[1];
  EXPECT_TRUE(l->lines[2].ends_with(" c -> b")) << l->lines[2];
  EXPECT_TRUE(l->errors.empty());
}

// A server may send any bytes as a name: the JSON stays valid (invalid UTF-8 becomes U+FFFD,
// quotes and control characters are escaped), one object per entry.
TEST_F(ListingTest, JsonIsValidWhateverTheNames) {
  tree.add_file(0, "q\"\n\xff\xfe", "xyz");
  connect();
  ListOptions o;
  o.output = Output::Json;
  o.all = true;
  auto l = list_path(root, "/", o);
  ASSERT_TRUE(l) << l.error().to_string();
  std::vector<std::string> names;
  for (const auto& line : l->lines) {
    ASSERT_EQ(line.find('\n'), std::string::npos) << line;
    auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    names.push_back(j["name"]);
    if (j["name"] == "d") {
      EXPECT_EQ(j["type"], "directory");
    }
  }
  EXPECT_EQ(names, (Strings{"d", "f", "q\"\n\uFFFD\uFFFD"}));
  auto s = stat_path(root, "d/c", Output::Json);
  ASSERT_TRUE(s) << s.error().to_string();
  auto j = nlohmann::json::parse(*s);
  EXPECT_EQ(j["path"], "d/c");
  EXPECT_EQ(j["name"], "c");
  EXPECT_EQ(j["type"], "symlink");
  EXPECT_EQ(j["target"], "b");
}

TEST_F(ListingTest, ErrorsNameThePath) {
  connect();
  EXPECT_EQ(list_path(root, "nope", {}).error().to_string(), "nope: No such file or directory");
  EXPECT_EQ(stat_path(root, "d/nope").error().to_string(), "d/nope: No such file or directory");
  // The fake answers no Tstatfs.
  EXPECT_TRUE(df_path(root, "d", false).error().to_string().starts_with("d: "));
}

TEST_F(ListingTest, EndlessListingIsAnError) {
  auto e = tree.add_dir(0, "endless");
  tree.node(e).listing = testing::FakeTree::Listing::Endless;
  tree.node(e).per_reply = 100;
  connect();
  ListOptions o;
  o.max_entries = 500;
  auto l = list_path(root, "endless", o);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().code, E2BIG);
}

TEST_F(ListingTest, Stat) {
  connect();
  auto s = stat_path(root, "d/c");
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_TRUE(s->starts_with("  File: d/c -> b\n")) << *s;
  EXPECT_NE(s->find("symbolic link"), std::string::npos) << *s;
}

TEST_F(ListingTest, ReadRemoteFile) {
  connect();
  std::string got;
  auto sink = [&](std::span<const std::uint8_t> data) -> Result<void> {
    got.append(data.begin(), data.end());
    return {};
  };
  ASSERT_TRUE(read_remote_file(root, "f", sink));
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(read_remote_file(root, "g", sink).error().to_string(), "g: No such file or directory");
  auto refuse = [](std::span<const std::uint8_t>) -> Result<void> { return fail(EPIPE, "out"); };
  EXPECT_EQ(read_remote_file(root, "f", refuse).error().to_string(), "out: Broken pipe");
}

}  // namespace
}  // namespace ninep::client
