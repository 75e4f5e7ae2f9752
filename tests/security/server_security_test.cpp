// The server against a hostile guest, through the client library: what a guest must never reach
// (host devices, host root, capabilities, security xattrs) and what it must never exhaust (lock
// owners, the server's budget) while another, well-behaved connection goes on unaffected.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "harness.h"
#include "server/forwarding_backend.h"

namespace ninep::servertest {
namespace {

using namespace std::chrono_literals;

constexpr std::uint32_t kUser = 43210;

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: the server is only dangerous as root";
  }
  // A server with `cfg` whose export anyone may write to.
  void start(server::ServerConfig cfg) {
    InProcessServer::Options o;
    o.config = std::move(cfg);
    srv_ = InProcessServer::start(std::move(o));
    ASSERT_EQ(::chmod(srv_->export_dir().c_str(), 0777), 0);
  }
  std::pair<std::shared_ptr<client::Session>, client::Fid> as_user(std::uint32_t uid) {
    client::SessionOptions so;
    so.request_timeout = 5s;  // a request the server never answers fails the test, not hangs
    auto s = srv_->connect(so);
    EXPECT_TRUE(s) << s.error().to_string();
    auto r = (*s)->attach(std::to_string(uid), "", uid);
    EXPECT_TRUE(r) << r.error().to_string();
    return {*s, r ? std::move(*r) : client::Fid()};
  }
  std::string in(const std::string& rel) const { return srv_->export_dir() + "/" + rel; }
  std::unique_ptr<InProcessServer> srv_;
};

server::ServerConfig no_root_squash() {
  server::ServerConfig c;
  c.identity.squash = server::Squash::None;
  return c;
}

// Hole 1 (CVE-2020-35517's class): a device node made by the guest is never opened on the host.
TEST_F(Security, DeviceNodesAreCreatedButNeverOpened) {
  start(no_root_squash());
  auto [s, root] = as_user(0);
  ASSERT_TRUE(root.mknod("zero", p9::kSIfchr | 0666, 1, 5, 0));  // the host's /dev/zero
  ASSERT_TRUE(root.mknod("disk", p9::kSIfblk | 0600, 7, 0, 0));  // the host's loop0
  struct stat st = lstat_of(in("zero"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 5));
  EXPECT_TRUE(S_ISBLK(lstat_of(in("disk")).st_mode));
  for (const char* name : {"zero", "disk"}) {
    for (std::uint32_t flags : {p9::kORdonly, p9::kORdwr, p9::kOWronly | p9::kOTrunc}) {
      auto f = root.walk({name});
      ASSERT_TRUE(f);
      auto o = f->lopen(flags);
      ASSERT_FALSE(o) << name << " was opened with flags " << flags;
      EXPECT_EQ(o.error().code, EPERM);
    }
    // Tlcreate on the existing name (no O_EXCL) must not open it either.
    auto dir = root.clone();
    ASSERT_TRUE(dir);
    auto c = dir->lcreate(name, p9::kORdwr, 0644, 0);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, EPERM);
    // Listed, stat'ed, renamed and removed like any file.
    auto f = root.walk({name});
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->getattr());
  }
  auto entries = root.readdir_all();
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->size(), 4u);  // . .. zero disk
  ASSERT_TRUE(root.renameat("zero", root, "zero2"));
  EXPECT_TRUE(root.unlinkat("zero2"));
  EXPECT_TRUE(root.unlinkat("disk"));
}

// Hole 5: a FIFO never blocks the connection, and the connection keeps serving.
TEST_F(Security, FifosAnswerAtOnceAndTheConnectionKeepsServing) {
  start(no_root_squash());
  auto [s, root] = as_user(0);
  ASSERT_TRUE(root.mknod("fifo", p9::kSIfifo | 0666, 0, 0, 0));
  const auto t0 = std::chrono::steady_clock::now();
  auto dir = root.clone();
  ASSERT_TRUE(dir);
  auto c = dir->lcreate("fifo", p9::kOWronly, 0644, 0);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().code, ETIMEDOUT) << "the server hung opening a FIFO";
  auto f = root.walk({"fifo"});
  ASSERT_TRUE(f);
  for (std::uint32_t flags : {p9::kORdonly, p9::kOWronly, p9::kORdwr}) {
    auto o = f->lopen(flags);
    ASSERT_FALSE(o);
    EXPECT_EQ(o.error().code, EPERM);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_TRUE(root.getattr()) << "the connection still serves";
  EXPECT_TRUE(S_ISFIFO(lstat_of(in("fifo")).st_mode));
}

