// The portable engine: a direct-threaded interpreter over a pre-decoded form of the program.
#pragma once

#include <span>

#include "bpf/engine.h"
#include "bpf/raw.h"

namespace ninep::bpf::interpreter {

// Decodes `program`, which must have passed validate(); never fails for such a program.
engine::Program compile(std::span<const RawInstruction> program);

}  // namespace ninep::bpf::interpreter
