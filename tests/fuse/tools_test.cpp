// Real tools on a FUSE mount (git, tar, make, cp -a/diff -r), each compared with the same work on
// a local directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "mounted_fixture.h"

namespace ninep::testing {
namespace {

// A tree of `count` small files in 20 directories, with deterministic contents.
void make_tree(const std::string& root, int count) {
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0) << root;
  for (int d = 0; d < 20; ++d) {
    std::string dir = root + "/dir" + std::to_string(d);
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0) << dir;
  }
  for (int i = 0; i < count; ++i) {
    std::string path =
        root + "/dir" + std::to_string(i % 20) + "/file" + std::to_string(i) + ".txt";
    std::string data =
        "file " + std::to_string(i) + "\n" + std::string(std::size_t(i % 300), 'x') + "\n";
    write_file(path, data);
  }
}

CommandResult run_in(const std::string& dir, const std::string& script) {
  return run_shell("cd " + shell_quote(dir) + " && " + script);
}

// Runs `script` in a local directory and in a directory on the mount; both must succeed with the
// same output.
void expect_same(const std::string& local, const std::string& mounted, const std::string& script) {
  auto l = run_in(local, script);
  ASSERT_EQ(l.status, 0) << "local run failed:\n" << l.output;
  auto m = run_in(mounted, script);
  ASSERT_EQ(m.status, 0) << "run on the mount failed:\n" << m.output;
  EXPECT_EQ(l.output, m.output);
}

class ToolsTest : public MountedTest {};

TEST_P(ToolsTest, GitWorkflowOn2000Files) {
  std::string l = local_ + "/repo", m = mnt_ + "/repo";
  make_tree(l, 2000);
  make_tree(m, 2000);
  const std::string env =
      "export HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e "
      "GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e GIT_AUTHOR_DATE=2020-01-01T00:00:00Z "
      "GIT_COMMITTER_DATE=2020-01-01T00:00:00Z; ";
  const std::string script =
      env +
      "git init -q -b main . && git add -A && git commit -q -m first && "
      "git status --porcelain && "
      "for i in 1 2 3 4 5 6 7 8 9; do echo change >> dir$i/file$i.txt; done && "
      "rm dir10/file10.txt dir11/file11.txt && mkdir newdir && echo new > newdir/new.txt && "
      "git mv dir12/file12.txt dir12/renamed.txt && "
      "git status --porcelain && git diff --stat && "
      "git add -A && git commit -q -m second && git status --porcelain && "
      "git log --format='%H %T %s' && git fsck --no-progress && git gc -q && "
      "git count-objects -v | grep -v size && git checkout -q HEAD~1 -- dir1 && "
      "git status --porcelain && git stash -q && git log --oneline | wc -l";
  expect_same(l, m, script);
}

TEST_P(ToolsTest, TarRoundTripWithChecksums) {
  std::string src = local_ + "/src";
  make_tree(src, 300);
  ASSERT_EQ(run_in(src,
                   "ln -s dir1/file1.txt link && mkdir -p deep/a/b/c && "
                   "head -c 3000000 /dev/urandom > deep/a/b/c/blob && chmod 600 dir2/file2.txt")
                .status,
            0);
  const std::string sums =
      "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum && "
      "find . -printf '%p %y %m %s %l\\n' | LC_ALL=C sort";
  // local tree -> tar on the mount -> extracted on the mount
  ASSERT_EQ(run_shell("tar -C " + shell_quote(src) + " -cf " + shell_quote(mnt_ + "/a.tar") +
                      " . && mkdir " + shell_quote(mnt_ + "/x") + " && tar -C " +
                      shell_quote(mnt_ + "/x") + " -xpf " + shell_quote(mnt_ + "/a.tar"))
                .status,
            0);
  auto want = run_in(src, sums);
  ASSERT_EQ(want.status, 0) << want.output;
  auto got = run_in(mnt_ + "/x", sums);
  ASSERT_EQ(got.status, 0) << got.output;
  EXPECT_EQ(want.output, got.output);
  // tree on the mount -> tar on the mount -> extracted locally
  ASSERT_EQ(
      run_shell("tar -C " + shell_quote(mnt_ + "/x") + " -cf " + shell_quote(mnt_ + "/b.tar") +
                " . && mkdir " + shell_quote(local_ + "/y") + " && tar -C " +
                shell_quote(local_ + "/y") + " -xpf " + shell_quote(mnt_ + "/b.tar"))
          .status,
      0);
  auto back = run_in(local_ + "/y", sums);
  EXPECT_EQ(want.output, back.output);
  // The archive itself reads back identically through the mount and on the host.
  auto a = run_shell("sha256sum < " + shell_quote(mnt_ + "/a.tar"));
  auto b = run_shell("sha256sum < " + shell_quote(export_ + "/a.tar"));
  EXPECT_EQ(a.output, b.output);
}

