// child_path and is_at_or_below: export-relative paths, "" the root.
#include "common/path.h"

#include <gtest/gtest.h>

namespace ninep {
namespace {

TEST(Path, ChildPathJoinsWithOneSlash) {
  EXPECT_EQ(child_path("a", "b"), "a/b");
  EXPECT_EQ(child_path("a/b", "c.txt"), "a/b/c.txt");
}

TEST(Path, ChildPathOfTheRootIsTheName) {
  EXPECT_EQ(child_path("", "a"), "a");
  EXPECT_EQ(child_path("", ""), "");
}

TEST(Path, ChildPathWithoutNameIsTheDirectory) {
  EXPECT_EQ(child_path("a/b", ""), "a/b");
}

TEST(Path, AtOrBelowTheDirectory) {
  EXPECT_TRUE(is_at_or_below("a", "a"));
  EXPECT_TRUE(is_at_or_below("a/b", "a"));
  EXPECT_TRUE(is_at_or_below("a/b/c", "a/b"));
}

TEST(Path, NotBelowASiblingSharingItsPrefix) {
  EXPECT_FALSE(is_at_or_below("ab", "a"));
  EXPECT_FALSE(is_at_or_below("a/bc", "a/b"));
  EXPECT_FALSE(is_at_or_below("a", "a/b"));
  EXPECT_FALSE(is_at_or_below("b/a", "a"));
  EXPECT_FALSE(is_at_or_below("", "a"));
}

TEST(Path, EverythingIsBelowTheRoot) {
  EXPECT_TRUE(is_at_or_below("", ""));
  EXPECT_TRUE(is_at_or_below("a", ""));
  EXPECT_TRUE(is_at_or_below("a/b", ""));
}

}  // namespace
}  // namespace ninep
