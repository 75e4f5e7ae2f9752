// The load generator: see load_driver.h.
#include "load_driver.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <thread>

#include "common/unique_fd.h"
#include "p9/codec.h"
#include "p9/dirent.h"
#include "p9/frame_reader.h"
#include "transport/address.h"
#include "transport/socket.h"

namespace ninep::bench::load {

using Clock = std::chrono::steady_clock;

// ---- the tree ----

std::uint64_t Tree::file_size(int file) {
  static constexpr std::uint64_t kSizes[] = {4 << 10,   12 << 10,  32 << 10,  64 << 10,
                                             128 << 10, 256 << 10, 512 << 10, 1 << 20};
  return kSizes[file % 8];
}

std::uint64_t Tree::word_at(int dir, int file, std::uint64_t offset) {
  std::uint64_t seed = (std::uint64_t(dir) << 20 | std::uint64_t(file)) * 0xBF58476D1CE4E5B9ull;
  return (offset / 8 + 1) * 0x9E3779B97F4A7C15ull ^ seed;
}

namespace {

Result<void> make_dir(const std::string& path, mode_t mode, uid_t uid, gid_t gid) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return fail_errno("mkdir " + path);
  if (::chmod(path.c_str(), mode) != 0) return fail_errno("chmod " + path);
  if (::chown(path.c_str(), uid, gid) != 0) return fail_errno("chown " + path);
  return {};
}

struct User {
  std::string name;
  gid_t gid;
};

User user_of(std::uint32_t uid) {
  passwd pw{}, *res = nullptr;
  std::vector<char> buf(16384);
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res != nullptr)
    return {pw.pw_name, pw.pw_gid};
  return {std::to_string(uid), static_cast<gid_t>(uid)};
}

}  // namespace

Result<void> make_tree(const std::string& root, const Tree& tree) {
  const uid_t me = ::geteuid();
  const gid_t my_gid = ::getegid();
  if (auto r = make_dir(root + "/shared", 0755, me, my_gid); !r) return r;
  std::vector<std::uint64_t> words;
  for (int d = 0; d < tree.dirs; ++d) {
    std::string dir = fmt::format("{}/shared/d{}", root, d);
    if (auto r = make_dir(dir, 0755, me, my_gid); !r) return r;
    for (int f = 0; f < tree.files; ++f) {
      std::string path = fmt::format("{}/f{}", dir, f);
      words.resize(Tree::file_size(f) / 8);
      for (std::size_t i = 0; i < words.size(); ++i) words[i] = Tree::word_at(d, f, i * 8);
      UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd) return fail_errno("create " + path);
      const auto* p = reinterpret_cast<const char*>(words.data());
      std::size_t left = words.size() * 8;
      while (left > 0) {
        ssize_t n = ::write(fd.get(), p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fail_errno("write " + path);
        p += n;
        left -= static_cast<std::size_t>(n);
      }
      if (::fchmod(fd.get(), 0644) != 0) return fail_errno("chmod " + path);
    }
  }
  for (std::uint32_t uid : tree.uids) {
    if (auto r = make_dir(fmt::format("{}/u{}", root, uid), 0755, uid, user_of(uid).gid); !r)
      return r;
  }
  return {};
}

std::vector<std::uint32_t> default_uids() {
  if (::geteuid() == 0) return {1, 2, 3, 65534};
  return {static_cast<std::uint32_t>(::getuid())};
}

std::string_view op_name(Op op) {
  static constexpr std::string_view kNames[kOps] = {"Twalk",    "Tgetattr", "Tlopen",
                                                    "Tread",    "Twrite",   "Tlcreate",
                                                    "Treaddir", "Tremove",  "Tclunk"};
  return kNames[static_cast<int>(op)];
}

// ---- the histogram ----

namespace {

constexpr int kSubBits = 6;  // 64 buckets per power of two
constexpr std::uint64_t kLinear = 2u << kSubBits;
constexpr std::size_t kBuckets = (64 - kSubBits) << kSubBits;

std::size_t bucket_of(std::uint64_t v) {
  if (v < kLinear) return static_cast<std::size_t>(v);
  int shift = 63 - std::countl_zero(v) - kSubBits;
  return (std::size_t(shift + 1) << kSubBits) + static_cast<std::size_t>(v >> shift) -
         (std::size_t(1) << kSubBits);
}

std::uint64_t bucket_low(std::size_t i) {
  if (i < kLinear) return i;
  int shift = static_cast<int>(i >> kSubBits) - 1;
  return (std::uint64_t(i & ((1u << kSubBits) - 1)) + (1u << kSubBits)) << shift;
}

}  // namespace

Histogram::Histogram() : buckets_(kBuckets) {}

void Histogram::add(std::uint64_t ns) {
  ++buckets_[std::min(bucket_of(ns), kBuckets - 1)];
  ++count_;
  max_ = std::max(max_, ns);
}

