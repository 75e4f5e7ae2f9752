// The pieces `ninep serve` and `ninep server9p` are made of, without spawning the binary: the
// command-line grammars, the settings, and a daemon's lifecycle (its stop conditions).
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "client/session.h"
#include "server/daemon/daemon.h"
#include "server/daemon/export_spec.h"
#include "server/daemon/settings.h"
#include "temp_dir.h"
#include "transport/address.h"
#include "transport/socket.h"

namespace ninep::server {
namespace {

using namespace std::chrono_literals;

TEST(ExportSpec, NameDefaultsToTheBaseName) {
  auto e = parse_export("/srv/projects/");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "projects");
  EXPECT_EQ(e->path, "/srv/projects/");
  EXPECT_FALSE(e->read_only);
  auto n = parse_export("src=/srv/src,ro");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->name, "src");
  EXPECT_EQ(n->path, "/srv/src");
  EXPECT_TRUE(n->read_only);
  auto rw = parse_export("a=/x,rw");
  ASSERT_TRUE(rw);
  EXPECT_EQ(rw->path, "/x");
  EXPECT_FALSE(rw->read_only);
  EXPECT_FALSE(parse_export("name="));
}

TEST(ExportSpec, PolicyOptionInAnyOrderWithRo) {
  for (const char* text : {"g=/srv/g,policy=/etc/p.bpf,ro", "g=/srv/g,ro,policy=/etc/p.bpf"}) {
    auto e = parse_export(text);
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->name, "g") << text;
    EXPECT_EQ(e->path, "/srv/g") << text;
    EXPECT_EQ(e->policy_file, "/etc/p.bpf") << text;
    EXPECT_TRUE(e->read_only) << text;
  }
  auto plain = parse_export("/srv/a,b");  // a comma in a path is part of it
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->path, "/srv/a,b");
  EXPECT_TRUE(plain->policy_file.empty());
  auto empty = parse_export("g=/srv/g,policy=");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, EINVAL);
}

TEST(PodmanServe, SplitsAtTheLastColon) {
  auto p = parse_podman_serve("/Users/me/with:colon:5640");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->first, "/Users/me/with:colon");
  EXPECT_EQ(p->second, "vsock:5640");
  auto a = parse_podman_serve("/srv=unix:/run/x.sock");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->first, "/srv");
  EXPECT_EQ(a->second, "unix:/run/x.sock");
  EXPECT_FALSE(parse_podman_serve("/srv:notaport"));
  EXPECT_FALSE(parse_podman_serve("/srv:"));
  EXPECT_FALSE(parse_podman_serve(":5640"));
}

TEST(Settings, TranslateIntoAConfig) {
  Settings s;
  auto def = make_config(s);
  ASSERT_TRUE(def);
  EXPECT_EQ(def->max_msize, 1u << 20);
  EXPECT_EQ(def->identity.squash, Squash::Root);
  EXPECT_EQ(def->max_memory, std::uint64_t{2} << 30);
  EXPECT_EQ(def->max_watches, 8192u);
  s.msize = "64K";
  s.no_root_squash = true;
  s.report_owner = "1000:100";
  s.xattr_namespaces = "all";
  s.max_memory = "512M";
  s.max_watches = 4;
  auto c = make_config(s);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->max_msize, 65536u);
  EXPECT_EQ(c->identity.squash, Squash::None);
  ASSERT_TRUE(c->report_owner);
  EXPECT_EQ(c->report_owner->uid, 1000u);
  EXPECT_EQ(c->xattr_namespaces, XattrNamespaces::All);
  EXPECT_EQ(c->max_memory, 512u << 20);
  EXPECT_EQ(c->max_watches, 4u);
}

TEST(Settings, RefuseWhatCannotWork) {
  for (auto bad : {std::string("1"), std::string("5G"), std::string("x")}) {
    Settings s;
    s.msize = bad;
    EXPECT_FALSE(make_config(s)) << bad;
  }
  Settings both;
  both.no_root_squash = both.all_squash = true;
  EXPECT_FALSE(make_config(both));
  for (auto bad : {"1000", ":1", "1:", "a:b", "1:2:3"}) {
    Settings s;
    s.report_owner = bad;
    EXPECT_FALSE(make_config(s)) << bad;
  }
  Settings x;
  x.xattr_namespaces = "security";
  EXPECT_FALSE(make_config(x));
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = testing::TempDir::create("ninep-daemon-");
    ASSERT_TRUE(d);
    dir_ = std::move(*d);
    ASSERT_EQ(::mkdir((dir_.path() + "/export").c_str(), 0755), 0);
  }
  std::unique_ptr<Daemon> prepare(std::optional<pid_t> watch = {}) {
    auto d = Daemon::prepare(watch, {}, [this](const std::string& l) { notices_.push_back(l); });
    EXPECT_TRUE(d) << d.error().to_string();
    if (!d) return nullptr;
    ServerConfig cfg;
    cfg.log_sink = [](LogLevel, std::string_view) {};
    auto srv = make_local_server(cfg, {ExportSpec{"e", dir_.path() + "/export", false, {}}});
    EXPECT_TRUE(srv);
    server_ = &(*d)->add(std::move(*srv));
    return std::move(*d);
  }
  testing::TempDir dir_;
  Server* server_ = nullptr;
  std::vector<std::string> notices_;
};

