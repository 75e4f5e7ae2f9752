// Who may reach a listener: socket file permissions, peer identities, and peer filters.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>
#include <future>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "transport/peer.h"
#include "transport/socket.h"
#include "transport/socket_file.h"

namespace ninep::transport {
namespace {

using ninep::testing::TempDir;

Address unix_addr(const std::string& path) {
  Address a;
  a.kind = Address::Kind::Unix;
  a.path = path;
  return a;
}

// Sets the process umask for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

class ListenerAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::create("ninep-access-");
    ASSERT_TRUE(d) << d.error().to_string();
    dir_ = std::move(*d);
  }

  // Dials `a` and accepts the connection on `l`.
  static void connect_and_accept(Listener& l, const Address& a) {
    auto c = dial(a);
    ASSERT_TRUE(c) << c.error().to_string();
    auto s = l.accept();
    ASSERT_TRUE(s) << s.error().to_string();
  }

  TempDir dir_;
};

TEST_F(ListenerAccessTest, UnixSocketIsOwnerOnlyWhateverTheUmask) {
  for (mode_t um : {mode_t{0}, mode_t{022}, mode_t{0277}}) {
    Address a = unix_addr(dir_ / "s.sock");
    ScopedUmask scoped(um);
    auto l = listen(a);
    ASSERT_TRUE(l) << l.error().to_string();
    struct stat st;
    ASSERT_EQ(::lstat(a.path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u) << "umask " << std::oct << um;
    EXPECT_EQ(st.st_uid, ::geteuid());
    connect_and_accept(*l, a);
    EXPECT_EQ(entries(dir_.path()), std::vector<std::string>{"s.sock"})
        << "the private directory used for binding is left behind";
  }
}

// A group the test may give files to: another one as root, else our own.
gid_t some_group() {
  return ::geteuid() == 0 ? 65534 : ::getegid();
}

TEST_F(ListenerAccessTest, UnixSocketWithGroupIsGroupReadWrite) {
  for (mode_t um : {mode_t{0}, mode_t{027}}) {
    Address a = unix_addr(dir_ / "g.sock");
    ScopedUmask scoped(um);
    ListenOptions o;
    o.socket_group = some_group();
    auto l = listen(a, o);
    ASSERT_TRUE(l) << l.error().to_string();
    struct stat st;
    ASSERT_EQ(::lstat(a.path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0660u) << "umask " << std::oct << um;
    EXPECT_EQ(st.st_gid, some_group());
    connect_and_accept(*l, a);
  }
}

TEST_F(ListenerAccessTest, ExplicitSocketModeIsExact) {
  ScopedUmask scoped(077);
  Address a = unix_addr(dir_ / "m.sock");
  auto l = listen(a, ListenOptions{.socket_mode = 0666});
  ASSERT_TRUE(l) << l.error().to_string();
  struct stat st;
  ASSERT_EQ(::lstat(a.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
}

TEST_F(ListenerAccessTest, RelativeUnixPathWorks) {
  // A path without a directory part binds beside it in the current directory.
  char* cwd = ::getcwd(nullptr, 0);
  ASSERT_NE(cwd, nullptr);
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  {
    auto l = listen(unix_addr("rel.sock"));
    EXPECT_TRUE(l) << l.error().to_string();
    struct stat st;
    EXPECT_EQ(::lstat("rel.sock", &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
  }
  ASSERT_EQ(::chdir(cwd), 0);
  std::free(cwd);
}

TEST(ResolveGroupTest, NamesAndNumbers) {
  auto n = resolve_group("1234");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 1234u);
  if (group* g = ::getgrgid(0)) {
    auto r = resolve_group(g->gr_name);
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(*r, 0u);
  }
  auto bad = resolve_group("no-such-group-ninep");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ENOENT);
  EXPECT_NE(bad.error().message.find("no-such-group-ninep"), std::string::npos);
  EXPECT_FALSE(resolve_group(""));
}

TEST_F(ListenerAccessTest, DescribePeerGivesUnixCredentials) {
  Address a = unix_addr(dir_ / "p.sock");
  auto l = listen(a);
  ASSERT_TRUE(l) << l.error().to_string();
  auto c = dial(a);
  ASSERT_TRUE(c);
  auto s = l->accept_peer();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->peer.kind, Peer::Kind::Unix);
  EXPECT_EQ(s->peer.pid, ::getpid());
  EXPECT_EQ(s->peer.uid, ::geteuid());
  EXPECT_EQ(s->peer.gid, ::getegid());
  auto d = describe_peer(s->fd.get());
  ASSERT_TRUE(d) << d.error().to_string();
  EXPECT_EQ(d->to_string(), "unix pid " + std::to_string(::getpid()) + " uid " +
                                std::to_string(::geteuid()) + " gid " +
                                std::to_string(::getegid()));
}

TEST(DescribePeerTest, TcpGivesAddressAndPort) {
  auto l = listen(*parse_address("tcp:127.0.0.1:0"));
  ASSERT_TRUE(l) << l.error().to_string();
  auto c = dial(l->address());
  ASSERT_TRUE(c);
  auto s = l->accept_peer();
  ASSERT_TRUE(s) << s.error().to_string();
  sockaddr_in local{};
  socklen_t len = sizeof local;
  ASSERT_EQ(::getsockname(c->get(), reinterpret_cast<sockaddr*>(&local), &len), 0);
  EXPECT_EQ(s->peer.kind, Peer::Kind::Tcp);
  EXPECT_EQ(s->peer.host, "127.0.0.1");
  EXPECT_EQ(s->peer.port, ntohs(local.sin_port));
  EXPECT_EQ(s->peer.to_string(), "tcp 127.0.0.1:" + std::to_string(ntohs(local.sin_port)));
}

TEST(DescribePeerTest, Ipv6AddressesAreBracketed) {
  Peer p;
  p.kind = Peer::Kind::Tcp;
  p.host = "::1";
  p.port = 5640;
  EXPECT_EQ(p.to_string(), "tcp [::1]:5640");
  Peer v;
  v.kind = Peer::Kind::Vsock;
  v.cid = 3;
  v.vport = 1024;
  EXPECT_EQ(v.to_string(), "vsock 3:1024");
}

TEST(PeerFilterTest, EachListRestrictsOnlyItsOwnFamily) {
  Peer unix_peer;
  unix_peer.kind = Peer::Kind::Unix;
  unix_peer.uid = 1000;
  Peer guest;
  guest.kind = Peer::Kind::Vsock;
  guest.cid = 3;
  Peer tcp;
  tcp.kind = Peer::Kind::Tcp;
  tcp.host = "127.0.0.1";

  PeerFilter none;
  EXPECT_TRUE(none.empty());
  for (const Peer& p : {unix_peer, guest, tcp}) EXPECT_TRUE(peer_allowed(p, none));

  PeerFilter cids{.allow_cids = {3, 4}};
  EXPECT_TRUE(peer_allowed(guest, cids));
  guest.cid = 5;
  EXPECT_FALSE(peer_allowed(guest, cids));
  EXPECT_TRUE(peer_allowed(unix_peer, cids)) << "a CID list does not restrict unix peers";

  PeerFilter uids{.allow_uids = {0, 1000}};
  EXPECT_TRUE(peer_allowed(unix_peer, uids));
  unix_peer.uid = 65534;
  EXPECT_FALSE(peer_allowed(unix_peer, uids));
  EXPECT_TRUE(peer_allowed(guest, uids)) << "a uid list does not restrict vsock peers";
  EXPECT_TRUE(peer_allowed(tcp, uids));
}

TEST(PeerFilterTest, AllowUidRefusesOtherUsersAndKeepsAccepting) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  // An abstract socket: no file permissions stand between the other user and the listener.
  Address a = unix_addr("@ninep-access-test-" + std::to_string(::getpid()));
  std::vector<Peer> refused;
  ListenOptions o;
  o.filter.allow_uids = {::geteuid()};
  o.on_refused = [&](const Peer& p) { refused.push_back(p); };
  auto l = listen(a, o);
  ASSERT_TRUE(l) << l.error().to_string();

  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The refused peer: connects as nobody, reports it is connected, expects EOF.
    ::alarm(20);
    ::close(ready[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) _exit(3);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path + 1, a.path.data() + 1, a.path.size() - 1);
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + a.path.size());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) _exit(4);
    char b = 1;
    if (::write(ready[1], &b, 1) != 1) _exit(5);
    ssize_t n = ::read(fd, &b, 1);
    _exit(n == 0 ? 0 : 6);
  }
  ::close(ready[1]);
  char b = 0;
  ASSERT_EQ(::read(ready[0], &b, 1), 1) << "the child could not connect";
  ::close(ready[0]);

  // The refused connection is queued first; accept() must skip it and return ours.
  auto mine = dial(a);
  ASSERT_TRUE(mine) << mine.error().to_string();
  auto s = l->accept_peer();
  ASSERT_TRUE(s) << s.error().to_string();
  EXPECT_EQ(s->peer.uid, ::geteuid());
  EXPECT_EQ(s->peer.pid, ::getpid());

  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the refused peer's connection was not closed at once";
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, Peer::Kind::Unix);
  EXPECT_EQ(refused[0].uid, 65534u);
  EXPECT_EQ(refused[0].pid, child);
}

