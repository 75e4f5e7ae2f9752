// The `ninep` client commands, run as a user would (the built binary) against diod.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include <filesystem>
#include <random>
#include <set>

#include "diod_fixture.h"
#include "temp_dir.h"

extern char** environ;

namespace ninep::client {
namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int code = -1;
  std::string out, err;
};

class CmdTest : public DiodTest {
 protected:
  void SetUp() override {
    DiodTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto d = testing::TempDir::create("ninep-cmd-");
    ASSERT_TRUE(d);
    local_ = std::move(*d);
  }

  // Runs `ninep CMD [args...]` with the connection options filled in where "@" appears.
  CmdResult ninep(std::vector<std::string> args) {
    std::vector<std::string> argv = {NINEP_BINARY};
    for (auto& a : args) {
      if (a == "@") {
        argv.push_back("--aname");
        argv.push_back(diod_->aname());
        argv.push_back(diod_->address());
      } else {
        argv.push_back(a);
      }
    }
    return run(argv);
  }

  // `jq -r FILTER` over `json`: its standard output.
  CmdResult jq(const std::string& filter, const std::string& json) {
    const std::string in = local_ / ".jq-input";
    write_host_file(in, json);
    return run({"/usr/bin/jq", "-r", filter}, in);
  }

  // Runs argv[0] (a path) with standard input from `in`.
  CmdResult run(std::vector<std::string> argv, const std::string& in = "/dev/null") {
    std::string out = local_ / ".stdout", err = local_ / ".stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_t pid;
    CmdResult r;
    int rc = ::posix_spawn(&pid, cargv[0], &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      ADD_FAILURE() << "cannot run " << argv[0] << ": " << std::strerror(rc);
      return r;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_host_file(out);
    r.err = read_host_file(err);
    return r;
  }

  testing::TempDir local_;
};

#define EXPECT_OK(run) \
  EXPECT_EQ((run).code, 0) << "stderr: " << (run).err << "\nstdout: " << (run).out

void make_tree(const std::string& root) {
  fs::create_directories(root + "/a/b/c");
  fs::create_directories(root + "/empty-dir");
  std::mt19937 rng(7);
  auto file = [&](const std::string& p, std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    std::ofstream(root + "/" + p, std::ios::binary) << s;
  };
  file("top.bin", 3 * 1024 * 1024 + 17);  // many msize chunks
  file("a/one", 1);
  file("a/b/two", 70000);
  file("a/b/c/empty", 0);
  file("name with spaces", 10);
  fs::permissions(root + "/a/one", fs::perms(0600));
  fs::create_symlink("a/b/two", root + "/link-to-two");
}

std::string file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Same names, types, modes, contents and link targets.
void expect_same_tree(const std::string& a, const std::string& b) {
  std::set<std::string> names_a, names_b;
  for (auto& e : fs::recursive_directory_iterator(a)) names_a.insert(fs::relative(e.path(), a));
  for (auto& e : fs::recursive_directory_iterator(b)) names_b.insert(fs::relative(e.path(), b));
  EXPECT_EQ(names_a, names_b);
  for (const auto& n : names_a) {
    if (!names_b.count(n)) continue;
    auto pa = a + "/" + n, pb = b + "/" + n;
    auto sa = fs::symlink_status(pa), sb = fs::symlink_status(pb);
    EXPECT_EQ(sa.type(), sb.type()) << n;
    if (fs::is_symlink(sa)) {
      EXPECT_EQ(fs::read_symlink(pa), fs::read_symlink(pb)) << n;
    } else {
      EXPECT_EQ(sa.permissions(), sb.permissions()) << n;
      if (fs::is_regular_file(sa)) {
        EXPECT_TRUE(file_content(pa) == file_content(pb)) << n << " differs";
      }
    }
  }
}

TEST_F(CmdTest, LsListsSortedEntriesAndMarksDirectories) {
  write_host_file(host("b"), "");
  write_host_file(host(".hidden"), "");
  ASSERT_EQ(::mkdir(host("a").c_str(), 0755), 0);
  auto r = ninep({"ls", "@"});
  EXPECT_OK(r);
  EXPECT_EQ(r.out, "a/\nb\n");
  auto all = ninep({"ls", "-a", "@", "/"});
  EXPECT_OK(all);
  EXPECT_NE(all.out.find(".hidden\n"), std::string::npos) << all.out;
}

TEST_F(CmdTest, LsLongShowsModeSizeAndLinkTarget) {
  write_host_file(host("f"), "12345");
  ASSERT_EQ(::chmod(host("f").c_str(), 0640), 0);
  ASSERT_EQ(::symlink("f", host("l").c_str()), 0);
  auto r = ninep({"ls", "-l", "@"});
  EXPECT_OK(r);
  EXPECT_NE(r.out.find("-rw-r----- "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 5 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("l -> f"), std::string::npos) << r.out;
}

TEST_F(CmdTest, PutAndGetRoundTripATree) {
  std::string src = local_ / "src";
  make_tree(src);
  auto put = ninep({"put", "-r", "--progress", "@", src, "/"});
  EXPECT_OK(put);
  EXPECT_NE(put.err.find("files"), std::string::npos) << "no progress shown: " << put.err;
  expect_same_tree(src, host("src"));
  std::string back = local_ / "back";
  ASSERT_EQ(::mkdir(back.c_str(), 0755), 0);
  auto get = ninep({"get", "-r", "@", "/src", back});
  EXPECT_OK(get);
  EXPECT_TRUE(get.err.empty()) << "progress printed although stderr is not a terminal: " << get.err;
  expect_same_tree(src, back + "/src");
  // A single file to an explicit name, both ways.
  auto put1 = ninep({"put", "@", src + "/a/b/two", "/copy"});
  EXPECT_OK(put1);
  EXPECT_EQ(read_host_file(host("copy")), read_host_file(src + "/a/b/two"));
  auto get1 = ninep({"get", "@", "/copy", local_ / "copy"});
  EXPECT_OK(get1);
  EXPECT_EQ(read_host_file(local_ / "copy"), read_host_file(src + "/a/b/two"));
}

TEST_F(CmdTest, CatStatReadlinkDf) {
  write_host_file(host("f"), "hello\n");
  ASSERT_EQ(::symlink("f", host("l").c_str()), 0);
  auto cat = ninep({"cat", "@", "f", "/f"});
  EXPECT_OK(cat);
  EXPECT_EQ(cat.out, "hello\nhello\n");
  auto st = ninep({"stat", "@", "f"});
  EXPECT_OK(st);
  EXPECT_NE(st.out.find("Size: 6"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("regular file"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(std::to_string(host_lstat(host("f")).st_ino)), std::string::npos);
  auto rl = ninep({"readlink", "@", "l"});
  EXPECT_OK(rl);
  EXPECT_EQ(rl.out, "f\n");
  auto df = ninep({"df", "@"});
  EXPECT_OK(df);
  EXPECT_NE(df.out.find("1K-blocks"), std::string::npos) << df.out;
}

// --json: one object per line, read here with jq as a script would.
TEST_F(CmdTest, JsonOutputReadsWithJq) {
  write_host_file(host("f"), "hello\n");
  ASSERT_EQ(::chmod(host("f").c_str(), 04751), 0);
  ASSERT_EQ(::symlink("f", host("l").c_str()), 0);
  ASSERT_EQ(::mkdir(host("d").c_str(), 0700), 0);
  write_host_file(host("d/inner"), "");
  auto ls = ninep({"ls", "--json", "@", "/"});
  EXPECT_OK(ls);
  EXPECT_EQ(jq(".name + \" \" + .type", ls.out).out, "d directory\nf file\nl symlink\n");
  EXPECT_EQ(jq("select(.type == \"symlink\") | .target", ls.out).out, "f\n");
  EXPECT_EQ(
      jq("select(.name == \"f\") | \"\\(.size) \\(.mode) \\(.mode_text) \\(.ino)\"", ls.out).out,
      "6 2537 -rwsr-x--x " + std::to_string(host_lstat(host("f")).st_ino) + "\n");
  EXPECT_EQ(jq(".path", ninep({"ls", "--json", "@", "d", "f"}).out).out, "d/inner\nf\n");

  auto st = ninep({"stat", "--json", "@", "f", "d"});
  EXPECT_OK(st);
  EXPECT_EQ(jq("\"\\(.path) \\(.type) \\(.nlink) \\(.mtime)\"", st.out).out,
            "f file 1 " + std::to_string(host_lstat(host("f")).st_mtim.tv_sec) +
                "\nd directory 2 " + std::to_string(host_lstat(host("d")).st_mtim.tv_sec) + "\n");

  auto df = ninep({"df", "--json", "@"});
  EXPECT_OK(df);
  auto sizes = jq(
      "\"\\(.path) \\(.size > 0) \\(.size == .bsize * .blocks) \\(.used + .available <= .size)\"",
      df.out);
  EXPECT_OK(sizes);
  EXPECT_EQ(sizes.out, "/ true true true\n");
}

TEST_F(CmdTest, MkdirRmMvLn) {
  EXPECT_OK(ninep({"mkdir", "-p", "-m", "750", "@", "x/y/z"}));
  EXPECT_EQ(host_lstat(host("x/y/z")).st_mode & 0777, 0750u);
  write_host_file(host("x/y/z/f"), "data");
  EXPECT_OK(ninep({"mv", "@", "x/y/z/f", "x/g"}));
  EXPECT_EQ(read_host_file(host("x/g")), "data");
  EXPECT_OK(ninep({"mv", "@", "x/g", "x/y"}));  // into an existing directory
  EXPECT_EQ(read_host_file(host("x/y/g")), "data");
  EXPECT_OK(ninep({"ln", "-s", "@", "y/g", "x/sym"}));
  char buf[64];
  ssize_t n = ::readlink(host("x/sym").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "y/g");
  EXPECT_OK(ninep({"ln", "@", "x/y/g", "x/hard"}));
  EXPECT_EQ(host_lstat(host("x/hard")).st_ino, host_lstat(host("x/y/g")).st_ino);
  auto rmdir = ninep({"rm", "@", "x"});
  EXPECT_EQ(rmdir.code, 1);
  EXPECT_NE(rmdir.err.find("x: "), std::string::npos) << rmdir.err;
  EXPECT_NE(rmdir.err.find("Is a directory"), std::string::npos) << rmdir.err;
  EXPECT_OK(ninep({"rm", "@", "x/hard"}));
  EXPECT_FALSE(host_exists(host("x/hard")));
  EXPECT_OK(ninep({"rm", "-r", "@", "x"}));
  EXPECT_FALSE(host_exists(host("x")));
  EXPECT_OK(ninep({"rm", "-f", "@", "x"}));
}

TEST_F(CmdTest, Xattr) {
  write_host_file(host("f"), "");
  EXPECT_OK(ninep({"xattr", "--set", "user.color", "--value", "blue", "@", "f"}));
  char buf[16];
  ssize_t n = ::getxattr(host("f").c_str(), "user.color", buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "blue");
  auto list = ninep({"xattr", "@", "f"});
  EXPECT_OK(list);
  EXPECT_NE(list.out.find("user.color=\"blue\""), std::string::npos) << list.out;
  auto get = ninep({"xattr", "--get", "user.color", "@", "f"});
  EXPECT_OK(get);
  EXPECT_EQ(get.out, "blue");
  EXPECT_OK(ninep({"xattr", "--remove", "user.color", "@", "f"}));
  EXPECT_LT(::getxattr(host("f").c_str(), "user.color", buf, sizeof buf), 0);
}

TEST_F(CmdTest, ErrorsNameThePathAndExitWithOne) {
  auto missing = ninep({"ls", "@", "/nope"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "ninep ls: /nope: No such file or directory\n");
  auto cat = ninep({"cat", "@", "missing"});
  EXPECT_EQ(cat.code, 1);
  EXPECT_NE(cat.err.find("missing: No such file or directory"), std::string::npos) << cat.err;
  std::string src = local_ / "dir";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  auto put = ninep({"put", "@", src, "/"});
  EXPECT_EQ(put.code, 1);
  EXPECT_NE(put.err.find("Is a directory"), std::string::npos) << put.err;
  auto refused = ninep({"ls", "unix:" + (local_ / "no.sock")});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("no.sock"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("No such file or directory"), std::string::npos) << refused.err;
  auto bad = ninep({"ls", "udp:1.2.3.4:5"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("unknown transport 'udp'"), std::string::npos) << bad.err;
  auto aname = ninep({"ls", "--aname", "/not/exported", diod_->address()});
  EXPECT_EQ(aname.code, 1);
  EXPECT_NE(aname.err.find("/not/exported"), std::string::npos) << aname.err;
}

TEST_F(CmdTest, UsageErrorsExitWithTwo) {
  auto none = ninep({"ls"});
  EXPECT_EQ(none.code, 2);
  auto extra = ninep({"mv", "@", "only-one"});
  EXPECT_EQ(extra.code, 2);
  auto flag = ninep({"ls", "--no-such-flag", "@"});
  EXPECT_EQ(flag.code, 2);
  auto help = ninep({"put", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("ADDRESS"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace ninep::client