TEST_P(ToolsTest, MakeBuildsAndRebuildsACProgram) {
  const std::string setup =
      "mkdir proj && cd proj && "
      "printf 'int add(int a, int b);\\n' > util.h && "
      "printf '#include \"util.h\"\\nint add(int a, int b) { return a + b; }\\n' > util.c && "
      "printf '#include <stdio.h>\\n#include \"util.h\"\\nint main(void) { int s = 0; "
      "for (int i = 0; i < 100; ++i) s = add(s, i); printf(\"sum=%%d\\\\n\", s); return 0; }\\n' "
      "> main.c && "
      "printf 'prog: main.o util.o\\n\\tcc -o prog main.o util.o\\n%%.o: %%.c util.h\\n\\tcc -O1 "
      "-c $< -o $@\\nclean:\\n\\trm -f prog *.o\\n' > Makefile";
  const std::string build =
      "cd proj && make 2>&1 && ./prog && "
      // make decides by modification times: a newer source must rebuild exactly what depends on
      // it (times in the past: no clock skew warnings)
      "touch -d '2020-01-01 00:00:00' Makefile *.c *.h *.o prog && "
      "touch -d '2021-01-01 00:00:00' util.c && make 2>&1 && ./prog && make 2>&1 && "
      "make clean && ls";
  ASSERT_EQ(run_in(local_, setup).status, 0);
  ASSERT_EQ(run_in(mnt_, setup).status, 0);
  expect_same(local_, mnt_, build);
  auto out = run_in(mnt_, "cd proj && make -s && ./prog");
  EXPECT_EQ(out.output, "sum=4950\n");
}

TEST_P(ToolsTest, CopyAndDiffTreeWithOddFiles) {
  std::string src = local_ + "/src";
  std::string long_name(255, 'n');
  std::string long_dir(255, 'd');
  const std::string build =
      "mkdir src && cd src && mkdir -p 'dir with spaces/inner' empty_dir " + long_dir +
      " && echo a > 'dir with spaces/file with spaces.txt' && "
      "echo unicode > 'ünïcödé-ファイル-ñ.txt' && echo long > " +
      long_name + " && echo inlong > " + long_dir + "/" + long_name +
      " && : > empty && truncate -s 16M sparse && "
      "printf 'middle' | dd of=sparse bs=1 seek=8000000 conv=notrunc 2>/dev/null && "
      "printf 'tail' | dd of=sparse bs=1 seek=16777000 conv=notrunc 2>/dev/null && "
      "echo target > target && ln -s target rel_link && ln -s 'dir with spaces' dir_link && "
      "ln -s does/not/exist dangling && ln -s /etc/hostname abs_link && "
      "ln target hard1 && ln target 'dir with spaces/hard2' && "
      "echo x > mode600 && chmod 600 mode600 && echo y > mode755 && chmod 755 mode755 && "
      "echo z > mode444 && chmod 444 mode444 && touch -d '2000-01-02 03:04:05' mode444 && "
      "touch -h -d '2001-01-01' rel_link";
  ASSERT_EQ(run_in(local_, build).status, 0);
  const std::string meta =
      "find . -printf '%p|%y|%m|%l\\n' | LC_ALL=C sort && "
      "find . ! -type d -printf '%p %s %n\\n' | LC_ALL=C sort && "
      "find . ! -type l -printf '%p %T@\\n' | LC_ALL=C sort && "
      "stat -c '%i' target hard1 'dir with spaces/hard2' | uniq | wc -l";
  auto want = run_in(src, meta);
  ASSERT_EQ(want.status, 0) << want.output;

  auto cp = run_shell("cp -a " + shell_quote(src) + " " + shell_quote(mnt_ + "/copy"));
  ASSERT_EQ(cp.status, 0) << cp.output;
  auto diff =
      run_shell("diff -r --no-dereference " + shell_quote(src) + " " + shell_quote(mnt_ + "/copy"));
  EXPECT_EQ(diff.status, 0) << diff.output;
  auto got = run_in(mnt_ + "/copy", meta);
  ASSERT_EQ(got.status, 0) << got.output;
  EXPECT_EQ(want.output, got.output);

  // And back from the mount to a local directory.
  cp = run_shell("cp -a " + shell_quote(mnt_ + "/copy") + " " + shell_quote(local_ + "/back"));
  ASSERT_EQ(cp.status, 0) << cp.output;
  diff = run_shell("diff -r --no-dereference " + shell_quote(src) + " " +
                   shell_quote(local_ + "/back"));
  EXPECT_EQ(diff.status, 0) << diff.output;
  auto back = run_in(local_ + "/back", meta);
  EXPECT_EQ(want.output, back.output);
  // What the server stored is what was copied.
  diff = run_shell("diff -r --no-dereference " + shell_quote(src) + " " +
                   shell_quote(export_ + "/copy"));
  EXPECT_EQ(diff.status, 0) << diff.output;
}

INSTANTIATE_TEST_SUITE_P(Servers, ToolsTest, ::testing::Values(ServerKind::Ours, ServerKind::Diod),
                         ServerKindName);

}  // namespace
}  // namespace ninep::testing
