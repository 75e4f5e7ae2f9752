// The VM and validator against the Linux kernel itself: programs attached with SO_ATTACH_FILTER
// to the receiving end of an AF_UNIX datagram socketpair; the kernel keeps min(len, verdict)
// bytes of each datagram, and drops it on verdict 0.
#include <gtest/gtest.h>
#include <linux/filter.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "bpf/socket_attach.h"
#include "bpf/text.h"
#include "bpf/validate.h"
#include "bpf/vm.h"
#include "engines.h"
#include "random_program.h"

namespace ninep::bpf {
namespace {

class KernelFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds_), 0) << std::strerror(errno);
    // The filter runs in the sender's context: pin to one CPU so that SKF_AD_CPU is known.
    const int cpu = sched_getcpu();
    ASSERT_GE(cpu, 0);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ASSERT_EQ(sched_getaffinity(0, sizeof saved_, &saved_), 0);
    ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
    // What the kernel's extensions see for an AF_UNIX datagram.
    context_.has_device = false;
    context_.network_header = 0;
    context_.link_header = -1;
    context_.cpu = static_cast<std::uint32_t>(cpu);
    const RawInstruction accept_all[] = {{0x06, 0, 0, 0xffffffff}};
    if (!attach_filter(fds_[1], accept_all))
      GTEST_SKIP() << "SO_ATTACH_FILTER is not permitted here";
  }
  void TearDown() override {
    sched_setaffinity(0, sizeof saved_, &saved_);
    close(fds_[0]);
    close(fds_[1]);
  }

  // The kernel's answer to attaching `p`: 0 or an errno.
  int kernel_attach(const Program& p) {
    sock_fprog prog{static_cast<unsigned short>(p.size()),
                    reinterpret_cast<sock_filter*>(const_cast<RawInstruction*>(p.data()))};
    if (p.empty()) prog.filter = reinterpret_cast<sock_filter*>(&dummy_);
    return setsockopt(fds_[1], SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0 ? 0 : errno;
  }

  // The bytes the kernel delivers of `packet` under the attached filter; -1 when dropped.
  long kernel_kept(const std::vector<std::uint8_t>& packet) {
    EXPECT_EQ(send(fds_[0], packet.data(), packet.size(), 0), static_cast<ssize_t>(packet.size()));
    static std::uint8_t buffer[1 << 16];
    const ssize_t n = recv(fds_[1], buffer, sizeof buffer, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
      return -1;
    }
    return n;
  }

  // A Vm of `p` on every available engine (the interpreter first).
  static std::vector<Vm> vms_of(const Program& p) {
    std::vector<Vm> out;
    for (Engine engine : testing::available_engines()) {
      auto vm = Vm::create(p, engine);
      EXPECT_TRUE(vm) << vm.error().message;
      if (vm) out.push_back(std::move(*vm));
    }
    return out;
  }

  long expected_kept(const Vm& vm, const std::vector<std::uint8_t>& packet) {
    const std::uint32_t verdict = vm.run(packet, context_);
    return verdict == 0 ? -1 : static_cast<long>(Vm::kept_length(verdict, packet.size()));
  }

  int fds_[2] = {-1, -1};
  cpu_set_t saved_;
  Context context_;
  RawInstruction dummy_{};
};

using testing::hex;

TEST_F(KernelFilter, KeepsMinOfLengthAndVerdictAndDropsOnZero) {
  const std::vector<std::uint8_t> packet(100, 1);
  const std::pair<std::uint32_t, long> cases[] = {{0, -1},    {1, 1},     {50, 50},
                                                  {100, 100}, {101, 100}, {0xffffffff, 100}};
  for (const auto& [verdict, kept] : cases) {
    ASSERT_EQ(kernel_attach({{0x06, 0, 0, verdict}}), 0);
    EXPECT_EQ(kernel_kept(packet), kept) << "verdict " << verdict;
  }
  // A non-zero verdict keeps an empty datagram: max(1, verdict) is capped by the length 0.
  ASSERT_EQ(kernel_attach({{0x06, 0, 0, 1}}), 0);
  EXPECT_EQ(kernel_kept({}), 0);
}