void Histogram::merge(const Histogram& o) {
  for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

std::uint64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      std::uint64_t lo = bucket_low(i);
      std::uint64_t hi = i + 1 < kBuckets ? bucket_low(i + 1) - 1 : lo;
      return std::min((lo + hi) / 2, max_);
    }
  }
  return max_;
}

// ---- the report ----

std::uint64_t Report::total_count() const {
  std::uint64_t n = 0;
  for (const auto& o : ops) n += o.count;
  return n;
}

std::uint64_t Report::total_errors() const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : errors) n += v;
  return n;
}

std::uint64_t Report::errors_of(std::string_view what) const {
  std::uint64_t n = 0;
  for (const auto& [k, v] : errors)
    if (k.first == what) n += v;
  return n;
}

namespace {

// ---- the server's resources, from /proc ----

long count_fds(pid_t pid) {
  DIR* d = ::opendir(fmt::format("/proc/{}/fd", pid).c_str());
  if (d == nullptr) return -1;
  long n = 0;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

// A "Vm...:" line of /proc/PID/status, in KiB.
long status_kb(pid_t pid, std::string_view key) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 &&
        line[key.size()] == ':')
      return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return -1;
}

// The descriptor count of `pid` once it holds still for 100 ms (a connection that just closed, a
// readiness probe say, is still being let go), or the last one read after `limit`.
long steady_fds(pid_t pid, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  long last = count_fds(pid);
  int same = 0;
  while (same < 5 && Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    long now = count_fds(pid);
    same = now == last ? same + 1 : 0;
    last = now;
  }
  return last;
}

// ---- connections and slots ----

enum class Seq { Stat, Read, Readdir, Create, Write, Remove };

constexpr Op kStat[] = {Op::Walk, Op::Getattr, Op::Clunk};
constexpr Op kRead[] = {Op::Walk, Op::Lopen, Op::Read, Op::Clunk};
constexpr Op kReaddir[] = {Op::Walk, Op::Lopen, Op::Readdir, Op::Clunk};
constexpr Op kCreate[] = {Op::Walk, Op::Lcreate, Op::Write, Op::Clunk};
constexpr Op kWrite[] = {Op::Walk, Op::Lopen, Op::Write, Op::Clunk};
constexpr Op kRemove[] = {Op::Walk, Op::Remove};

std::span<const Op> steps_of(Seq s) {
  switch (s) {
    case Seq::Stat:
      return kStat;
    case Seq::Read:
      return kRead;
    case Seq::Readdir:
      return kReaddir;
    case Seq::Create:
      return kCreate;
    case Seq::Write:
      return kWrite;
    case Seq::Remove:
      return kRemove;
  }
  return {};
}

constexpr std::size_t kMaxOwnFiles = 2;  // files a slot keeps between its create and remove
constexpr std::uint32_t kRootFid = 0;
constexpr std::uint32_t kReaddirCount = 8192;

struct Conn;

struct Slot {
  Conn* conn = nullptr;
  int index = 0;
  std::uint16_t tag = 0;
  std::uint32_t fid = 0;
  std::mt19937_64 rng;
  Seq seq = Seq::Stat;
  std::size_t step = 0;
  bool in_flight = false, draining = false, done = false;
  Clock::time_point sent;
  // The sequence's parameters.
  int dir = 0, file = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  std::string name;
  std::uint64_t readdir_offset = 0;
  int readdir_files = 0;
  std::vector<std::string> own;  // files created in u<uid>, not yet removed
  std::uint64_t serial = 0;
};

struct Conn {
  int index = 0;
  UniqueFd fd;
  std::uint32_t uid = 0;
  gid_t gid = 0;
  std::string udir;  // "u<uid>"
  p9::FrameReader reader{0};
  std::uint32_t msize = 0;
  std::vector<std::uint8_t> out;
  std::size_t out_pos = 0;
  bool watching_out = false, dirty = false, dead = false;
  std::vector<Slot> slots;
  int active = 0;  // slots not done
};

// Waits for `events` on fd until `deadline`; ETIMEDOUT after it.
Result<void> wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return fail(ETIMEDOUT, "no answer from the server");
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
    if (n > 0) return {};
    if (n < 0 && errno != EINTR) return fail_errno("poll");
  }
}

Result<void> send_all(Conn& c, Clock::time_point deadline) {
  while (c.out_pos < c.out.size()) {
    ssize_t n =
        ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos, MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (auto r = wait_fd(c.fd.get(), POLLOUT, deadline); !r) return r;
    } else {
      return fail_errno("send");
    }
  }
  c.out.clear();
  c.out_pos = 0;
  return {};
}

Result<void> append(Conn& c, std::uint16_t tag, const p9::Message& m) {
  std::size_t at = c.out.size();
  c.out.resize(at + p9::encoded_size(m));
  auto n = p9::encode(std::span(c.out).subspan(at), tag, m);
  if (!n) return std::unexpected(n.error());
  return {};
}

