// An export served in process with a request policy (policy/policy.h), reached through the
// client library; shared by the policy tests (bpf_asm programs and the rule language).
#pragma once

#include <unistd.h>

#include <memory>
#include <mutex>
#include <string>

#include "harness.h"
#include "policy/policy.h"

namespace ninep::servertest {

inline client::Fid attach_as(const std::shared_ptr<client::Session>& s, std::uint32_t uid) {
  auto r = s->attach(std::to_string(uid), "", uid);
  EXPECT_TRUE(r) << r.error().to_string();
  return r ? std::move(*r) : client::Fid();
}

inline client::Fid attach(const std::shared_ptr<client::Session>& s) {
  return attach_as(s, ::getuid());
}

inline std::shared_ptr<policy::PolicySlot> slot_of(const std::string& text) {
  auto p = policy::Policy::from_text(text);
  EXPECT_TRUE(p) << p.error().to_string() << "\n" << text;
  if (!p) return nullptr;
  return std::make_shared<policy::PolicySlot>(
      std::make_shared<const policy::Policy>(std::move(*p)));
}

// A served export whose requests `policy_text` (rules or a cBPF program) judges; log lines are
// kept.
struct Served {
  explicit Served(const std::string& policy_text) {
    InProcessServer::Options o;
    o.policy = slot_of(policy_text);
    o.config.log_level = server::LogLevel::Warn;
    o.config.log_sink = [this](server::LogLevel, std::string_view line) {
      std::lock_guard lk(mu);
      log += std::string(line) + "\n";
    };
    srv = InProcessServer::start(std::move(o));
  }
  std::string logged() {
    std::lock_guard lk(mu);
    return log;
  }
  std::mutex mu;
  std::string log;
  std::unique_ptr<InProcessServer> srv;
};

}  // namespace ninep::servertest
