#include "policy/policy.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf/text.h"
#include "policy/rules.h"

namespace ninep::policy {

namespace {

// Reads a whole (small) file from an open descriptor.
Result<std::string> read_all(int fd, const std::string& what) {
  constexpr std::size_t kMaxPolicyFile = 4 << 20;  // far beyond any real program's text
  std::string out;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(what);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxPolicyFile) return fail(EFBIG, what + ": too large for a policy");
  }
  return out;
}

Result<Policy> from_descriptor(int fd, const std::string& path) {
  auto text = read_all(fd, path);
  if (!text) return std::unexpected(text.error());
  auto p = Policy::from_text(*text);
  if (!p) return fail(p.error().code, path + ": " + p.error().message);
  return p;
}

}  // namespace

Result<Policy> Policy::from_program(std::span<const bpf::RawInstruction> program) {
  if (program.empty()) return fail(EINVAL, "empty program");
  auto vm = bpf::Vm::create(program);
  if (!vm) return std::unexpected(vm.error());
  return Policy(std::move(*vm));
}

namespace {

// Whether `text` is written in the rule language: its first word (after blank lines and #
// comments) is a rule's action. cBPF text never starts so.
bool is_rules(std::string_view text) {
  std::size_t i = 0;
  for (;;) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '#') break;
    i = text.find('\n', i);
    if (i == std::string_view::npos) return false;
  }
  std::size_t end = i;
  while (end < text.size() && std::isalpha(static_cast<unsigned char>(text[end]))) ++end;
  const std::string_view word = text.substr(i, end - i);
  return word == "allow" || word == "log" || word == "deny" || word == "kill";
}

}  // namespace

Result<Policy> Policy::from_text(std::string_view text) {
  if (is_rules(text)) {
    auto rules = parse_rules(text);
    if (!rules) return std::unexpected(rules.error());
    auto p = from_program(compile(*rules));
    if (p) p->screen_ = NameScreen(*rules);
    return p;
  }
  auto program = bpf::parse_program(text);
  if (!program)
    return fail(EINVAL, program.error().message +
                            " (a policy is rules (docs/policy.md) or a cBPF program: bpf_asm "
                            "text, bytecode as tcpdump -ddd prints it, a C array as tcpdump -dd "
                            "prints it, or a listing)");
  return from_program(*program);
}

Result<Policy> Policy::from_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path);
  return from_descriptor(fd.get(), path);
}

std::uint32_t Policy::run(const RequestRecord& r) const {
  // One buffer per thread, reused: no allocation per request once it has grown.
  thread_local std::vector<std::uint8_t> packet;
  if (!encode(r, packet)) return 0;
  return vm_.run(packet);
}

Decision Policy::decide(const RequestRecord& r) const {
  if (r.name.size() > kMaxName || r.path.size() > kMaxPath)
    return {Decision::Action::Refuse, ENAMETOOLONG};
  return policy::decide(run(r));
}

namespace {

std::atomic<std::uint64_t> next_version{1};

}  // namespace

const Policy& PolicySlot::current() const {
  struct Cached {
    std::uint64_t version = 0;
    std::shared_ptr<const Policy> policy;
  };
  thread_local std::array<Cached, 4> cache;
  thread_local unsigned next = 0;
  const std::uint64_t v = version_.load(std::memory_order_acquire);
  for (const Cached& c : cache)
    if (c.version == v && c.policy) return *c.policy;
  Cached fresh;
  {
    std::lock_guard lk(mu_);
    fresh = {version_.load(std::memory_order_relaxed), current_};
  }
  Cached& slot = cache[next++ % cache.size()];
  slot = std::move(fresh);
  return *slot.policy;
}

void PolicySlot::replace(std::shared_ptr<const Policy> p) {
  std::lock_guard lk(mu_);
  current_ = std::move(p);
  version_.store(next_version.fetch_add(1, std::memory_order_relaxed), std::memory_order_release);
}

Result<std::shared_ptr<PolicySlot>> PolicySlot::load(const std::string& path) {
  std::shared_ptr<PolicySlot> slot(new PolicySlot());
  slot->path_ = path;
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  slot->base_ = slash == std::string::npos ? path : path.substr(slash + 1);
  if (slot->base_.empty()) return fail(EISDIR, path + ": a directory, not a policy file");
  slot->dir_ = UniqueFd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!slot->dir_) return fail_errno(path);
  UniqueFd fd(::openat(slot->dir_.get(), slot->base_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path);
  auto p = from_descriptor(fd.get(), path);
  if (!p) return std::unexpected(p.error());
  slot->replace(std::make_shared<const Policy>(std::move(*p)));
  return slot;
}

Result<void> PolicySlot::reload() {
  if (!dir_) return {};
  UniqueFd fd(::openat(dir_.get(), base_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail_errno(path_);
  auto p = from_descriptor(fd.get(), path_);
  if (!p) return std::unexpected(p.error());
  replace(std::make_shared<const Policy>(std::move(*p)));
  return {};
}

}  // namespace ninep::policy