// One reply, for the handshake: calls `on` with the decoded frame.
template <typename F>
Result<void> receive_one(Conn& c, Clock::time_point deadline, F&& on) {
  for (;;) {
    auto next = c.reader.next();
    if (!next) return std::unexpected(next.error());
    if (*next) {
      auto f = p9::decode(**next, c.reader.msize());
      if (!f) return std::unexpected(f.error());
      return on(*f);
    }
    auto space = c.reader.write_space(8192);
    ssize_t n = ::recv(c.fd.get(), space.data(), space.size(), 0);
    if (n > 0) {
      c.reader.commit(static_cast<std::size_t>(n));
    } else if (n == 0) {
      return fail(ECONNRESET, "the server closed the connection");
    } else if (errno == EAGAIN || errno == EINTR) {
      if (auto r = wait_fd(c.fd.get(), POLLIN, deadline); !r) return r;
    } else {
      return fail_errno("recv");
    }
  }
}

Result<void> lerror(const p9::Fcall& f, std::string_view what) {
  if (auto* e = std::get_if<p9::Rlerror>(&f.msg))
    return fail(static_cast<int>(e->ecode), std::string(what));
  return fail(EPROTO, fmt::format("{}: unexpected {}", what, p9::type_name(p9::type_of(f.msg))));
}

// Connects, negotiates the version and attaches as the connection's uid on fid 0.
Result<void> handshake(Conn& c, const Options& o) {
  auto addr = transport::parse_address(o.address);
  if (!addr) return std::unexpected(addr.error());
  auto fd = transport::dial(*addr);
  if (!fd) return std::unexpected(fd.error());
  c.fd = std::move(*fd);
  int fl = ::fcntl(c.fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(c.fd.get(), F_SETFL, fl | O_NONBLOCK) != 0) return fail_errno("fcntl");
  auto deadline = Clock::now() + std::chrono::seconds(10);

  if (auto r = append(c, p9::kNoTag, p9::Tversion{o.msize, p9::kVersion}); !r) return r;
  if (auto r = send_all(c, deadline); !r) return r;
  auto v = receive_one(c, deadline, [&](const p9::Fcall& f) -> Result<void> {
    auto* rv = std::get_if<p9::Rversion>(&f.msg);
    if (rv == nullptr) return lerror(f, "Tversion");
    if (rv->version != p9::kVersion || rv->msize < 4096 || rv->msize > o.msize)
      return fail(EPROTO, fmt::format("Rversion {} msize {}", rv->version, rv->msize));
    c.msize = rv->msize;
    return {};
  });
  if (!v) return v;
  c.reader.set_msize(c.msize);

  User u = user_of(c.uid);
  c.gid = u.gid;
  p9::Tattach at{kRootFid, p9::kNoFid, u.name, o.aname, c.uid};
  if (auto r = append(c, 0, at); !r) return r;
  if (auto r = send_all(c, deadline); !r) return r;
  return receive_one(c, deadline, [&](const p9::Fcall& f) -> Result<void> {
    if (!std::holds_alternative<p9::Rattach>(f.msg))
      return lerror(f, fmt::format("Tattach as uid {} ({})", c.uid, u.name));
    return {};
  });
}

struct Stats {
  std::array<OpReport, kOps> ops;
  std::map<std::pair<std::string, int>, std::uint64_t> errors;
  std::vector<std::string> samples;
  std::uint64_t sequences = 0;
};

constexpr std::size_t kMaxSamples = 10;

// Drives a share of the connections from one thread.
class Worker {
 public:
  Worker(const Options& o, std::vector<Conn*> conns, Clock::time_point deadline, ServerWatch* watch)
      : o_(o), conns_(std::move(conns)), deadline_(deadline), watch_(watch) {
    write_data_.resize(64 << 10);
    for (std::size_t i = 0; i < write_data_.size(); ++i)
      write_data_[i] = static_cast<std::uint8_t>(i * 7 + 1);
  }

  Stats& stats() { return stats_; }

