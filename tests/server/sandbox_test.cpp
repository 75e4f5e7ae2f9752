// `ninep serve --sandbox`, through the binary: what the server process can reach once it runs.
// localfs's own path checks are switched off (--test-unchecked-paths: walks follow symlinks), so
// these tests show what the sandbox alone stops; the same requests without the sandbox escape
// (WithoutTheSandboxTheUncheckedServerEscapes), which is what makes the others meaningful.
#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "client/session.h"
#include "harness.h"
#include "server/daemon/sandbox.h"
#include "server_process.h"

#ifndef NINEP_BINARY
#error "NINEP_BINARY must name the ninep program"
#endif

namespace ninep::servertest {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// A tree with the ways out a hostile guest (or a bug) could try: an absolute symlink to a host
// file, a relative one climbing far above the export, one to the host's /proc.
void plant_escapes(const std::string& dir) {
  write_file(dir + "/file", "inside\n");
  ASSERT_EQ(::symlink("/etc/passwd", (dir + "/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../../..", (dir + "/up").c_str()), 0);
  ASSERT_EQ(::symlink("/proc/1/root", (dir + "/init_root").c_str()), 0);
}

class Sandboxed : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, and running as nobody)";
    auto t = testing::TempDir::create("ninep-sandbox-");
    ASSERT_TRUE(t) << t.error().to_string();
    tmp_ = std::move(*t);
    // World-searchable, so that a server running as nobody can reach its export and socket.
    ::chmod(tmp_.path().c_str(), 0755);
    export_ = tmp_.path() + "/export";
    fs::create_directories(export_);
    plant_escapes(export_);
    socket_ = tmp_.path() + "/sock";
  }

  // Starts `ninep serve EXPORT --test-unchecked-paths ARGS...`, as `uid` when not root, without
  // the capabilities in `drop_caps` (setpriv --bounding-set names) when given.
  void start(std::vector<std::string> args, uid_t uid = 0, const std::string& drop_caps = "") {
    std::vector<std::string> argv;
    if (!drop_caps.empty()) {
      argv = {testing::find_program("setpriv"), "--bounding-set", drop_caps};
      ASSERT_FALSE(argv[0].empty()) << "setpriv (util-linux) is not installed";
    } else if (uid != 0) {
      for (const auto& p : {tmp_.path(), export_}) ASSERT_EQ(::chown(p.c_str(), uid, uid), 0);
      argv = {testing::find_program("setpriv"), "--reuid=" + std::to_string(uid),
              "--regid=" + std::to_string(uid), "--clear-groups"};
      ASSERT_FALSE(argv[0].empty()) << "setpriv (util-linux) is not installed";
    }
    argv.insert(argv.end(), {NINEP_BINARY, "serve", export_, "--test-unchecked-paths", "--listen",
                             "unix:" + socket_});
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = testing::ServerProcess::start({argv, socket_, tmp_.path() + "/server.log"});
    ASSERT_TRUE(p) << p.error().to_string();
    server_ = std::move(*p);
    auto s = client::Session::connect("unix:" + socket_);
    ASSERT_TRUE(s) << s.error().to_string();
    session_ = *s;
    auto root = session_->attach("root", "", 0);
    ASSERT_TRUE(root) << root.error().to_string() << "\n" << server_.log();
    root_.emplace(std::move(*root));
  }

  // The names in the server process's "/", read from outside through /proc/PID/root (but the
  // /proc that builds with AddressSanitizer keep).
  std::set<std::string> server_root() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(server_.pid()) + "/root"))
      names.insert(e.path().filename().string());
    if (server::kSandboxKeepsProc) names.erase("proc");
    return names;
  }

  // The content of `path` read through the export, or the error.
  Result<std::string> read_through(std::string_view path) {
    auto f = root_->walk_path(path);
    if (!f) return std::unexpected(f.error());
    if (auto o = f->lopen(O_RDONLY); !o) return std::unexpected(o.error());
    std::string out(4096, '\0');
    auto n = f->read(0, std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size()));
    if (!n) return std::unexpected(n.error());
    out.resize(*n);
    return out;
  }

  std::set<std::string> listing(std::string_view path) {
    std::set<std::string> names;
    auto f = root_->walk_path(path);
    EXPECT_TRUE(f) << f.error().to_string();
    if (!f || !f->lopen(O_RDONLY | O_DIRECTORY)) return names;
    auto entries = f->readdir_all();
    EXPECT_TRUE(entries) << entries.error().to_string();
    if (entries)
      for (const auto& e : *entries)
        if (e.name != "." && e.name != "..") names.insert(e.name);
    return names;
  }

  // Every way out leads nowhere, and the export itself still works.
  void expect_no_way_out() {
    auto passwd = read_through("passwd");
    EXPECT_FALSE(passwd) << "read the host's /etc/passwd:\n" << *passwd;
    if (!passwd) {
      EXPECT_EQ(passwd.error().code, ENOENT);
    }
    EXPECT_FALSE(root_->walk_path("up/etc")) << "the host's /etc is reachable";
    EXPECT_FALSE(root_->walk_path("init_root/etc")) << "/proc/1/root is reachable";
    auto inside = read_through("file");
    ASSERT_TRUE(inside) << inside.error().to_string();
    EXPECT_EQ(*inside, "inside\n");
  }

  testing::TempDir tmp_;
  std::string export_, socket_;
  testing::ServerProcess server_;
  std::shared_ptr<client::Session> session_;
  std::optional<client::Fid> root_;
};

