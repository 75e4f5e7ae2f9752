#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "p9/codec.h"
#include "server/localfs/localfs.h"
#include "server_process.h"

namespace ninep::servertest {

server::ServerConfig root_guest_config() {
  server::ServerConfig c;
  c.identity.squash = server::Squash::None;
  return c;
}

std::unique_ptr<InProcessServer> InProcessServer::start(Options opts) {
  auto s = std::unique_ptr<InProcessServer>(new InProcessServer);
  auto dir = testing::TempDir::create("ninep-server-");
  EXPECT_TRUE(dir) << dir.error().to_string();
  if (!dir) return nullptr;
  s->dir_ = std::move(*dir);
  s->export_ = s->dir_ / "export";
  EXPECT_EQ(::mkdir(s->export_.c_str(), 0755), 0);
  server::localfs::Options lo;
  lo.read_only = opts.read_only;
  lo.max_depth = opts.max_depth;
  auto fs = server::localfs::LocalFs::open(s->export_, lo);
  EXPECT_TRUE(fs) << fs.error().to_string();
  if (!fs) return nullptr;
  std::vector<server::Export> exports(1);
  exports[0].name = opts.export_name;
  exports[0].path = s->export_;
  exports[0].read_only = opts.read_only;
  exports[0].policy = std::move(opts.policy);
  exports[0].backend = opts.wrap ? opts.wrap(std::move(*fs)) : std::move(*fs);
  s->server_ = std::make_unique<server::Server>(std::move(opts.config), std::move(exports));
  return s;
}

InProcessServer::~InProcessServer() {
  if (server_) server_->shutdown();
  server_.reset();
}

Result<UniqueFd> InProcessServer::connect_raw() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return fail_errno("socketpair");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  if (auto r = server_->serve(std::move(ours)); !r) return std::unexpected(r.error());
  return theirs;
}

Result<std::shared_ptr<client::Session>> InProcessServer::connect(const client::SessionOptions& o) {
  auto fd = connect_raw();
  if (!fd) return std::unexpected(fd.error());
  return client::Session::start(std::move(*fd), o);
}

std::pair<std::shared_ptr<client::Session>, client::Fid> Target::attach(
    const client::SessionOptions& o) {
  auto s = connect(o);
  EXPECT_TRUE(s) << s.error().to_string() << "\n" << log();
  if (!s) return {};
  auto root = (*s)->attach(std::to_string(::getuid()), aname(), ::getuid());
  EXPECT_TRUE(root) << root.error().to_string() << "\n" << log();
  if (!root) return {*s, client::Fid()};
  return {*s, std::move(*root)};
}

namespace {

class OurTarget final : public Target {
 public:
  OurTarget() : srv_(InProcessServer::start()) {}
  bool is_diod() const override { return false; }
  const std::string& export_dir() const override { return srv_->export_dir(); }
  std::string aname() const override { return ""; }
  Result<std::shared_ptr<client::Session>> connect(const client::SessionOptions& o) override {
    return srv_->connect(o);
  }

 private:
  std::unique_ptr<InProcessServer> srv_;
};

// `ninep serve` as a separate process with its default options (so under its default seccomp
// filter and sandbox), but --no-root-squash like the in-process server, on a unix socket.
class ProcessTarget final : public Target {
 public:
  ProcessTarget() {
    auto d = testing::TempDir::create("ninep-process-");
    EXPECT_TRUE(d) << d.error().to_string();
    if (!d) return;
    dir_ = std::move(*d);
    export_ = dir_ / "export";
    socket_ = dir_ / "s.sock";
    EXPECT_EQ(::mkdir(export_.c_str(), 0755), 0);
    testing::ServerProcess::Options o;
    o.argv = {NINEP_HARNESS_BINARY, "serve",    "--no-root-squash", "--export",
              "export=" + export_,  "--listen", "unix:" + socket_};
    o.socket_path = socket_;
    o.log_path = dir_ / "serve.log";
    auto p = testing::ServerProcess::start(std::move(o));
    EXPECT_TRUE(p) << p.error().to_string();
    if (p) proc_ = std::move(*p);
  }
  ~ProcessTarget() override {
    if (!proc_.running()) return;
    // The server must have lived through the test and must shut down cleanly (exit 0) on
    // SIGTERM: a system call outside its seccomp filter would have killed it with SIGSYS.
    // waitid(WNOWAIT) leaves the child for ServerProcess to reap.
    const auto exited = [&](siginfo_t& si) {
      si = {};
      return ::waitid(P_PID, static_cast<id_t>(proc_.pid()), &si, WEXITED | WNOHANG | WNOWAIT) ==
                 0 &&
             si.si_pid == proc_.pid();
    };
    siginfo_t si;
    if (exited(si)) {
      ADD_FAILURE() << "ninep serve died during the test (code " << si.si_code << ", status "
                    << si.si_status << ")\n"
                    << log();
      return;
    }
    ::kill(proc_.pid(), SIGTERM);
    for (int i = 0; i < 1000 && !exited(si); ++i) ::usleep(5000);
    EXPECT_TRUE(si.si_pid == proc_.pid() && si.si_code == CLD_EXITED && si.si_status == 0)
        << "ninep serve did not shut down cleanly (code " << si.si_code << ", status "
        << si.si_status << ")\n"
        << log();
  }
  bool is_diod() const override { return false; }
  const std::string& export_dir() const override { return export_; }
  std::string aname() const override { return ""; }
  Result<std::shared_ptr<client::Session>> connect(const client::SessionOptions& o) override {
    return client::Session::connect("unix:" + socket_, o);
  }
  std::string log() const override { return "ninep serve log:\n" + proc_.log(); }