// Hole 2: a guest's root is not the host's root, unless the export says so.
TEST_F(Security, RootIsSquashedByDefault) {
  start(server::ServerConfig{});
  auto [s, root] = as_user(0);
  auto c = root.clone();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->lcreate("made-by-guest-root", p9::kORdwr, 0644, 0));
  ASSERT_TRUE(root.mkdir("dir", 0755, 0));
  struct stat st = lstat_of(in("made-by-guest-root"));
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(lstat_of(in("dir")).st_uid, 65534u);
  // A root-only host file stays out of reach.
  write_file(in("secret"), "host root's");
  ASSERT_EQ(::chmod(in("secret").c_str(), 0600), 0);
  auto secret = root.walk({"secret"});
  ASSERT_TRUE(secret);
  auto o = secret->lopen(p9::kORdonly);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().code, EACCES);
}

TEST_F(Security, AnonymousIdentityIsConfigurable) {
  server::ServerConfig cfg;
  cfg.identity.anon_uid = 4000;
  cfg.identity.anon_gid = 4001;
  start(cfg);
  auto [s, root] = as_user(0);
  ASSERT_TRUE(root.mkdir("d", 0755, 0));
  EXPECT_EQ(lstat_of(in("d")).st_uid, 4000u);
  EXPECT_EQ(lstat_of(in("d")).st_gid, 4001u);
}

TEST_F(Security, NoRootSquashKeepsRoot) {
  start(no_root_squash());
  auto [s, root] = as_user(0);
  ASSERT_TRUE(root.mkdir("d", 0755, 0));
  EXPECT_EQ(lstat_of(in("d")).st_uid, 0u);
}

TEST_F(Security, AllSquashMapsEveryone) {
  server::ServerConfig cfg;
  cfg.identity.squash = server::Squash::All;
  start(cfg);
  auto [s, root] = as_user(kUser);
  ASSERT_TRUE(root.mkdir("d", 0755, kUser));
  EXPECT_EQ(lstat_of(in("d")).st_uid, 65534u);
  auto [s2, root2] = as_user(0);
  ASSERT_TRUE(root2.mkdir("e", 0755, 0));
  EXPECT_EQ(lstat_of(in("e")).st_uid, 65534u);
}

// Hole 2, continued: no setuid-root binary can be left on the host by a squashed guest.
TEST_F(Security, SquashedGuestCannotMakeASetuidRootFile) {
  start(server::ServerConfig{});
  write_file(in("tool"), "#!/bin/sh\n");
  ASSERT_EQ(::chmod(in("tool").c_str(), 0755), 0);
  auto [s, root] = as_user(0);
  auto f = root.walk({"tool"});
  ASSERT_TRUE(f);
  client::SetAttr sa;
  sa.valid = p9::kSetattrMode;
  sa.mode = 04755;
  auto r = f->setattr(sa);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPERM);
  EXPECT_EQ(lstat_of(in("tool")).st_mode & 07777, 0755u);
  // Nor give a file of its own to root.
  auto c = root.clone();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->lcreate("mine", p9::kORdwr, 04755, 0));
  auto mine = root.walk({"mine"});
  ASSERT_TRUE(mine);
  sa.valid = p9::kSetattrUid;
  sa.uid = 0;
  EXPECT_FALSE(mine->setattr(sa));
  EXPECT_NE(lstat_of(in("mine")).st_uid, 0u);
}

// Hole 3: security.* and trusted.* are refused by default, and even when allowed, a non-root
// identity holds no capability to set them.
TEST_F(Security, SecurityAndTrustedXattrsAreRefusedByDefault) {
  start(server::ServerConfig{});
  write_file(in("f"), "x");
  ASSERT_EQ(::chown(in("f").c_str(), kUser, kUser), 0);
  auto [s, root] = as_user(kUser);
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  for (const char* name : {"security.capability", "trusted.evil", "security.selinux"}) {
    auto r = f->xattr_set(name, bytes_of("0123456789abcdef0123"), 0);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, EOPNOTSUPP) << name;
    auto g = f->xattr_get(name);
    ASSERT_FALSE(g) << name;
    EXPECT_EQ(g.error().code, EOPNOTSUPP) << name;
  }
  EXPECT_TRUE(f->xattr_set("user.fine", bytes_of("v"), 0));
  char buf[64];
  EXPECT_LT(::getxattr(in("f").c_str(), "security.capability", buf, sizeof buf), 0);
  EXPECT_LT(::getxattr(in("f").c_str(), "trusted.evil", buf, sizeof buf), 0);
  // A host-set trusted.* attribute is not even listed.
  ASSERT_EQ(::setxattr(in("f").c_str(), "trusted.hidden", "h", 1, 0), 0);
  auto names = f->xattr_list();
  ASSERT_TRUE(names);
  for (const auto& n : *names) EXPECT_FALSE(n.starts_with("trusted.")) << n;
}

