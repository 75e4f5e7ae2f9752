// The conformance suite against our server (in process).
#include "conformance.h"

namespace ninep::servertest {
INSTANTIATE_TEST_SUITE_P(Ninep, Conformance, ::testing::Values(std::string("ninep")));
}  // namespace ninep::servertest