TEST_F(Sandboxed, WithoutTheSandboxTheUncheckedServerEscapes) {
  start({"--sandbox", "none"});
  auto passwd = read_through("passwd");
  ASSERT_TRUE(passwd) << passwd.error().to_string();
  EXPECT_NE(passwd->find("root:"), std::string::npos);
  EXPECT_TRUE(root_->walk_path("up/etc"));
}

TEST_F(Sandboxed, ByDefaultNoSymlinkLeadsOutAndTheRootHoldsOnlyTheExports) {
  start({"-v"});
  EXPECT_NE(server_.log().find("sandbox: namespace"), std::string::npos) << server_.log();
  expect_no_way_out();
  // Climbing out of the export lands in the sandbox's root: the export's mount point, nothing else.
  auto up = listing("up");
  if (server::kSandboxKeepsProc) up.erase("proc");
  EXPECT_EQ(up, std::set<std::string>{"0"});
  EXPECT_EQ(server_root(), std::set<std::string>{"0"});
}

TEST_F(Sandboxed, EveryExportIsInTheRootAndServed) {
  const std::string second = tmp_.path() + "/second";
  fs::create_directories(second);
  write_file(second + "/other", "second export\n");
  start({"--export", "two=" + second});
  EXPECT_EQ(server_root(), (std::set<std::string>{"0", "1"}));
  expect_no_way_out();
  auto s = client::Session::connect("unix:" + socket_);
  ASSERT_TRUE(s) << s.error().to_string();
  auto two = (*s)->attach("root", "two", 0);
  ASSERT_TRUE(two) << two.error().to_string();
  auto f = two->walk_path("other");
  ASSERT_TRUE(f) << f.error().to_string();
  // Creating and writing work as before (as the squashed identity, where it may).
  ASSERT_EQ(::chmod(export_.c_str(), 0777), 0);
  auto created = root_->clone();
  ASSERT_TRUE(created);
  ASSERT_TRUE(created->lcreate("new", O_WRONLY, 0644, 0));
  const std::string data = "written in the sandbox";
  ASSERT_TRUE(created->write(
      0, std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size())));
  EXPECT_EQ(read_file(export_ + "/new"), data);
}