TEST_F(Security, EvenWithAllNamespacesANonRootIdentityHasNoCapabilities) {
  server::ServerConfig cfg;
  cfg.xattr_namespaces = server::XattrNamespaces::All;
  start(cfg);
  write_file(in("f"), "x");
  ASSERT_EQ(::chown(in("f").c_str(), kUser, kUser), 0);
  auto [s, root] = as_user(kUser);
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  // A v2 file capability (cap_sys_admin+ep): needs CAP_SETFCAP.
  std::vector<std::uint8_t> cap(20, 0);
  cap[3] = 0x02;  // VFS_CAP_REVISION_2
  cap[0] = 0x01;  // effective
  cap[7] = 0x20;  // CAP_SYS_ADMIN (21) in permitted[0]
  auto r = f->xattr_set("security.capability", cap, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EPERM);
  auto t = f->xattr_set("trusted.x", bytes_of("v"), 0);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, EPERM);
  char buf[64];
  EXPECT_LT(::getxattr(in("f").c_str(), "security.capability", buf, sizeof buf), 0);
}

// Reads the capability sets of the thread that runs each getattr.
class CapabilityProbe : public server::ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Result<void> getattr(server::Node& n, std::uint64_t m, p9::Rgetattr& o) override {
    std::ifstream status("/proc/thread-self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.starts_with("CapEff:")) {
        std::lock_guard lk(mu);
        cap_eff = std::stoull(line.substr(7), nullptr, 16);
      }
    }
    return ForwardingBackend::getattr(n, m, o);
  }
  std::mutex mu;
  std::uint64_t cap_eff = ~0ull;
};

TEST_F(Security, ANonRootIdentityRunsWithNoEffectiveCapabilities) {
  CapabilityProbe* probe = nullptr;
  InProcessServer::Options o;
  o.config = no_root_squash();
  o.wrap = [&probe](std::unique_ptr<server::Backend> in) {
    auto p = std::make_unique<CapabilityProbe>(std::move(in));
    probe = p.get();
    return p;
  };
  srv_ = InProcessServer::start(std::move(o));
  auto eff = [&] {
    std::lock_guard lk(probe->mu);
    return probe->cap_eff;
  };
  // Alternate so that one thread serves both identities in turn.
  for (int round = 0; round < 3; ++round) {
    auto [s, root] = as_user(kUser);
    ASSERT_TRUE(root.getattr());
    EXPECT_EQ(eff(), 0u) << "uid " << kUser << " ran with capabilities";
    auto [s0, root0] = as_user(0);
    ASSERT_TRUE(root0.getattr());
    EXPECT_NE(eff(), 0u) << "an unsquashed root keeps its capabilities";
  }
}

// Requests across two fids run as one user: a guest cannot combine two users' rights.
TEST_F(Security, TwoFidOperationsNeedOneIdentity) {
  start(no_root_squash());
  ASSERT_EQ(::mkdir(in("theirs").c_str(), 0700), 0);
  ASSERT_EQ(::chown(in("theirs").c_str(), kUser, kUser), 0);
  write_file(in("theirs/f"), "x");
  auto [s, mine] = as_user(kUser);
  auto theirs = mine.walk({"theirs"});
  ASSERT_TRUE(theirs);
  auto r0 = s->attach("0", "", 0);  // root on the same connection
  ASSERT_TRUE(r0);
  auto rr = theirs->renameat("f", *r0, "stolen");
  ASSERT_FALSE(rr);
  EXPECT_EQ(rr.error().code, EPERM);
  auto f = theirs->walk({"f"});
  ASSERT_TRUE(f);
  auto rn = f->rename(*r0, "stolen");
  ASSERT_FALSE(rn);
  EXPECT_EQ(rn.error().code, EPERM);
  auto ln = r0->link(*f, "linked");
  ASSERT_FALSE(ln);
  EXPECT_EQ(ln.error().code, EPERM);
  EXPECT_TRUE(exists(in("theirs/f")));
  EXPECT_FALSE(exists(in("stolen")));
}