  void run() {
    epfd_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epfd_) {
      for (Conn* c : conns_) fail_conn(*c, errno, "epoll_create1");
      return;
    }
    for (Conn* c : conns_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      if (::epoll_ctl(epfd_.get(), EPOLL_CTL_ADD, c->fd.get(), &ev) != 0) {
        fail_conn(*c, errno, "epoll_ctl");
        continue;
      }
      for (Slot& s : c->slots) start_sequence(s);
    }
    flush_dirty();
    const auto hard_deadline = deadline_ + o_.drain;
    auto next_sample = Clock::now();
    std::vector<epoll_event> events(64);
    while (any_active()) {
      auto now = Clock::now();
      if (watch_ != nullptr && now >= next_sample) {
        sample();
        next_sample = now + o_.sample_every;
      }
      if (now >= hard_deadline) {
        for (Conn* c : conns_) {
          for (Slot& s : c->slots) {
            if (s.in_flight)
              error(s, steps_of(s.seq)[s.step], ETIMEDOUT, "no reply after the drain time");
          }
          fail_conn(*c, ETIMEDOUT, "replies still missing after the drain time", false);
        }
        break;
      }
      auto until = std::min(watch_ != nullptr ? next_sample : hard_deadline, hard_deadline);
      if (now < deadline_) until = std::min(until, deadline_);
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
      int n = ::epoll_wait(epfd_.get(), events.data(), static_cast<int>(events.size()),
                           static_cast<int>(std::max<long>(ms, 0)));
      if (n < 0 && errno != EINTR) {
        for (Conn* c : conns_) fail_conn(*c, errno, "epoll_wait");
        break;
      }
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(events[i].data.ptr);
        if (c.dead) continue;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) receive(c);
        if (!c.dead && (events[i].events & EPOLLOUT)) flush(c);
      }
      flush_dirty();
    }
    if (watch_ != nullptr) sample();
  }

 private:
  bool any_active() const {
    for (Conn* c : conns_)
      if (!c->dead && c->active > 0) return true;
    return false;
  }

  void sample() {
    long fds = count_fds(watch_->pid);
    if (fds > watch_->fds_peak) watch_->fds_peak = fds;
  }

  void error(const Slot& s, Op op, int code, const std::string& detail) {
    error_as(std::string(op_name(op)), code,
             fmt::format("{} (connection {} slot {}, uid {}): {}", op_name(op), s.conn->index,
                         s.index, s.conn->uid, detail));
  }

  // Counts an error; the first of each kind (what failed, errno) is also kept in words.
  void error_as(const std::string& what, int code, std::string text) {
    if (++stats_.errors[{what, code}] == 1 && stats_.samples.size() < kMaxSamples) {
      if (code != 0) text += fmt::format(": {}", std::strerror(code));
      stats_.samples.push_back(std::move(text));
    }
  }

  // Ends a connection: counts one error for it, and every slot is done.
  void fail_conn(Conn& c, int code, std::string_view what, bool count = true) {
    if (c.dead) return;
    if (count) error_as("connection", code, fmt::format("connection {}: {}", c.index, what));
    c.dead = true;
    if (epfd_) ::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, c.fd.get(), nullptr);
    c.fd.reset();
    for (Slot& s : c.slots) {
      s.done = true;
      s.in_flight = false;
    }
    c.active = 0;
  }

  std::uint32_t io_max(const Conn& c) const { return c.msize - p9::kIoHeaderSize; }

  // A size of 4..64 KiB in 4 KiB steps, at most what one message carries.
  std::uint32_t io_size(Slot& s) {
    std::uint32_t n = static_cast<std::uint32_t>(1 + s.rng() % 16) * 4096;
    return std::min(n, io_max(*s.conn));
  }

  void start_sequence(Slot& s) {
    if (Clock::now() >= deadline_) s.draining = true;
    if (s.draining) {
      if (s.own.empty()) {
        s.done = true;
        --s.conn->active;
        return;
      }
      s.seq = Seq::Remove;
    } else {
      auto r = s.rng() % 100;
      s.seq = r < 30   ? Seq::Stat
              : r < 55 ? Seq::Read
              : r < 65 ? Seq::Readdir
              : r < 80 ? Seq::Write
              : r < 90 ? Seq::Create
                       : Seq::Remove;
      if ((s.seq == Seq::Write || s.seq == Seq::Remove) && s.own.empty()) s.seq = Seq::Create;
      if (s.seq == Seq::Create && s.own.size() >= kMaxOwnFiles) s.seq = Seq::Remove;
    }
    s.step = 0;
    s.dir = static_cast<int>(s.rng() % static_cast<unsigned>(o_.tree.dirs));
    s.file = static_cast<int>(s.rng() % static_cast<unsigned>(o_.tree.files));
    switch (s.seq) {
      case Seq::Read: {
        std::uint64_t size = Tree::file_size(s.file);
        s.offset = (s.rng() % (size / 4096)) * 4096;
        s.count = io_size(s);
        break;
      }
      case Seq::Readdir:
        s.readdir_offset = 0;
        s.readdir_files = 0;
        break;
      case Seq::Create:
        s.name = fmt::format("p{}c{}s{}n{}", ::getpid(), s.conn->index, s.index, s.serial++);
        s.offset = 0;
        s.count = io_size(s);
        break;
      case Seq::Write:
        s.name = s.own[s.rng() % s.own.size()];
        s.offset = (s.rng() % 16) * 4096;
        s.count = io_size(s);
        break;
      case Seq::Remove:
        s.name = s.own.back();
        s.own.pop_back();  // forgotten whatever happens
        break;
      case Seq::Stat:
        break;
    }
    send_step(s);
  }

  void send_step(Slot& s) {
    Conn& c = *s.conn;
    const Op op = steps_of(s.seq)[s.step];
    p9::Message m;
    switch (op) {
      case Op::Walk: {
        p9::Twalk w;
        w.fid = kRootFid;
        w.newfid = s.fid;
        auto dir = fmt::format("d{}", s.dir);
        auto file = fmt::format("f{}", s.file);
        names_[0] = dir;
        names_[1] = file;
        if (s.seq == Seq::Stat || s.seq == Seq::Read) {
          w.nwname = 3;
          w.wnames[0] = "shared";
          w.wnames[1] = names_[0];
          w.wnames[2] = names_[1];
        } else if (s.seq == Seq::Readdir) {
          w.nwname = 2;
          w.wnames[0] = "shared";
          w.wnames[1] = names_[0];
        } else if (s.seq == Seq::Create) {
          w.nwname = 1;
          w.wnames[0] = c.udir;
        } else {
          w.nwname = 2;
          w.wnames[0] = c.udir;
          w.wnames[1] = s.name;
        }
        m = w;
        break;
      }
      case Op::Getattr:
        m = p9::Tgetattr{s.fid, p9::kGetattrBasic};
        break;
      case Op::Lopen:
        m = p9::Tlopen{s.fid, s.seq == Seq::Readdir ? p9::kORdonly | p9::kODirectory
                              : s.seq == Seq::Write ? p9::kOWronly
                                                    : p9::kORdonly};
        break;
      case Op::Read:
        m = p9::Tread{s.fid, s.offset, s.count};
        break;
      case Op::Write:
        m = p9::Twrite{s.fid, s.offset, std::span(write_data_).first(s.count)};
        break;
      case Op::Lcreate:
        m = p9::Tlcreate{s.fid, s.name, p9::kORdwr | p9::kOCreate | p9::kOExcl, 0644, c.gid};
        break;
      case Op::Readdir:
        m = p9::Treaddir{s.fid, s.readdir_offset, kReaddirCount};
        break;
      case Op::Remove:
        m = p9::Tremove{s.fid};
        break;
      case Op::Clunk:
        m = p9::Tclunk{s.fid};
        break;
    }
    if (auto r = append(c, s.tag, m); !r) {
      fail_conn(c, r.error().code, "encode: " + r.error().message);
      return;
    }
    s.in_flight = true;
    s.sent = Clock::now();
    if (!c.dirty) {
      c.dirty = true;
      dirty_.push_back(&c);
    }
  }

  void flush_dirty() {
    for (Conn* c : dirty_) {
      c->dirty = false;
      if (!c->dead) flush(*c);
    }
    dirty_.clear();
  }

  void flush(Conn& c) {
    while (c.out_pos < c.out.size()) {
      ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.out.size() - c.out_pos,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.out_pos += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {
        break;
      } else {
        fail_conn(c, errno, "send");
        return;
      }
    }
    bool pending = c.out_pos < c.out.size();
    if (!pending) {
      c.out.clear();
      c.out_pos = 0;
    } else if (c.out_pos > (1u << 20)) {
      c.out.erase(c.out.begin(), c.out.begin() + static_cast<std::ptrdiff_t>(c.out_pos));
      c.out_pos = 0;
    }
    if (pending != c.watching_out) {
      epoll_event ev{};
      ev.events = pending ? EPOLLIN | EPOLLOUT : EPOLLIN;
      ev.data.ptr = &c;
      if (::epoll_ctl(epfd_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
        fail_conn(c, errno, "epoll_ctl");
        return;
      }
      c.watching_out = pending;
    }
  }

  void receive(Conn& c) {
    auto space = c.reader.write_space(256 << 10);
    ssize_t n = ::recv(c.fd.get(), space.data(), space.size(), MSG_DONTWAIT);
    if (n == 0) {
      fail_conn(c, ECONNRESET, "the server closed the connection");
      return;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EINTR) fail_conn(c, errno, "recv");
      return;
    }
    c.reader.commit(static_cast<std::size_t>(n));
    for (;;) {
      auto frame = c.reader.next();
      if (!frame) {
        fail_conn(c, frame.error().code, frame.error().message);
        return;
      }
      if (!*frame) return;
      auto f = p9::decode(**frame, c.msize);
      if (!f) {
        fail_conn(c, f.error().code, "a reply: " + f.error().message);
        return;
      }
      if (f->tag >= c.slots.size() || !c.slots[f->tag].in_flight) {
        fail_conn(c, EPROTO, fmt::format("a reply with tag {} that is not in flight", f->tag));
        return;
      }
      on_reply(c.slots[f->tag], *f);
      if (c.dead) return;
    }
  }

  // What is wrong with a successful reply (0: nothing), with a description.
  int check_reply(Slot& s, Op op, const p9::Fcall& f, std::string& detail) {
    switch (op) {
      case Op::Walk: {
        const auto& w = std::get<p9::Rwalk>(f.msg);
        std::size_t want = (s.seq == Seq::Stat || s.seq == Seq::Read) ? 3
                           : (s.seq == Seq::Create)                   ? 1
                                                                      : 2;
        if (w.nwqid != want) {
          detail = fmt::format("walked {} of {} names", w.nwqid, want);
          return ENOENT;
        }
        return 0;
      }
      case Op::Read: {
        const auto& r = std::get<p9::Rread>(f.msg);
        std::uint64_t size = Tree::file_size(s.file);
        std::uint64_t want = std::min<std::uint64_t>(s.count, size - s.offset);
        if (r.data.size() != want) {
          detail = fmt::format("shared/d{}/f{} at {}: {} bytes, not {}", s.dir, s.file, s.offset,
                               r.data.size(), want);
          return EIO;
        }
        for (std::size_t i = 0; i + 8 <= r.data.size(); i += 8) {
          std::uint64_t w;
          std::memcpy(&w, r.data.data() + i, 8);
          if (w != Tree::word_at(s.dir, s.file, s.offset + i)) {
            detail = fmt::format("shared/d{}/f{}: wrong data at {}", s.dir, s.file, s.offset + i);
            return EIO;
          }
        }
        return 0;
      }
      case Op::Write: {
        const auto& w = std::get<p9::Rwrite>(f.msg);
        if (w.count != s.count) {
          detail = fmt::format("{}: wrote {} of {} bytes", s.name, w.count, s.count);
          return EIO;
        }
        return 0;
      }
      case Op::Readdir: {
        const auto& r = std::get<p9::Rreaddir>(f.msg);
        p9::DirentReader rd(r.data);
        for (;;) {
          auto e = rd.next();
          if (!e) {
            detail = e.error().message;
            return EPROTO;
          }
          if (!*e) break;
          if (!(*e)->name.empty() && (*e)->name[0] == 'f') ++s.readdir_files;
          s.readdir_offset = (*e)->offset;
        }
        if (r.data.empty() && s.readdir_files != o_.tree.files) {
          detail = fmt::format("shared/d{}: {} files listed, not {}", s.dir, s.readdir_files,
                               o_.tree.files);
          return EIO;
        }
        return 0;
      }
      default:
        return 0;
    }
  }

  void on_reply(Slot& s, const p9::Fcall& f) {
    const auto now = Clock::now();
    s.in_flight = false;
    const auto steps = steps_of(s.seq);
    const Op op = steps[s.step];
    if (!s.draining && now <= deadline_) {
      auto& r = stats_.ops[static_cast<int>(op)];
      ++r.count;
      r.latency.add(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - s.sent).count()));
    }
    int err = 0;
    std::string detail;
    const auto want = static_cast<p9::Type>(static_cast<std::uint8_t>(request_type(op)) + 1);
    if (auto* e = std::get_if<p9::Rlerror>(&f.msg)) {
      err = static_cast<int>(e->ecode);
      detail = describe(s, op);
    } else if (p9::type_of(f.msg) != want) {
      err = EPROTO;
      detail =
          fmt::format("{} answered with {}", describe(s, op), p9::type_name(p9::type_of(f.msg)));
    } else {
      err = check_reply(s, op, f, detail);
    }
    if (err != 0) error(s, op, err, detail);

    // The next step.
    bool again = false;
    if (err == 0 && op == Op::Lcreate) s.own.push_back(s.name);
    if (err == 0 && op == Op::Readdir && !std::get<p9::Rreaddir>(f.msg).data.empty()) again = true;
    if (again) {
      send_step(s);
      return;
    }
    if (err != 0) {
      // No fid after a failed walk or remove, or a clunk: the sequence ends. Else clunk it.
      if (op == Op::Walk || op == Op::Remove || op == Op::Clunk) {
        end_sequence(s);
      } else {
        s.step = steps.size() - 1;
        send_step(s);
      }
      return;
    }
    if (++s.step == steps.size()) {
      end_sequence(s);
      return;
    }
    send_step(s);
  }

  void end_sequence(Slot& s) {
    ++stats_.sequences;
    start_sequence(s);
  }

  static p9::Type request_type(Op op) {
    switch (op) {
      case Op::Walk:
        return p9::Type::Twalk;
      case Op::Getattr:
        return p9::Type::Tgetattr;
      case Op::Lopen:
        return p9::Type::Tlopen;
      case Op::Read:
        return p9::Type::Tread;
      case Op::Write:
        return p9::Type::Twrite;
      case Op::Lcreate:
        return p9::Type::Tlcreate;
      case Op::Readdir:
        return p9::Type::Treaddir;
      case Op::Remove:
        return p9::Type::Tremove;
      case Op::Clunk:
        return p9::Type::Tclunk;
    }
    return p9::Type::Tclunk;
  }

  std::string describe(const Slot& s, Op op) const {
    const auto& udir = s.conn->udir;
    switch (s.seq) {
      case Seq::Stat:
      case Seq::Read:
        return fmt::format("shared/d{}/f{}", s.dir, s.file);
      case Seq::Readdir:
        return fmt::format("shared/d{}", s.dir);
      case Seq::Create:
        return op == Op::Walk ? udir : fmt::format("{}/{}", udir, s.name);
      case Seq::Write:
      case Seq::Remove:
        return fmt::format("{}/{}", udir, s.name);
    }
    return {};
  }

  const Options& o_;
  std::vector<Conn*> conns_;
  Clock::time_point deadline_;
  ServerWatch* watch_;
  UniqueFd epfd_;
  Stats stats_;
  std::vector<Conn*> dirty_;
  std::vector<std::uint8_t> write_data_;
  std::string names_[2];
};

}  // namespace