TEST_F(Sandboxed, AnUnprivilegedServerUsesAUserNamespace) {
  start({"-v"}, kNobody);
  EXPECT_NE(server_.log().find("sandbox: namespace (with a user namespace)"), std::string::npos)
      << server_.log();
  EXPECT_NE(server_.log().find("capabilities: none"), std::string::npos) << server_.log();
  expect_no_way_out();
  EXPECT_EQ(server_root(), std::set<std::string>{"0"});
  auto created = root_->clone();
  ASSERT_TRUE(created);
  ASSERT_TRUE(created->lcreate("mine", O_WRONLY, 0644, 0)) << server_.log();
  struct stat st {};
  ASSERT_EQ(::stat((export_ + "/mine").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
}

TEST_F(Sandboxed, ChrootKeepsAbsoluteSymlinksInsideTheExport) {
  start({"--sandbox", "chroot", "-v"});
  EXPECT_NE(server_.log().find("sandbox: chroot into " + export_), std::string::npos)
      << server_.log();
  expect_no_way_out();
  EXPECT_EQ(listing("up"), (std::set<std::string>{"file", "passwd", "up", "init_root"}));
}

TEST_F(Sandboxed, TheSocketFileIsRemovedAtExit) {
  start({});
  ASSERT_TRUE(fs::exists(socket_));
  session_->shutdown();
  server_.stop();
  EXPECT_FALSE(fs::exists(socket_));
}

// Where namespaces are not allowed (here: no CAP_SYS_ADMIN), the default falls back to chroot for
// root, and says why; asked for explicitly, namespace is an error at start.
TEST_F(Sandboxed, WithoutNamespacesTheDefaultFallsBackToChroot) {
  start({}, 0, "-sys_admin");
  EXPECT_NE(server_.log().find("warning: sandbox: new mount namespace"), std::string::npos)
      << server_.log();
  EXPECT_NE(server_.log().find("sandbox: chroot instead"), std::string::npos) << server_.log();
  expect_no_way_out();
}

TEST_F(Sandboxed, AnExplicitNamespaceThatCannotBeHadIsAnError) {
  const std::string log = tmp_.path() + "/refused.log";
  const std::string cmd = testing::find_program("setpriv") + " --bounding-set -sys_admin " +
                          NINEP_BINARY + " serve " + export_ +
                          " --sandbox namespace --listen unix:" + socket_ + " 2>" + log;
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 1);
  EXPECT_NE(read_file(log).find("sandbox: new mount namespace"), std::string::npos)
      << read_file(log);
  EXPECT_FALSE(fs::exists(socket_));
}

TEST_F(Sandboxed, ABadModeIsAUsageError) {
  const std::string cmd = std::string(NINEP_BINARY) + " serve " + export_ +
                          " --sandbox jail --listen unix:" + socket_ + " 2>/dev/null";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
}

// A capability set of the server's main thread ("CapPrm", "CapBnd", ...) from /proc/PID/status.
std::uint64_t capability_set(pid_t pid, const std::string& which) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const std::size_t at = status.find(which + ":");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(status.substr(at + which.size() + 1), nullptr, 16);
}

std::uint64_t mask_of(std::initializer_list<int> caps) {
  std::uint64_t m = 0;
  for (int c : caps) m |= 1ull << c;
  return m;
}

TEST_F(Sandboxed, ARootServerKeepsOnlyTheCapabilitiesItsIdentitiesNeed) {
  const std::uint64_t identity =
      mask_of({CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_SETUID,
               CAP_SETGID, CAP_MKNOD});
  start({"-v"});
  EXPECT_NE(server_.log().find("capabilities: chown,dac_override,dac_read_search,fowner,fsetid,"
                               "setuid,setgid,mknod\n"),
            std::string::npos)
      << server_.log();
  for (const char* set : {"CapPrm", "CapBnd", "CapEff"})
    EXPECT_EQ(capability_set(server_.pid(), set), identity) << set;
  EXPECT_EQ(capability_set(server_.pid(), "CapInh"), 0u);
  EXPECT_EQ(capability_set(server_.pid(), "CapAmb"), 0u);
}

TEST_F(Sandboxed, AllXattrNamespacesAlsoKeepSysAdminAndSetfcap) {
  start({"--xattr-namespaces", "all"});
  const std::uint64_t prm = capability_set(server_.pid(), "CapPrm");
  EXPECT_NE(prm & (1ull << CAP_SYS_ADMIN), 0u);
  EXPECT_NE(prm & (1ull << CAP_SETFCAP), 0u);
  EXPECT_EQ(prm & (1ull << CAP_NET_ADMIN), 0u);
  EXPECT_EQ(capability_set(server_.pid(), "CapBnd"), prm);
}

// The user database is copied before the sandbox hides /etc: a user whose primary group differs
// from their uid may still write where only that group may.
TEST_F(Sandboxed, UsersAreLookedUpInTheSandbox) {
  const passwd* user = nullptr;
  ::setpwent();
  while ((user = ::getpwent()) != nullptr)
    if (user->pw_uid != 0 && user->pw_gid != 0 && user->pw_gid != user->pw_uid) break;
  ::endpwent();
  if (user == nullptr) GTEST_SKIP() << "no user whose gid differs from its uid";
  const uid_t uid = user->pw_uid;
  const gid_t gid = user->pw_gid;
  const std::string dir = export_ + "/group_only";
  ASSERT_EQ(::mkdir(dir.c_str(), 0770), 0);
  ASSERT_EQ(::chown(dir.c_str(), 0, gid), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  start({});
  auto s = client::Session::connect("unix:" + socket_);
  ASSERT_TRUE(s) << s.error().to_string();
  auto as_user = (*s)->attach("", "", uid);
  ASSERT_TRUE(as_user) << as_user.error().to_string();
  auto d = as_user->walk_path("group_only");
  ASSERT_TRUE(d) << d.error().to_string();
  ASSERT_TRUE(d->lcreate("theirs", O_WRONLY, 0644, gid)) << server_.log();
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/theirs").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_gid, gid);
}

}  // namespace
}  // namespace ninep::servertest
