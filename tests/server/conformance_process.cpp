// The conformance suite against `ninep serve` as a separate process, with its default options:
// its seccomp filter (kill) and its sandbox, so every request path runs under both.
#include "conformance.h"

namespace ninep::servertest {
INSTANTIATE_TEST_SUITE_P(NinepProcess, Conformance,
                         ::testing::Values(std::string("ninep-process")));
}  // namespace ninep::servertest
