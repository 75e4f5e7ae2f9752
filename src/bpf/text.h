// Textual forms of classic BPF programs, each parsed to and printed from the raw form:
//
//   Assembler  the Linux kernel's bpf_asm syntax (tools/bpf/bpf_asm): `name:` labels, jumps to
//              labels, `;` and `/* */` comments, numbers in hex (0x), binary (0b), octal (0)
//              and decimal. Accepted beyond bpf_asm: jump targets given as skip counts
//              (`jeq #1,2,0`), a false target for jneq/jne/jlt/jle, `xor_x`, and
//              `raw op,jt,jf,k` for any instruction (what the printer uses for opcodes with no
//              mnemonic).
//   Bytecode   `N,op jt jf k,op jt jf k,...` in decimal: what iptables' xt_bpf, tc and bpf_asm
//              take and print; also tcpdump -ddd's form with one instruction per line.
//   CArray     tcpdump -dd: `{ 0x28, 0, 0, 0x0000000c },` per instruction.
//   Listing    tcpdump -d (libpcap's bpf_image): `(001) jeq #0x800 jt 2 jf 10`, absolute jump
//              targets. Printed exactly as libpcap prints it except `ldx #pktlen` for `ldx len`,
//              which libpcap shows as `unimp 0x81`.
//
// Parse errors say where: "3:14: unknown label 'drop'" (line:column; bytecode errors name the
// instruction as well). Parsing does not validate the program (see validate.h).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/raw.h"
#include "common/error.h"

namespace ninep::bpf {

using Program = std::vector<RawInstruction>;

enum class TextFormat { Assembler, Bytecode, CArray, Listing };

Result<Program> parse_assembler(std::string_view text);
// Labels `L<index>` on jump targets; one instruction per line.
std::string print_assembler(std::span<const RawInstruction> program);

Result<Program> parse_bytecode(std::string_view text);
// `N,op jt jf k,...,op jt jf k` and a newline, or with `one_per_line` tcpdump -ddd's form.
std::string print_bytecode(std::span<const RawInstruction> program, bool one_per_line = false);

Result<Program> parse_c_array(std::string_view text);
std::string print_c_array(std::span<const RawInstruction> program);

Result<Program> parse_listing(std::string_view text);
std::string print_listing(std::span<const RawInstruction> program);
// One listing line (no newline) for the instruction at `index`.
std::string listing_line(const RawInstruction& instruction, std::size_t index);

// The form of `text` judged by its first significant character: a digit means bytecode, `{` a C
// array, `(` a listing, anything else assembler.
TextFormat detect_format(std::string_view text);
Result<Program> parse(std::string_view text, TextFormat format);
// parse(text, detect_format(text)).
Result<Program> parse_program(std::string_view text);

}  // namespace ninep::bpf
