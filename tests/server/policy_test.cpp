// Request policies (policy/policy.h) in the server: cBPF programs, written here in bpf_asm over
// the request record's offsets (policy/record.h), judging requests to an export served in
// process and reached through the client library; and `ninep serve --export ...,policy=FILE`
// with SIGHUP reloads, through the binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "harness.h"
#include "p9/dirent.h"
#include "policy/policy.h"
#include "policy_served.h"
#include "server_process.h"

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

// Verdicts (seccomp's encoding) and errnos, as the programs below spell them.
//   ALLOW 0x7fff0000, LOG 0x7ffc0000, KILL 0x80000000, ERRNO 0x00050000 | errno
//   EPERM 1 -> 0x50001, ENOSPC 28 -> 0x5001c, ENOENT 2 -> 0x50002, EXDEV 18 -> 0x50012

TEST(Policy, RefusedRequestsGetTheErrnoAndTouchNothingOnTheHost) {
  // Tlcreate (14) and Tunlinkat (76): EPERM; Twrite (118): ENOSPC; the rest allowed.
  Served s(R"(
        ld [0]
        jeq #14, perm, next1
next1:  jeq #76, perm, next2
next2:  jeq #118, nospc, allow
perm:   ret #0x50001
nospc:  ret #0x5001c
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  write_file(e + "/f", "content");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);

  auto dir = root.clone();
  ASSERT_TRUE(dir);
  auto created = dir->lcreate("new", p9::kORdwr, 0644, 0);
  ASSERT_FALSE(created);
  EXPECT_EQ(created.error().code, EPERM);
  EXPECT_FALSE(exists(e + "/new"));

  auto unlinked = root.unlinkat("f");
  ASSERT_FALSE(unlinked);
  EXPECT_EQ(unlinked.error().code, EPERM);
  EXPECT_TRUE(exists(e + "/f"));

  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->lopen(p9::kORdwr));  // Tlopen is allowed
  auto written = f->write(0, bytes_of("XXXXXXXXXXXX"));
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, ENOSPC);
  EXPECT_EQ(read_file(e + "/f"), "content");

  // What the policy allows works.
  std::vector<std::uint8_t> buf(64);
  auto n = f->read(0, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<long>(*n)), "content");
  ASSERT_TRUE(root.mkdir("d", 0755, 0));
  EXPECT_TRUE(exists(e + "/d"));
}

TEST(Policy, ARefusedNameCannotBeWalkedToNorListed) {
  // Twalk (110) of a name starting with 'h': ENOENT. Everything else allowed.
  Served s(R"(
        ld [0]
        jeq #110, walk, allow
walk:   ld [52]
        jeq #0, allow, first
first:  ldb [64]
        jeq #0x68, hide, allow
hide:   ret #0x50002
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::mkdir((e + "/hidden").c_str(), 0755), 0);
  write_file(e + "/hidden/inside", "x");
  ASSERT_EQ(::mkdir((e + "/d").c_str(), 0755), 0);
  write_file(e + "/d/h1", "x");
  write_file(e + "/d/ok", "x");
  // Enough hidden names that whole Treaddir replies would hold nothing else.
  for (int i = 0; i < 300; ++i) write_file(e + "/d/hh" + std::to_string(i), "");
  write_file(e + "/d/zz", "x");

  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  for (auto names :
       {std::vector<std::string_view>{"hidden"}, std::vector<std::string_view>{"hidden", "inside"},
        std::vector<std::string_view>{"d", "h1"}}) {
    auto w = root.walk(names);
    ASSERT_FALSE(w) << names.size() << " names";
    EXPECT_EQ(w.error().code, ENOENT);
  }
  auto ok = root.walk({"d", "ok"});
  EXPECT_TRUE(ok);
  // Through '..', the name is still judged where it is.
  auto around = root.walk({"d", "..", "hidden"});
  EXPECT_FALSE(around);

  auto list = [&](const std::vector<std::string_view>& where, std::size_t chunk) {
    std::set<std::string> names;
    auto d = root.walk(where);
    EXPECT_TRUE(d);
    if (!d) return names;
    EXPECT_TRUE(d->lopen(p9::kORdonly));
    std::vector<std::uint8_t> buf(chunk);
    std::uint64_t offset = 0;
    for (int rounds = 0; rounds < 10000; ++rounds) {
      auto n = d->readdir_some(offset, buf);
      EXPECT_TRUE(n) << n.error().to_string();
      if (!n || *n == 0) break;
      p9::DirentReader r(std::span<const std::uint8_t>(buf.data(), *n));
      for (;;) {
        auto ent = r.next();
        EXPECT_TRUE(ent);
        if (!ent || !*ent) break;
        names.insert(std::string((*ent)->name));
        offset = (*ent)->offset;
      }
    }
    return names;
  };
  auto top = list({}, 8192);
  EXPECT_FALSE(top.contains("hidden"));
  EXPECT_TRUE(top.contains("d"));
  // Small replies: many hold only hidden names, and the listing must go on past them.
  for (std::size_t chunk : {std::size_t{8192}, std::size_t{64}}) {
    auto in_d = list({"d"}, chunk);
    EXPECT_TRUE(in_d.contains("ok")) << chunk;
    EXPECT_TRUE(in_d.contains("zz")) << chunk;
    for (const auto& n : in_d) EXPECT_NE(n[0], 'h') << n << " listed (chunk " << chunk << ")";
  }
}