Result<Report> run(const Options& o) {
  if (o.connections < 1 || o.depth < 1 || o.depth > 0xFFFE || o.threads < 1 || o.seconds <= 0)
    return fail(EINVAL, "connections, depth, threads and seconds must be positive (depth < 65535)");
  if (o.tree.uids.empty() || o.tree.dirs < 1 || o.tree.files < 1)
    return fail(EINVAL, "the tree needs uids, directories and files");
  if (o.msize < 4096 + p9::kIoHeaderSize) return fail(EINVAL, "msize too small");

  Report rep;
  rep.address = o.address;
  rep.connections = o.connections;
  rep.depth = o.depth;
  rep.threads = std::min(o.threads, o.connections);
  rep.uids = o.tree.uids;

  std::optional<ServerWatch> watch;
  if (o.watch_pid > 0) {
    watch.emplace();
    watch->pid = o.watch_pid;
    watch->fds_before = steady_fds(o.watch_pid, o.settle);
    watch->fds_peak = watch->fds_before;
    watch->rss_before_kb = status_kb(o.watch_pid, "VmRSS");
    watch->anon_before_kb = status_kb(o.watch_pid, "RssAnon");
  }

  std::vector<std::unique_ptr<Conn>> conns;
  std::random_device seed_source;
  const std::uint64_t seed = (std::uint64_t(seed_source()) << 32) ^ seed_source();
  for (int i = 0; i < o.connections; ++i) {
    auto c = std::make_unique<Conn>();
    c->index = i;
    c->uid = o.tree.uids[static_cast<std::size_t>(i) % o.tree.uids.size()];
    c->udir = fmt::format("u{}", c->uid);
    if (auto r = handshake(*c, o); !r)
      return fail(r.error().code,
                  fmt::format("connection {} to {}: {}", i, o.address, r.error().message));
    rep.msize = c->msize;
    c->slots.resize(static_cast<std::size_t>(o.depth));
    for (int k = 0; k < o.depth; ++k) {
      Slot& s = c->slots[static_cast<std::size_t>(k)];
      s.conn = c.get();
      s.index = k;
      s.tag = static_cast<std::uint16_t>(k);
      s.fid = static_cast<std::uint32_t>(k + 1);
      s.rng.seed(seed ^ (std::uint64_t(i) << 32 | std::uint64_t(k)) * 0x9E3779B97F4A7C15ull);
    }
    c->active = o.depth;
    conns.push_back(std::move(c));
  }

  std::vector<std::unique_ptr<Worker>> workers;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int t = 0; t < rep.threads; ++t) {
    std::vector<Conn*> mine;
    for (std::size_t i = static_cast<std::size_t>(t); i < conns.size();
         i += static_cast<std::size_t>(rep.threads))
      mine.push_back(conns[i].get());
    workers.push_back(std::make_unique<Worker>(o, std::move(mine), deadline,
                                               t == 0 && watch ? &*watch : nullptr));
  }
  std::vector<std::thread> threads;
  for (std::size_t t = 1; t < workers.size(); ++t)
    threads.emplace_back([w = workers[t].get()] { w->run(); });
  workers[0]->run();
  for (auto& t : threads) t.join();
  rep.seconds = o.seconds;

  for (auto& w : workers) {
    Stats& st = w->stats();
    for (int i = 0; i < kOps; ++i) {
      rep.ops[i].count += st.ops[i].count;
      rep.ops[i].latency.merge(st.ops[i].latency);
    }
    for (const auto& [k, v] : st.errors) rep.errors[k] += v;
    for (auto& s : st.samples)
      if (rep.error_samples.size() < kMaxSamples) rep.error_samples.push_back(std::move(s));
    rep.sequences += st.sequences;
  }

  conns.clear();  // disconnect
  if (watch) {
    const auto closed = Clock::now();
    for (;;) {
      watch->fds_after = count_fds(o.watch_pid);
      watch->fds_back = watch->fds_after == watch->fds_before && watch->fds_before >= 0;
      if (watch->fds_back || Clock::now() - closed >= o.settle) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    watch->settle_s = std::chrono::duration<double>(Clock::now() - closed).count();
    watch->rss_after_kb = status_kb(o.watch_pid, "VmRSS");
    watch->anon_after_kb = status_kb(o.watch_pid, "RssAnon");
    watch->rss_peak_kb = status_kb(o.watch_pid, "VmHWM");
    rep.server = watch;
  }
  return rep;
}