TEST_F(KernelFilter, ExtensionsOfAnAfUnixDatagramMatchTheContext) {
  auto p = parse_assembler(
      "ld #77\n"
      "ld proto\nst M[0]\nld type\nst M[1]\nld mark\nst M[2]\nld queue\nst M[3]\n"
      "ld rxhash\nst M[4]\nld vlan_tci\nst M[5]\nld vlan_avail\nst M[6]\nld vlan_tpid\nst M[7]\n"
      "ld poff\nst M[8]\nld cpu\nst M[9]\n"
      "ld M[0]\nldx M[1]\nor x\nldx M[2]\nor x\nldx M[3]\nor x\nldx M[4]\nor x\nldx M[5]\nor x\n"
      "ldx M[6]\nor x\nldx M[7]\nor x\nldx M[8]\nor x\nldx M[9]\nxor x\nadd #1\nret a\n");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(kernel_attach(*p), 0);
  const std::vector<std::uint8_t> packet(200, 9);
  for (const Vm& vm : vms_of(*p))
    EXPECT_EQ(kernel_kept(packet), expected_kept(vm, packet)) << testing::engine_name(vm.engine());
  EXPECT_EQ(kernel_kept(packet), 1 + context_.cpu);  // every other value is 0
  // No device: ifidx and hatype end the run with A.
  for (const char* text : {"ld #77\nld ifidx\nret #1", "ld #78\nld hatype\nret #1"}) {
    auto q = parse_assembler(text);
    ASSERT_EQ(kernel_attach(*q), 0);
    for (const Vm& vm : vms_of(*q))
      EXPECT_EQ(kernel_kept(packet), expected_kept(vm, packet))
          << text << " on " << testing::engine_name(vm.engine());
  }
}

// A stream of netlink attributes (host-order struct nlattr headers) with bad lengths, flags and
// nesting mixed in.
std::vector<std::uint8_t> attribute_stream(std::mt19937_64& rng, std::vector<std::size_t>& starts) {
  std::vector<std::uint8_t> p(2 + rng() % 6, 0);
  starts.clear();
  const int count = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < count; ++i) {
    const bool nested = rng() % 3 == 0;
    std::vector<std::uint8_t> payload(rng() % 12);
    for (auto& b : payload) b = static_cast<std::uint8_t>(rng() % 8);
    if (nested && payload.size() >= 4) {  // an inner header at the start of the payload
      const std::uint16_t inner_len =
          static_cast<std::uint16_t>(rng() % 2 ? payload.size() : rng() % 10);
      const std::uint16_t inner_type = static_cast<std::uint16_t>(rng() % 5);
      std::memcpy(payload.data(), &inner_len, 2);
      std::memcpy(payload.data() + 2, &inner_type, 2);
    }
    std::uint16_t len = static_cast<std::uint16_t>(4 + payload.size());
    if (rng() % 8 == 0) len = static_cast<std::uint16_t>(rng() % 40);  // lies
    std::uint16_t type = static_cast<std::uint16_t>(rng() % 5);
    if (nested) type |= 0x8000;
    if (rng() % 6 == 0) type |= 0x4000;
    std::uint8_t header[4];
    starts.push_back(p.size());
    std::memcpy(header, &len, 2);
    std::memcpy(header + 2, &type, 2);
    p.insert(p.end(), header, header + 4);
    p.insert(p.end(), payload.begin(), payload.end());
    while (p.size() % 4 != 2 && rng() % 4) p.push_back(0);
  }
  return p;
}

TEST_F(KernelFilter, NetlinkAttributeLookupsFindWhatTheKernelFinds) {
  std::mt19937_64 rng(0x6e6c61);
  testing::Disagreements disagreements;
  int found = 0;
  // A comes from byte 0 and X from byte 1 of the packet, so one program covers every case.
  for (const char* ext : {"nla", "nlan"}) {
    auto p = parse_assembler(std::string("ldb [1]\ntax\nldb [0]\nld ") + ext + "\nadd #1\nret a");
    ASSERT_TRUE(p);
    ASSERT_EQ(kernel_attach(*p), 0);
    const std::vector<Vm> vms = vms_of(*p);
    for (int n = 0; n < 4000; ++n) {
      std::vector<std::size_t> starts;
      auto packet = attribute_stream(rng, starts);
      packet[0] = static_cast<std::uint8_t>(rng() % 4 ? starts[rng() % starts.size()]
                                                      : rng() % (packet.size() + 3));
      packet[1] = static_cast<std::uint8_t>(rng() % 6);
      const long theirs = kernel_kept(packet);
      for (const Vm& vm : vms)
        disagreements.check(vm.engine(), expected_kept(vm, packet), theirs,
                            [&] { return std::string(ext) + ", packet " + hex(packet); });
      found += theirs > 1;
    }
  }
  EXPECT_GT(found, 500);
}

