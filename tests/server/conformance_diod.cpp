// The conformance suite against diod.
#include "conformance.h"

namespace ninep::servertest {
INSTANTIATE_TEST_SUITE_P(Diod, Conformance, ::testing::Values(std::string("diod")));
}  // namespace ninep::servertest
