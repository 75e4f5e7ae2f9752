#include "server/budget.h"

namespace ninep::server {

Budget::Budget(std::uint64_t max_bytes, std::uint64_t max_descriptors)
    : limit_{max_bytes, max_descriptors} {}

std::uint64_t Budget::total(Kind k) const {
  std::lock_guard lk(mu_);
  return total_[k];
}

Budget::Account::Account(Budget& b) : b_(b) {
  std::lock_guard lk(b_.mu_);
  ++b_.accounts_;
}

Budget::Account::~Account() {
  std::lock_guard lk(b_.mu_);
  for (int k = 0; k < 2; ++k) b_.total_[k] -= held_[k];
  --b_.accounts_;
}

bool Budget::allowed_locked(Kind k, std::uint64_t held, std::uint64_t n) const {
  const std::uint64_t after = total_[k] + n;
  if (after > limit_[k]) return false;
  const std::uint64_t open_to_all = limit_[k] - limit_[k] / 4;
  // An equal share counted with one connection more than there are: a lone connection has none
  // of the last quarter, a newcomer all of it.
  return after <= open_to_all || held + n <= limit_[k] / (accounts_ + 1);
}

bool Budget::Account::take(Kind k, std::uint64_t n) {
  std::lock_guard lk(b_.mu_);
  if (!b_.allowed_locked(k, held_[k], n)) return false;
  held_[k] += n;
  b_.total_[k] += n;
  return true;
}

void Budget::Account::force(Kind k, std::uint64_t n) {
  std::lock_guard lk(b_.mu_);
  held_[k] += n;
  b_.total_[k] += n;
}

void Budget::Account::give(Kind k, std::uint64_t n) {
  std::lock_guard lk(b_.mu_);
  held_[k] -= n;
  b_.total_[k] -= n;
}

bool Budget::Account::over_share(Kind k) const {
  std::lock_guard lk(b_.mu_);
  return held_[k] > 0 && !b_.allowed_locked(k, held_[k] - 1, 1);
}

std::uint64_t Budget::Account::held(Kind k) const {
  std::lock_guard lk(b_.mu_);
  return held_[k];
}

}  // namespace ninep::server