TEST_F(KernelFilter, RandomValidProgramsKeepWhatTheKernelKeeps) {
  testing::RandomPrograms gen(0x6b65726e656c);
  testing::Disagreements disagreements;
  int programs = 0, packets = 0, kept_nonzero = 0, dropped = 0;
  for (int n = 0; n < 6000; ++n) {
    testing::RandomProgramOptions options;
    options.fold_result = n % 3 != 0;
    const Program p = gen.valid_program(options);
    const std::vector<Vm> vms = vms_of(p);
    const int attached = kernel_attach(p);
    ASSERT_EQ(attached, 0) << std::strerror(attached) << "\n" << print_assembler(p);
    ++programs;
    for (int k = 0; k < 8; ++k) {
      const auto packet = gen.packet(options.max_packet);
      const long theirs = kernel_kept(packet);
      for (const Vm& vm : vms)
        disagreements.check(vm.engine(), expected_kept(vm, packet), theirs, [&] {
          return "kept bytes on program:\n" + print_assembler(p) + "packet (" +
                 std::to_string(packet.size()) + " bytes): " + hex(packet);
        });
      ++packets;
      kept_nonzero += theirs > 0;
      dropped += theirs < 0;
    }
  }
  // Both outcomes must be common for the comparison to mean something.
  EXPECT_GT(kept_nonzero, packets / 5);
  EXPECT_GT(dropped, packets / 20);
  std::printf("%d programs x 8 packets: %d kept, %d dropped\n", programs, kept_nonzero, dropped);
}

TEST_F(KernelFilter, AcceptsAndRejectsExactlyWhatTheKernelDoes) {
  testing::RandomPrograms gen(0x636865636b);
  int accepted = 0, rejected = 0;
  for (int n = 0; n < 20000; ++n) {
    const Program p = gen.any_program();
    const int kernel = kernel_attach(p);
    const auto ours = find_rejection(p);
    ASSERT_TRUE(kernel == 0 || kernel == EINVAL) << std::strerror(kernel) << "\n"
                                                 << print_bytecode(p);
    ASSERT_EQ(kernel == 0, !ours.has_value())
        << (ours ? ours->to_string() : "accepted by us") << "\n"
        << print_assembler(p) << print_bytecode(p);
    (kernel == 0 ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 2000);
  EXPECT_GT(rejected, 2000);
  std::printf("%d accepted, %d rejected, all as the kernel\n", accepted, rejected);
  // The limits of the length.
  EXPECT_EQ(kernel_attach(Program(4096, RawInstruction{0x06, 0, 0, 0})), 0);
  EXPECT_FALSE(find_rejection(Program(4096, RawInstruction{0x06, 0, 0, 0})));
  EXPECT_EQ(kernel_attach(Program(4097, RawInstruction{0x06, 0, 0, 0})), EINVAL);
  EXPECT_TRUE(find_rejection(Program(4097, RawInstruction{0x06, 0, 0, 0})));
}

TEST_F(KernelFilter, EveryOpcodeIsAcceptedOrRejectedAsByTheKernel) {
  for (unsigned code = 0; code < 0x10000; code += code < 0x200 ? 1 : 0x3f) {
    const Program p = {{static_cast<std::uint16_t>(code), 0, 0, 1}, {0x06, 0, 0, 0}};
    const int kernel = kernel_attach(p);
    EXPECT_EQ(kernel == 0, !find_rejection(p)) << "opcode " << code;
  }
}

TEST_F(KernelFilter, AttachFilterReportsTheKernelsRefusal) {
  const RawInstruction bad[] = {{0x34, 0, 0, 0}, {0x16, 0, 0, 0}};
  auto r = attach_filter(fds_[1], bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, EINVAL);
  EXPECT_NE(r.error().message.find("SO_ATTACH_FILTER"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("division by constant 0"), std::string::npos)
      << r.error().message;
  auto closed = attach_filter(-1, std::span<const RawInstruction>(bad, 1));
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, EBADF);
}

}  // namespace
}  // namespace ninep::bpf
