// Plain value types returned by the client library. They own their strings (no views into reply
// frames), so they stay valid after the request that produced them has completed.
#pragma once

#include <cstdint>
#include <string>

#include "p9/message.h"

namespace ninep::client {

// Rgetattr has no views, so it is used as is: `valid` says which fields the server filled in.
using Attr = p9::Rgetattr;
// Rstatfs likewise.
using StatFs = p9::Rstatfs;

// What Tlopen/Tlcreate return. iounit 0 means "no preference": use Session::max_io().
struct OpenInfo {
  p9::Qid qid;
  std::uint32_t iounit = 0;
};

// Attributes to change (Tsetattr). Only the fields whose bit is in `valid` (p9::kSetattr*) are sent
// meaningfully. A time bit without its *_SET bit means "set to now, on the server".
struct SetAttr {
  std::uint32_t valid = 0;
  std::uint32_t mode = 0, uid = 0, gid = 0;
  std::uint64_t size = 0;
  std::uint64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
};

// One directory entry. `offset` is the server's cookie: pass it to readdir to resume after it.
struct DirEntry {
  p9::Qid qid;
  std::uint64_t offset = 0;
  std::uint8_t type = 0;  // Linux DT_* value
  std::string name;
};

// A POSIX byte-range lock request (Tlock / Tgetlock). length 0 means "to the end of the file".
struct LockRequest {
  std::uint8_t type = p9::kLockWrlck;  // p9::kLockRdlck / kLockWrlck / kLockUnlck
  std::uint32_t flags = 0;             // p9::kLockFlagBlock / kLockFlagReclaim (Tlock only)
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id;
};

// Rgetlock: the conflicting lock, or type == p9::kLockUnlck when the range is free.
struct LockInfo {
  std::uint8_t type = p9::kLockUnlck;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id;
};

// Counters for tests and diagnostics (leak checks: after a workload both "in use" go back to
// what they were before it).
struct SessionStats {
  std::uint32_t tags_in_use =
      0;  // requests sent and not yet completed (incl. async clunks, flushes)
  std::uint32_t fids_in_use = 0;  // fid numbers allocated and not yet clunked
  std::uint64_t requests = 0;     // total requests sent
  std::uint64_t flushes = 0;      // Tflush sent for cancelled or timed-out requests
  // Replies received by the thread that waited for them (polling on, one request in flight),
  // rather than handed over by the reader thread.
  std::uint64_t own_replies = 0;
};

}  // namespace ninep::client