// Hole 6: lock owners are bounded per fid, client ids in size; another connection goes on.
TEST_F(Security, LockOwnersAndClientIdsAreBounded) {
  start(no_root_squash());
  write_file(in("f"), "x");
  auto [s, root] = as_user(0);
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->lopen(p9::kORdwr));
  client::LockRequest lr;
  lr.type = p9::kLockRdlck;
  lr.client_id = std::string(server::kMaxLockClientId + 1, 'c');
  auto big = f->lock(lr);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, EINVAL);
  auto bigq = f->getlock(lr);
  ASSERT_FALSE(bigq);
  EXPECT_EQ(bigq.error().code, EINVAL);
  lr.client_id = "guest";
  for (std::uint32_t i = 0; i < server::kMaxLockOwnersPerFid; ++i) {
    lr.proc_id = i + 1;
    lr.start = i;
    lr.length = 1;
    auto st = f->lock(lr);
    ASSERT_TRUE(st) << i << ": " << st.error().to_string();
    ASSERT_EQ(*st, p9::kLockSuccess);
  }
  lr.proc_id = 99999;
  auto over = f->lock(lr);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ENOLCK);
  // A well-behaved second connection still locks (and the file is still served).
  auto [s2, root2] = as_user(0);
  write_file(in("g"), "y");
  auto g = root2.walk({"g"});
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->lopen(p9::kORdwr));
  client::LockRequest ok;
  ok.client_id = "honest";
  auto st = g->lock(ok);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st, p9::kLockSuccess);
  // Clunking the greedy fid gives every owner's descriptor back.
  ASSERT_TRUE(f->clunk());
}

// Hole 6, continued: the server-wide budget of descriptors is shared; a greedy connection is
// refused beyond its share, others still get theirs.
TEST_F(Security, DescriptorBudgetRefusesTheGreedyConnectionOnly) {
  server::ServerConfig cfg = no_root_squash();
  cfg.max_open_files = 60;
  start(cfg);
  auto [greedy_s, greedy] = as_user(0);
  std::vector<client::Fid> held;
  int refused = 0;
  for (int i = 0; i < 100; ++i) {
    auto c = greedy.clone();
    if (!c) {
      EXPECT_EQ(c.error().code, ENFILE);
      ++refused;
      break;
    }
    held.push_back(std::move(*c));
  }
  ASSERT_EQ(refused, 1) << "the greedy connection was never refused";
  EXPECT_EQ(held.size() + 1, 45u) << "alone, a connection holds three quarters of the budget";
  EXPECT_LE(srv_->server().budget().total(server::Budget::kDescriptors), 60u);
  // A newcomer gets its share although the greedy one holds all it may.
  auto [s, root] = as_user(0);
  std::vector<client::Fid> mine;
  for (int i = 0; i < 14; ++i) {  // its root is one, the last quarter is 15
    auto c = root.clone();
    ASSERT_TRUE(c) << i << ": " << c.error().to_string();
    mine.push_back(std::move(*c));
  }
  // What the greedy connection frees is its own again.
  held.clear();
  greedy_s->wait_idle();
  EXPECT_TRUE(greedy.clone());
}

// Memory: xattr values are held (and charged) only as their bytes arrive, within a share.
TEST_F(Security, MemoryBudgetBoundsXattrBuffersPerConnection) {
  server::ServerConfig cfg = no_root_squash();
  cfg.max_memory = 8u << 20;  // 8 MiB: alone, 6 MiB; the last 2 MiB for others
  start(cfg);
  write_file(in("f"), "x");
  auto [greedy_s, greedy] = as_user(0);
  // Announcing a large value reserves nothing.
  std::vector<client::Fid> pending;
  const std::vector<std::uint8_t> chunk(60000, 'v');
  int refused = 0;
  for (int i = 0; i < 200 && refused == 0; ++i) {
    auto f = greedy.walk({"f"});
    ASSERT_TRUE(f);
    auto r = greedy_s->call(p9::Txattrcreate{f->number(), "user.big", 65536, 0});
    ASSERT_TRUE(r) << r.error().to_string();
    auto w = f->write(0, chunk);
    if (!w) {
      EXPECT_EQ(w.error().code, ENOBUFS);
      ++refused;
    }
    pending.push_back(std::move(*f));
  }
  ASSERT_EQ(refused, 1) << "xattr buffers grew without bound";
  EXPECT_LE(srv_->server().budget().total(server::Budget::kBytes), 8u << 20);
  // A second connection still sets an attribute (small: ext4 keeps values within a block).
  auto [s, root] = as_user(0);
  auto f = root.walk({"f"});
  ASSERT_TRUE(f);
  auto honest = f->xattr_set("user.honest", std::vector<std::uint8_t>(1000, 'h'), 0);
  EXPECT_TRUE(honest) << honest.error().to_string();
}

}  // namespace
}  // namespace ninep::servertest