TEST(Policy, PathAndDepthDescribeTheFileBelowTheExportRoot) {
  // Tlopen (12) of a file whose path starts with "d/": EPERM; Tgetattr (24) at depth 2: EXDEV.
  Served s(R"(
        ld [0]
        jeq #12, open, next
next:   jeq #24, attr, allow
open:   ld [56]
        jge #2, prefix, allow
prefix: ldh [320]
        jeq #0x642f, perm, allow
attr:   ld [36]
        jeq #2, xdev, allow
perm:   ret #0x50001
xdev:   ret #0x50012
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::mkdir((e + "/d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((e + "/d/sub").c_str(), 0755), 0);
  write_file(e + "/d/f", "x");
  write_file(e + "/top", "x");
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  auto f = root.walk({"d", "f"});
  ASSERT_TRUE(f);
  auto opened = f->lopen(p9::kORdonly);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, EPERM);
  auto top = root.walk({"top"});
  ASSERT_TRUE(top);
  EXPECT_TRUE(top->lopen(p9::kORdonly));
  // Reached another way, the path is the one walked: "d/sub/../f" is "d/f".
  auto again = root.walk({"d", "sub", "..", "f"});
  ASSERT_TRUE(again);
  auto reopened = again->lopen(p9::kORdonly);
  ASSERT_FALSE(reopened);
  EXPECT_EQ(reopened.error().code, EPERM);

  auto sub = root.walk({"d", "sub"});
  ASSERT_TRUE(sub);
  auto attr = sub->getattr();
  ASSERT_FALSE(attr);
  EXPECT_EQ(attr.error().code, EXDEV);
  EXPECT_TRUE(root.getattr());
  EXPECT_TRUE(root.walk({"d"})->getattr());
  // A file renamed (Trename) is judged by its new path.
  auto moved = root.walk({"top"});
  ASSERT_TRUE(moved);
  auto d = root.walk({"d"});
  ASSERT_TRUE(d);
  ASSERT_TRUE(moved->rename(*d, "moved"));
  EXPECT_TRUE(exists(e + "/d/moved"));
  auto reopen_moved = moved->lopen(p9::kORdonly);
  ASSERT_FALSE(reopen_moved);
  EXPECT_EQ(reopen_moved.error().code, EPERM);
}

TEST(Policy, ARequestRunsOnTheFileItWasJudgedOnNotOneAWalkInPlaceMovedItTo) {
  // Tlcreate (14) below the root: EPERM. A client sends Tlcreate on a fid of the root and, at
  // once, a Twalk that moves that fid into a directory: the create either runs in the root or
  // not at all, never in the directory.
  Served s(R"(
        ld [0]
        jeq #14, create, allow
create: ld [36]
        jeq #0, allow, perm
perm:   ret #0x50001
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  ASSERT_EQ(::mkdir((e + "/sub").c_str(), 0755), 0);
  auto fd = s.srv->connect_raw();
  ASSERT_TRUE(fd);
  RawClient raw(std::move(*fd));
  raw.handshake();
  constexpr int kRounds = 1000;
  int created = 0, busy = 0, refused = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string name = "x" + std::to_string(i);
    ASSERT_TRUE(raw.send(1, p9::Twalk{0, 1, 0, {}}));
    auto cloned = raw.recv();
    ASSERT_TRUE(cloned && std::holds_alternative<p9::Rwalk>(cloned->call.msg));
    p9::Twalk into{1, 1, 1, {}};
    into.wnames[0] = "sub";
    ASSERT_TRUE(raw.send(2, p9::Tlcreate{1, name, p9::kORdwr, 0644, 0}));
    ASSERT_TRUE(raw.send(3, into));
    for (int k = 0; k < 2; ++k) {
      auto r = raw.recv();
      ASSERT_TRUE(r);
      if (r->call.tag != 2) continue;
      if (std::holds_alternative<p9::Rlcreate>(r->call.msg))
        ++created;
      else if (lerror(*r) == EBUSY)
        ++busy;
      else
        ++refused;
    }
    EXPECT_FALSE(exists(e + "/sub/" + name)) << "created below the root despite the policy";
    ASSERT_TRUE(raw.send(4, p9::Tclunk{1}));
    ASSERT_TRUE(raw.recv());
  }
  std::printf("%d rounds: created in the root %d, refused %d, fid changed (EBUSY) %d\n", kRounds,
              created, refused, busy);
}

TEST(Policy, LogAllowsAndLogsTheRequest) {
  // Tmkdir (72): LOG; the rest allowed.
  Served s(R"(
        ld [0]
        jeq #72, log, allow
log:    ret #0x7ffc0000
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  ASSERT_TRUE(root.mkdir("logged-dir", 0755, 0));
  EXPECT_TRUE(exists(s.srv->export_dir() + "/logged-dir"));
  const std::string log = s.logged();
  std::printf("logged: %s", log.c_str());
  EXPECT_NE(log.find("Tmkdir"), std::string::npos) << log;
  EXPECT_NE(log.find("logged-dir"), std::string::npos) << log;
  EXPECT_NE(log.find("export 'export'"), std::string::npos) << log;
  EXPECT_NE(log.find("uid " + std::to_string(::getuid())), std::string::npos) << log;
}

TEST(Policy, KillDropsTheConnectionAndOthersAreStillServed) {
  // Tunlinkat (76): KILL.
  Served s(R"(
        ld [0]
        jeq #76, kill, allow
kill:   ret #0x80000000
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  const std::string& e = s.srv->export_dir();
  write_file(e + "/f", "x");
  auto victim = s.srv->connect_raw();
  ASSERT_TRUE(victim);
  RawClient raw(std::move(*victim));
  raw.handshake();
  ASSERT_TRUE(raw.send(1, p9::Tunlinkat{0, "f", 0}));
  EXPECT_TRUE(raw.closed_by_peer());
  EXPECT_TRUE(exists(e + "/f"));

  auto other = s.srv->connect();
  ASSERT_TRUE(other);
  auto root = attach(*other);
  EXPECT_TRUE(root.getattr());
  EXPECT_TRUE(root.walk({"f"}));
  EXPECT_NE(s.logged().find("dropping the connection"), std::string::npos) << s.logged();
}

TEST(Policy, AnyOtherVerdictRefusesWithEacces) {
  // Tstatfs (8): returns 1 (no verdict); Tgetattr (24): ERRNO 0 (also refused). Rest allowed.
  Served s(R"(
        ld [0]
        jeq #8, odd, next
next:   jeq #24, zero, allow
odd:    ret #1
zero:   ret #0x50000
allow:  ret #0x7fff0000
)");
  ASSERT_TRUE(s.srv);
  auto session = s.srv->connect();
  ASSERT_TRUE(session);
  auto root = attach(*session);
  auto st = root.statfs();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, EACCES);
  auto at = root.getattr();
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().code, EACCES);
  EXPECT_TRUE(root.walk({}));
}

TEST(Policy, TextThatIsNoProgramIsRefusedNamingTheFormats) {
  auto p = policy::Policy::from_text("this is not a program\n");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, EINVAL);
  EXPECT_NE(p.error().message.find("bpf_asm"), std::string::npos) << p.error().message;
  // The kernel's checks: a program may not jump out of itself or fall off its end.
  auto bad = policy::Policy::from_text("ld [0]\n");
  EXPECT_FALSE(bad);
  // Bytecode (tcpdump -ddd) works as well as bpf_asm.
  auto bytecode = policy::Policy::from_text("1\n6 0 0 2147418112\n");
  ASSERT_TRUE(bytecode) << bytecode.error().to_string();
  EXPECT_EQ(bytecode->decide(policy::RequestRecord{}).action, policy::Decision::Action::Allow);
}

// ---- ninep serve --export NAME=PATH,policy=FILE ----

// statfs is refused with `errno`, everything else allowed.
std::string statfs_policy(int errno_value) {
  return "ld [0]\njeq #8, refuse, allow\nrefuse: ret #" + std::to_string(0x50000 | errno_value) +
         "\nallow: ret #0x7fff0000\n";
}

void put_file(const std::string& path, const std::string& content) {
  // Replaced as an operator would: a new file renamed over the old one.
  const std::string tmp = path + ".tmp";
  write_file(tmp, content);
  ASSERT_EQ(::rename(tmp.c_str(), path.c_str()), 0);
}

struct ServeProcess {
  testing::TempDir dir;
  std::string export_dir, socket, policy, log;
};

ServeProcess serve_dirs() {
  auto d = testing::TempDir::create("ninep-policy-");
  EXPECT_TRUE(d);
  ServeProcess p{std::move(*d), "", "", "", ""};
  p.export_dir = p.dir / "export";
  p.socket = p.dir / "sock";
  p.policy = p.dir / "policy.bpf";
  p.log = p.dir / "log";
  EXPECT_EQ(::mkdir(p.export_dir.c_str(), 0755), 0);
  return p;
}

TEST(PolicyServe, ABadPolicyFileIsAClearErrorAtStart) {
  auto p = serve_dirs();
  write_file(p.policy, "ld [0]\njeq #8, nowhere, 0\n");
  std::string cmd = std::string(NINEP_BINARY) + " serve --sandbox none --export e=" + p.export_dir +
                    ",policy=" + p.policy + " --listen unix:" + p.socket + " 2>&1";
  std::FILE* f = ::popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
  const int status = ::pclose(f);
  std::printf("%s", out.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(out.find(p.policy), std::string::npos) << out;
  EXPECT_NE(out.find("nowhere"), std::string::npos) << out;  // what is wrong with it
  EXPECT_FALSE(exists(p.socket));

  // A missing file too.
  cmd = std::string(NINEP_BINARY) + " serve --sandbox none --export e=" + p.export_dir +
        ",policy=" + p.dir.path() + "/missing --listen unix:" + p.socket + " 2>&1";
  f = ::popen(cmd.c_str(), "r");
  ASSERT_NE(f, nullptr);
  out.clear();
  while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
  const int missing = ::pclose(f);
  ASSERT_TRUE(WIFEXITED(missing));
  EXPECT_EQ(WEXITSTATUS(missing), 1);
  EXPECT_NE(out.find("missing"), std::string::npos) << out;
}

TEST(PolicyServe, SighupReloadsUnderLoadAndABadFileKeepsTheOldPolicy) {
  auto p = serve_dirs();
  write_file(p.export_dir + "/f", "x");
  write_file(p.policy, statfs_policy(EPERM));
  testing::ServerProcess::Options o;
  // The default confinement (namespace sandbox, seccomp filter): reloads must work in it.
  o.argv = {NINEP_BINARY, "serve",
            "--export",   "e=" + p.export_dir + ",policy=" + p.policy,
            "--listen",   "unix:" + p.socket};
  o.socket_path = p.socket;
  o.log_path = p.log;
  auto proc = testing::ServerProcess::start(std::move(o));
  ASSERT_TRUE(proc) << proc.error().to_string();

  auto session = client::Session::connect("unix:" + p.socket);
  ASSERT_TRUE(session) << session.error().to_string();
  auto root = (*session)->attach(std::to_string(::getuid()), "e", ::getuid());
  ASSERT_TRUE(root) << root.error().to_string();

  // A client asks continuously: statfs is refused by the old policy (EPERM) or the new one
  // (EXDEV), getattr always allowed; nothing else may happen.
  std::atomic<bool> done{false};
  std::atomic<long> eperm{0}, exdev{0}, attrs{0}, other{0};
  std::string what_else;
  std::thread load([&] {
    while (!done.load()) {
      auto st = root->statfs();
      if (!st && st.error().code == EPERM)
        ++eperm;
      else if (!st && st.error().code == EXDEV)
        ++exdev;
      else if (++other == 1)
        what_else = st ? "statfs allowed" : st.error().to_string();
      if (auto a = root->getattr(); a)
        ++attrs;
      else if (++other == 1)
        what_else = a.error().to_string();
    }
  });
  // Waits (bounded) until statfs answers `want`: the reload took effect.
  auto wait_for = [&](int want) {
    for (int i = 0; i < 2000; ++i) {
      auto st = root->statfs();
      if (!st && st.error().code == want) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  };
  constexpr int kReloads = 20;
  for (int i = 0; i < kReloads; ++i) {
    const int next = i % 2 == 0 ? EXDEV : EPERM;
    put_file(p.policy, statfs_policy(next));
    ASSERT_EQ(::kill(proc->pid(), SIGHUP), 0);
    EXPECT_TRUE(wait_for(next)) << "reload " << i << "\n" << proc->log();
  }
  // Now EPERM is in force. A bad file: the old policy stays, and the log says why.
  put_file(p.policy, "this is no program\n");
  ASSERT_EQ(::kill(proc->pid(), SIGHUP), 0);
  bool logged = false;
  for (int i = 0; i < 2000 && !logged; ++i) {
    logged = proc->log().find("not reloaded") != std::string::npos;
    if (!logged) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(logged) << proc->log();
  done = true;
  load.join();
  auto st = root->statfs();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, EPERM);
  EXPECT_TRUE(root->getattr());  // the same connection, still served
  std::printf("under load: %ld statfs refused EPERM, %ld EXDEV, %ld getattr; other answers: %ld\n",
              eperm.load(), exdev.load(), attrs.load(), other.load());
  EXPECT_EQ(other.load(), 0) << what_else;
  EXPECT_GT(eperm.load() + exdev.load(), 0);
  proc->stop();
}

}  // namespace
}  // namespace ninep::servertest
