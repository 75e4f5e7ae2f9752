// A request policy: a validated cBPF program that judges each 9P request from its record
// (record.h), as a socket filter judges a packet. Loaded once, run from any number of threads.
//
//   auto p = policy::Policy::from_file("/etc/ninep/guest.bpf");
//   policy::Decision d = p->decide(record);  // Allow, Log, Refuse (errno) or Kill
//
// PolicySlot holds an export's current policy: requests take a reference to the one in force
// (requests in flight keep theirs), and reload() swaps in a new one read from the same file.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "bpf/engine.h"
#include "bpf/raw.h"
#include "bpf/vm.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "policy/record.h"
#include "policy/rules.h"

namespace ninep::policy {

class Policy {
 public:
  // Validates `program` (EINVAL naming the offending instruction).
  static Result<Policy> from_program(std::span<const bpf::RawInstruction> program);
  // Rules (docs/policy.md: text whose first word is allow, log, deny or kill), compiled; or a
  // program in any text form the cbpf tools read: bpf_asm, bytecode (tcpdump -ddd), a C array
  // (tcpdump -dd) or a listing. EINVAL with the rule's line and column, or naming the forms
  // accepted.
  static Result<Policy> from_text(std::string_view text);
  // from_text() of the file's contents; errors name the file.
  static Result<Policy> from_file(const std::string& path);

  // The program's raw verdict for `r` (0 for a record too large to encode: refuses).
  std::uint32_t run(const RequestRecord& r) const;
  // What to do with `r`. A record whose name or path is longer than the record holds is refused
  // with ENAMETOOLONG without running the program.
  Decision decide(const RequestRecord& r) const;
  // What to do with a record already encoded (encode(), set_name()).
  Decision decide_encoded(std::span<const std::uint8_t> record) const {
    return policy::decide(vm_.run(record));
  }

  // Whether `name` can change the verdict for records otherwise alike (rules: NameScreen; a
  // program: always).
  bool name_may_matter(std::string_view name) const { return screen_.may_matter(name); }
  std::span<const bpf::RawInstruction> program() const { return vm_.program(); }
  bpf::Engine engine() const { return vm_.engine(); }

 private:
  explicit Policy(bpf::Vm vm) : vm_(std::move(vm)) {}
  bpf::Vm vm_;
  NameScreen screen_;
};

// An export's policy, replaceable while requests run.
class PolicySlot {
 public:
  // A slot with a policy that has no file (reload() keeps it).
  explicit PolicySlot(std::shared_ptr<const Policy> p) { replace(std::move(p)); }
  // Loads `path`. The file is found again at reload() through a descriptor of its directory
  // kept open, so a reload works after the server has been confined (chroot, namespace) and
  // sees a file replaced by rename (the usual way to update one atomically).
  static Result<std::shared_ptr<PolicySlot>> load(const std::string& path);

  // The policy in force. The reference stays valid until this thread's next current() call:
  // each thread keeps the last few policies it used (the request path takes no lock and touches
  // no shared counter; a replaced policy is freed once every thread has moved on).
  const Policy& current() const;
  void replace(std::shared_ptr<const Policy> p);
  // Reads the file again; on success the new policy is in force, on error (named by the
  // returned Error, naming the file) the old one stays. A slot without a file: nothing to do.
  Result<void> reload();
  const std::string& path() const { return path_; }

 private:
  PolicySlot() = default;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> current_;
  // current_'s version: unique across all slots and replacements, so that a thread's cached
  // (version, policy) pair is in force exactly when the version still is.
  std::atomic<std::uint64_t> version_{0};
  std::string path_;  // as given; empty for none
  UniqueFd dir_;      // the file's directory
  std::string base_;  // its name in there
};

}  // namespace ninep::policy
