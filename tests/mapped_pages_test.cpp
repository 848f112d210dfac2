// Issue 14, reproduction 8: the mapped checkpoint and its converted copy used to coexist for the whole load
// (peak RSS 2.1x the file for fp32, 3.3x for fp16). Checkpoint::load_f32 now releases a tensor's mapped pages
// once it is converted; this reads the process's resident pages of the mapping from /proc/self/smaps.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp {
namespace {

// Resident KiB of the mapping that contains `address` (the "Rss:" line of its /proc/self/smaps entry), or -1.
long resident_kib_of_mapping(const void* address) {
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = begin <= at && at < end;
      continue;
    }
    if (inside && line.starts_with("Rss:")) return std::stol(line.substr(4));
  }
  return -1;
}

TEST(LeanLoading, ConvertedTensorsLeaveNoMappedPagesResident) {
  // Two 8 MiB tensors, F32 and F16 (the F16 one converts to 16 MiB of fp32).
  constexpr std::int64_t n = 2 * 1024 * 1024;
  const std::vector<float> values(static_cast<std::size_t>(n), 0.5f);
  const std::vector<std::uint16_t> halves(static_cast<std::size_t>(2 * n), 0x3800);  // 0.5 in fp16
  testing::TempDir tmp;
  testing::write_file(tmp.path() / "model.safetensors",
                      testing::st_file({{"a", "F32", {n}, testing::f32_bytes(values)},
                                        {"b", "F16", {2 * n}, testing::u16_bytes(halves)}}));
  testing::write_config(tmp.path());
  const weights::Checkpoint checkpoint = weights::Checkpoint::open(tmp.path());
  const weights::TensorView* a = checkpoint.find("a");
  ASSERT_NE(a, nullptr);

  // Control: reading the mapped bytes makes them resident, and the measurement sees it.
  volatile std::uint8_t sink = 0;
  for (std::size_t i = 0; i < a->nbytes; i += 4096) sink = sink + static_cast<std::uint8_t>(a->data[i]);
  const long touched = resident_kib_of_mapping(a->data);
  ASSERT_GE(touched, 8 * 1024) << "the mapping of the test file is not where /proc/self/smaps was read";

  const std::vector<float> a32 = checkpoint.load_f32("a", {n});
  const std::vector<float> b32 = checkpoint.load_f32("b", {2 * n});
  EXPECT_EQ(a32[12345], 0.5f);
  EXPECT_EQ(b32[2 * n - 1], 0.5f);
  // Both tensors were read in full to convert them; afterwards at most the pages they share with the header and
  // with each other stay (3 pages), not the 16 MiB they span.
  EXPECT_LE(resident_kib_of_mapping(a->data), 3 * 4) << "before release: " << touched << " KiB";

  // A released tensor can be loaded again (a tied decoder loads the word embeddings twice): the pages fault back
  // in from the file.
  EXPECT_EQ(checkpoint.load_f32("a", {n}), a32);
}

}  // namespace
}  // namespace bertcpp