TEST_F(DaemonTest, EndsWhenTheWatchedProcessExits) {
  pid_t child = ::fork();
  if (child == 0) {
    ::pause();
    ::_exit(0);
  }
  auto d = prepare(child);
  ASSERT_TRUE(d);
  const std::string sock = dir_.path() + "/s.sock";
  ASSERT_TRUE(d->add_address(*server_, "unix:" + sock, false));
  EXPECT_EQ(d->listening(), std::vector<std::string>{"unix:" + sock});
  auto done = std::async(std::launch::async, [&] { return d->run(); });
  EXPECT_EQ(done.wait_for(200ms), std::future_status::timeout);
  struct stat st {};
  EXPECT_EQ(::stat(sock.c_str(), &st), 0);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(done.get(), 0);
  EXPECT_NE(::stat(sock.c_str(), &st), 0) << "the socket file is removed";
}

TEST_F(DaemonTest, AWatchedProcessThatDoesNotExistIsAnError) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  auto d = Daemon::prepare(child, {});
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ESRCH);
}

TEST_F(DaemonTest, WithOnlyInheritedConnectionsEndsWhenTheyDo) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto d = prepare();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->add_address(*server_, "fd:" + std::to_string(sv[0]), false));
  auto done = std::async(std::launch::async, [&] { return d->run(); });
  {
    auto s = client::Session::start(UniqueFd(sv[1]));
    ASSERT_TRUE(s) << s.error().to_string();
    EXPECT_TRUE((*s)->attach("0", "", 0));
    EXPECT_EQ(done.wait_for(100ms), std::future_status::timeout);
  }
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
}

TEST_F(DaemonTest, StopEndsRun) {
  auto d = prepare();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->add_address(*server_, "unix:" + dir_.path() + "/s.sock", false));
  auto done = std::async(std::launch::async, [&] { return d->run(); });
  EXPECT_EQ(done.wait_for(100ms), std::future_status::timeout);
  d->stop();
  ASSERT_EQ(done.wait_for(5s), std::future_status::ready);
}

TEST_F(DaemonTest, WarnsAboutListenersTheAllowListsDoNotCover) {
  ListenAccess access;
  access.allow_cids = {3};
  auto d = Daemon::prepare({}, access, [this](const std::string& l) { notices_.push_back(l); });
  ASSERT_TRUE(d);
  auto srv = make_local_server({}, {ExportSpec{"e", dir_.path() + "/export", false, {}}});
  ASSERT_TRUE(srv);
  Server& s = (*d)->add(std::move(*srv));
  ASSERT_TRUE((*d)->add_address(s, "unix:" + dir_.path() + "/s.sock", false));
  ASSERT_EQ(notices_.size(), 1u);
  EXPECT_NE(notices_[0].find("not restricted"), std::string::npos) << notices_[0];
}

TEST_F(DaemonTest, DefaultSocketIsPrivateNeverInTmp) {
  const char* saved = std::getenv("XDG_RUNTIME_DIR");
  const std::string old = saved != nullptr ? saved : "";
  ::setenv("XDG_RUNTIME_DIR", dir_.path().c_str(), 1);
  auto in_xdg = default_socket_path();
  ::unsetenv("XDG_RUNTIME_DIR");
  auto without = default_socket_path();
  if (saved != nullptr) ::setenv("XDG_RUNTIME_DIR", old.c_str(), 1);
  ASSERT_TRUE(in_xdg);
  EXPECT_EQ(*in_xdg, dir_.path() + "/ninep.sock");
  if (::geteuid() == 0) {
    ASSERT_TRUE(without) << without.error().to_string();
    EXPECT_EQ(*without, "/run/ninep/ninep.sock");
  } else {
    ASSERT_FALSE(without);
    EXPECT_NE(without.error().message.find("--listen"), std::string::npos);
  }
}

}  // namespace
}  // namespace ninep::server