namespace {

double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

}  // namespace

void print_report(std::FILE* out, const Report& r) {
  std::string uids;
  for (auto u : r.uids) uids += (uids.empty() ? "" : ",") + std::to_string(u);
  fmt::print(out, "bench_load {}: {} connections x {} in flight, {:.1f} s, msize {}, uids {}\n",
             r.address, r.connections, r.depth, r.seconds, r.msize, uids);
  fmt::print(out, "{:<10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8}\n", "request", "count", "ops/s",
             "p50 us", "p99 us", "p99.9 us", "errors");
  Histogram all;
  for (int i = 0; i < kOps; ++i) {
    const auto& o = r.ops[i];
    auto name = op_name(static_cast<Op>(i));
    all.merge(o.latency);
    fmt::print(out, "{:<10} {:>10} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>8}\n", name, o.count,
               static_cast<double>(o.count) / r.seconds, us(o.latency.quantile(0.5)),
               us(o.latency.quantile(0.99)), us(o.latency.quantile(0.999)), r.errors_of(name));
  }
  fmt::print(out, "{:<10} {:>10} {:>10.1f} {:>10.1f} {:>10.1f} {:>10.1f} {:>8}\n", "total",
             r.total_count(), static_cast<double>(r.total_count()) / r.seconds,
             us(all.quantile(0.5)), us(all.quantile(0.99)), us(all.quantile(0.999)),
             r.total_errors());
  fmt::print(out, "sequences: {}, errors: {}\n", r.sequences, r.total_errors());
  for (const auto& [k, v] : r.errors)
    fmt::print(out, "  {} {}: {}\n", k.first, k.second ? std::strerror(k.second) : "-", v);
  for (const auto& s : r.error_samples) fmt::print(out, "  e.g. {}\n", s);
  if (r.server) {
    const auto& w = *r.server;
    fmt::print(
        out,
        "server pid {}: descriptors {} before, {} peak, {} after ({}, {:.2f} s after the "
        "disconnect); RSS {} KiB before, {} KiB peak (VmHWM), {} KiB after; anonymous memory "
        "{} KiB before, {} KiB after\n",
        w.pid, w.fds_before, w.fds_peak, w.fds_after,
        w.fds_back ? "back to baseline" : "NOT back to baseline", w.settle_s, w.rss_before_kb,
        w.rss_peak_kb, w.rss_after_kb, w.anon_before_kb, w.anon_after_kb);
  }
}