TEST(PeerFilterTest, AllowCidOnALiveVsockListener) {
  // CID 1 is the local (loopback) CID; it needs the vsock_loopback module.
  constexpr std::uint32_t kPort = 56401;
  auto probe = dial(*parse_address("vsock:1:" + std::to_string(kPort)));
  if (!probe && probe.error().code != ECONNREFUSED && probe.error().code != ECONNRESET)
    GTEST_SKIP() << "no vsock loopback on this machine (" << probe.error().to_string()
                 << "); the CID filter is covered by EachListRestrictsOnlyItsOwnFamily";
  std::vector<Peer> refused;
  ListenOptions o;
  o.filter.allow_cids = {1234567};  // not us
  o.on_refused = [&](const Peer& p) { refused.push_back(p); };
  auto l = listen(*parse_address("vsock:" + std::to_string(kPort)), o);
  ASSERT_TRUE(l) << l.error().to_string();
  auto acc = std::async(std::launch::async, [&] { return l->accept(); });
  auto c = dial(*parse_address("vsock:1:" + std::to_string(kPort)));
  ASSERT_TRUE(c) << c.error().to_string();
  char b;
  EXPECT_EQ(::read(c->get(), &b, 1), 0) << "the refused guest was not disconnected";
  l->shutdown();
  auto r = acc.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ECANCELED);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, Peer::Kind::Vsock);
}

}  // namespace
}  // namespace ninep::transport