 private:
  testing::TempDir dir_;
  std::string export_, socket_;
  testing::ServerProcess proc_;
};

class DiodTarget final : public Target {
 public:
  DiodTarget() {
    auto d = testing::DiodServer::start();
    EXPECT_TRUE(d) << d.error().to_string();
    if (d) diod_ = std::move(*d);
  }
  bool is_diod() const override { return true; }
  const std::string& export_dir() const override { return diod_->export_dir(); }
  std::string aname() const override { return diod_->aname(); }
  Result<std::shared_ptr<client::Session>> connect(const client::SessionOptions& o) override {
    return client::Session::connect(diod_->address(), o);
  }
  std::string log() const override { return "diod log:\n" + diod_->log(); }

 private:
  std::unique_ptr<testing::DiodServer> diod_;
};

}  // namespace

std::unique_ptr<Target> make_target(const std::string& which) {
  if (which == "diod") return std::make_unique<DiodTarget>();
  if (which == "ninep-process") return std::make_unique<ProcessTarget>();
  return std::make_unique<OurTarget>();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

RawClient::RawClient(UniqueFd fd, std::uint32_t msize) : fd_(std::move(fd)), msize_(msize) {}

bool RawClient::send(std::uint16_t tag, const p9::Message& m) {
  std::vector<std::uint8_t> out(p9::encoded_size(m));
  auto n = p9::encode(out, tag, m);
  if (!n) return false;
  out.resize(*n);
  return send_bytes(out);
}

bool RawClient::send_bytes(const std::vector<std::uint8_t>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<RawClient::Reply> RawClient::recv(int timeout_ms) {
  for (;;) {
    if (buf_.size() >= 4) {
      std::uint32_t size = p9::load_le32(buf_.data());
      if (size < 7) return std::nullopt;
      if (buf_.size() >= size) {
        Reply r;
        r.frame.assign(buf_.begin(), buf_.begin() + size);
        buf_.erase(buf_.begin(), buf_.begin() + size);
        auto call = p9::decode(r.frame, 0);
        if (!call) {
          ADD_FAILURE() << "undecodable reply: " << call.error().to_string();
          return std::nullopt;
        }
        r.call = *call;
        return r;
      }
    }
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    std::uint8_t tmp[65536];
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n <= 0) return std::nullopt;
    buf_.insert(buf_.end(), tmp, tmp + n);
  }
}

bool RawClient::closed_by_peer(int timeout_ms) {
  for (;;) {
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    std::uint8_t tmp[4096];
    ssize_t n = ::read(fd_.get(), tmp, sizeof tmp);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
  }
}

void RawClient::handshake(std::uint32_t msize, std::uint32_t fid) {
  ASSERT_TRUE(send(p9::kNoTag, p9::Tversion{msize, p9::kVersion}));
  auto v = recv();
  ASSERT_TRUE(v);
  ASSERT_TRUE(std::holds_alternative<p9::Rversion>(v->call.msg));
  msize_ = std::get<p9::Rversion>(v->call.msg).msize;
  p9::Tattach a;
  a.fid = fid;
  a.uname = "0";
  a.n_uname = static_cast<std::uint32_t>(::getuid());
  ASSERT_TRUE(send(1, a));
  auto r = recv();
  ASSERT_TRUE(r);
  ASSERT_TRUE(std::holds_alternative<p9::Rattach>(r->call.msg)) << lerror(*r);
}

int lerror(const RawClient::Reply& r) {
  if (auto* e = std::get_if<p9::Rlerror>(&r.call.msg)) return static_cast<int>(e->ecode);
  return -1;
}

}  // namespace ninep::servertest