Result<void> write_csv(const std::string& path, const Report& r) {
  std::string s = "metric,unit,value\n";
  s += fmt::format("total,ops/s,{:.1f}\n", static_cast<double>(r.total_count()) / r.seconds);
  for (int i = 0; i < kOps; ++i) {
    const auto& o = r.ops[i];
    auto name = op_name(static_cast<Op>(i));
    s += fmt::format("{},ops/s,{:.1f}\n", name, static_cast<double>(o.count) / r.seconds);
    s += fmt::format("{} p50,us,{:.1f}\n", name, us(o.latency.quantile(0.5)));
    s += fmt::format("{} p99,us,{:.1f}\n", name, us(o.latency.quantile(0.99)));
    s += fmt::format("{} p99.9,us,{:.1f}\n", name, us(o.latency.quantile(0.999)));
    s += fmt::format("{} errors,count,{}\n", name, r.errors_of(name));
  }
  s += fmt::format("errors,count,{}\n", r.total_errors());
  if (r.server) {
    const auto& w = *r.server;
    s += fmt::format("server fds before,count,{}\n", w.fds_before);
    s += fmt::format("server fds peak,count,{}\n", w.fds_peak);
    s += fmt::format("server fds after,count,{}\n", w.fds_after);
    s += fmt::format("server fds back,bool,{}\n", w.fds_back ? 1 : 0);
    s += fmt::format("server rss before,KiB,{}\n", w.rss_before_kb);
    s += fmt::format("server rss peak,KiB,{}\n", w.rss_peak_kb);
    s += fmt::format("server rss after,KiB,{}\n", w.rss_after_kb);
    s += fmt::format("server anon before,KiB,{}\n", w.anon_before_kb);
    s += fmt::format("server anon after,KiB,{}\n", w.anon_after_kb);
  }
  std::ofstream out(path, std::ios::trunc);
  out << s;
  out.close();
  if (!out) return fail(EIO, "write " + path);
  return {};
}

}  // namespace ninep::bench::load
