// One-line human-readable rendering of 9P messages, for `ninep decode` and server tracing.
#pragma once

#include <string>

#include "p9/message.h"

namespace ninep::p9 {

// e.g. "Twalk tag=1 fid=0 newfid=1 wnames=[a b]", "Rread tag=3 count=4096",
// "Rlerror tag=2 ecode=2 (No such file or directory)". Strings are quoted/escaped when they
// contain spaces or non-printable bytes; payloads are shown as a count plus a short hex preview.
std::string to_string(const Fcall& f);
std::string to_string(const Qid& q);

}  // namespace ninep::p9
