// SafetensorsFile: header validation, views into the mapping, files written by the reference library.
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "weights/safetensors.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::weights {
namespace {

using bertcpp::testing::bf16_bytes;
using bertcpp::testing::f32_bytes;
using bertcpp::testing::st_file;
using bertcpp::testing::st_raw;
using bertcpp::testing::StTensor;
using bertcpp::testing::TempDir;
using bertcpp::testing::throws;
using bertcpp::testing::write_file;
using Shape = std::vector<std::int64_t>;

class WeightsSafetensorsTest : public ::testing::Test {
 protected:
  // Writes `bytes` to <tmp>/model.safetensors and returns its path.
  std::filesystem::path write(const std::string& bytes) {
    const auto p = tmp_.path() / "model.safetensors";
    write_file(p, bytes);
    return p;
  }
  // Opening `bytes` fails with FormatError naming the file and every fragment.
  ::testing::AssertionResult rejects(const std::string& bytes, std::vector<std::string> fragments) {
    const auto p = write(bytes);
    fragments.insert(fragments.begin(), "model.safetensors: ");
    return throws<FormatError>([&] { SafetensorsFile::open(p); }, fragments);
  }
  // A header with one F32 entry `w` of `shape` and data_offsets [begin, end], over `data_size` bytes.
  static std::string one_entry(const nlohmann::json& shape, const nlohmann::json& offsets, std::size_t data_size,
                               const nlohmann::json& dtype = "F32") {
    const nlohmann::json header = {{"w", {{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}}}};
    return st_raw(header.dump(), std::string(data_size, '\0'));
  }
  TempDir tmp_;
};

// ---- good files ---------------------------------------------------------------------------------------------

TEST_F(WeightsSafetensorsTest, ViewsPointAtTheRightBytesForEveryHeaderPadding) {
  const std::string a = f32_bytes({1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f});
  const std::string b = bf16_bytes({1.0f, -3.0f, 0.5f});
  // Paddings 0..7 put the data block at every offset modulo 8, so views are unaligned in most of them.
  for (std::size_t pad = 0; pad < 8; ++pad) {
    SCOPED_TRACE("header padding " + std::to_string(pad));
    const auto p = write(st_file({{"a", "F32", {2, 3}, a}, {"b", "BF16", {3}, b}}, pad, {{"format", "pt"}}));
    const auto f = SafetensorsFile::open(p);
    EXPECT_EQ(f.path(), p);
    ASSERT_EQ(f.tensors().size(), 2u);  // __metadata__ is not a tensor
    EXPECT_EQ(f.find("__metadata__"), nullptr);
    EXPECT_EQ(f.find("c"), nullptr);

    const TensorView* ta = f.find("a");
    ASSERT_NE(ta, nullptr);
    EXPECT_EQ(ta->name, "a");
    EXPECT_EQ(ta->dtype, DType::F32);
    EXPECT_EQ(ta->dtype_name, "F32");
    EXPECT_EQ(ta->shape, (Shape{2, 3}));
    EXPECT_EQ(ta->numel(), 6);
    ASSERT_EQ(ta->nbytes, a.size());
    EXPECT_EQ(std::memcmp(ta->data, a.data(), a.size()), 0);

    const TensorView* tb = f.find("b");
    ASSERT_NE(tb, nullptr);
    EXPECT_EQ(tb->dtype, DType::BF16);
    EXPECT_EQ(tb->shape, (Shape{3}));
    ASSERT_EQ(tb->nbytes, b.size());
    EXPECT_EQ(std::memcmp(tb->data, b.data(), b.size()), 0);
    EXPECT_EQ(tb->data, ta->data + a.size());
  }
}

TEST_F(WeightsSafetensorsTest, ScalarEmptyAndUnknownDTypes) {
  const auto p = write(st_file({{"scalar", "F32", {}, f32_bytes({4.0f})},
                                {"empty", "F16", {0, 7}, ""},
                                {"fp8", "F8_E5M2", {3}, "abc"},
                                {"flags", "BOOL", {2}, std::string("\x01\x00", 2)}}));
  const auto f = SafetensorsFile::open(p);
  EXPECT_EQ(f.find("scalar")->numel(), 1);
  EXPECT_TRUE(f.find("scalar")->shape.empty());
  EXPECT_EQ(f.find("empty")->numel(), 0);
  EXPECT_EQ(f.find("empty")->nbytes, 0u);
  EXPECT_EQ(f.find("fp8")->dtype, DType::OTHER);
  EXPECT_EQ(f.find("fp8")->dtype_name, "F8_E5M2");
  EXPECT_EQ(f.find("fp8")->nbytes, 3u);
  EXPECT_EQ(f.find("flags")->dtype, DType::BOOL);
}

TEST(WeightsSafetensors, DTypeSizesAndNames) {
  EXPECT_EQ(dtype_size(DType::F32), 4u);
  EXPECT_EQ(dtype_size(DType::F16), 2u);
  EXPECT_EQ(dtype_size(DType::BF16), 2u);
  EXPECT_EQ(dtype_size(DType::F64), 8u);
  EXPECT_EQ(dtype_size(DType::I64), 8u);
  EXPECT_EQ(dtype_size(DType::I32), 4u);
  EXPECT_EQ(dtype_size(DType::I16), 2u);
  EXPECT_EQ(dtype_size(DType::I8), 1u);
  EXPECT_EQ(dtype_size(DType::U8), 1u);
  EXPECT_EQ(dtype_size(DType::BOOL), 1u);
  EXPECT_EQ(dtype_size(DType::OTHER), 0u);
  EXPECT_EQ(to_string(DType::BF16), "BF16");
  EXPECT_EQ(to_string(DType::OTHER), "OTHER");
}

TEST(WeightsSafetensors, FileWrittenByTheReferenceLibrary) {
  // tests/data/weights/make_reference.py (safetensors + torch) wrote this file.
  const auto f = SafetensorsFile::open(bertcpp::testing::data_dir() / "weights" / "reference.safetensors");
  EXPECT_EQ(f.tensors().size(), 9u);
  EXPECT_EQ(f.find("ramp_f32")->dtype, DType::F32);
  EXPECT_EQ(f.find("ramp_f16")->dtype, DType::F16);
  EXPECT_EQ(f.find("ramp_bf16")->dtype, DType::BF16);
  EXPECT_EQ(f.find("ramp_i8")->dtype, DType::I8);
  EXPECT_EQ(f.find("ramp_f8")->dtype, DType::OTHER);
  EXPECT_EQ(f.find("ramp_f8")->dtype_name, "F8_E4M3");
  EXPECT_EQ(f.find("ramp_bf16")->shape, (Shape{3, 5}));
  EXPECT_EQ(f.find("empty_f32")->shape, (Shape{0, 4}));
  EXPECT_TRUE(f.find("scalar_f32")->shape.empty());
  float scalar = 0;
  std::memcpy(&scalar, f.find("scalar_f32")->data, sizeof scalar);
  EXPECT_EQ(scalar, 2.5f);
}

TEST(WeightsSafetensors, EveryFixtureFileOfTheRepositoryOpens) {
  // All *.safetensors under tests/data were written by the Python safetensors library.
  int opened = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(bertcpp::testing::data_dir())) {
    if (entry.path().extension() != ".safetensors") continue;
    SCOPED_TRACE(entry.path().string());
    const auto f = SafetensorsFile::open(entry.path());
    EXPECT_FALSE(f.tensors().empty());
    ++opened;
  }
  EXPECT_GE(opened, 2);
}

TEST(WeightsSafetensors, DefaultModelHeader) {
  const auto path = bertcpp::testing::default_model_dir() / "model.safetensors";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run models/fetch_default_model.sh";
  const auto f = SafetensorsFile::open(path);
  // 5 embedding tensors + 6 layers x 16 + pooler 2.
  EXPECT_GE(f.tensors().size(), 100u);
  const TensorView* w = f.find("embeddings.word_embeddings.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (Shape{30522, 384}));
  EXPECT_EQ(w->dtype, DType::F32);
  EXPECT_EQ(w->nbytes, 30522u * 384u * 4u);
  for (int layer = 0; layer < 6; ++layer)
    EXPECT_NE(f.find("encoder.layer." + std::to_string(layer) + ".attention.self.query.weight"), nullptr);
}

TEST_F(WeightsSafetensorsTest, MovedFileKeepsItsViews) {
  const std::string a = f32_bytes({1.0f, 2.0f});
  const auto p = write(st_file({{"a", "F32", {2}, a}}));
  auto f = SafetensorsFile::open(p);
  const std::byte* data = f.find("a")->data;
  SafetensorsFile g = std::move(f);
  ASSERT_NE(g.find("a"), nullptr);
  EXPECT_EQ(g.find("a")->data, data);
  EXPECT_EQ(std::memcmp(data, a.data(), a.size()), 0);
}

// ---- malformed files ----------------------------------------------------------------------------------------

TEST_F(WeightsSafetensorsTest, NonexistentFileIsIoError) {
  EXPECT_TRUE(throws<IoError>([&] { SafetensorsFile::open(tmp_.path() / "absent.safetensors"); },
                              {"absent.safetensors", "cannot open"}));
}

TEST_F(WeightsSafetensorsTest, DirectoryIsIoError) {
  std::filesystem::create_directory(tmp_.path() / "dir.safetensors");
  EXPECT_TRUE(throws<IoError>([&] { SafetensorsFile::open(tmp_.path() / "dir.safetensors"); },
                              {"dir.safetensors", "not a regular file"}));
}

TEST_F(WeightsSafetensorsTest, EmptyFile) { EXPECT_TRUE(rejects("", {"has 0 bytes, expected at least 8"})); }

TEST_F(WeightsSafetensorsTest, FileShorterThanLengthPrefix) {
  EXPECT_TRUE(rejects(std::string("\x02\0\0\0\0", 5), {"has 5 bytes, expected at least 8"}));
}

TEST_F(WeightsSafetensorsTest, HeaderLengthLargerThanFile) {
  std::string bytes = st_raw("{}");
  bytes[0] = 100;  // claims 100 header bytes, 2 follow
  EXPECT_TRUE(rejects(bytes, {"header length 100 exceeds the 2 bytes"}));
}

TEST_F(WeightsSafetensorsTest, HeaderLengthOutsideSaneRange) {
  EXPECT_TRUE(rejects(bertcpp::testing::le_u64(1) + "{", {"header length 1 is outside [2, 100000000]"}));
  EXPECT_TRUE(rejects(bertcpp::testing::le_u64(std::numeric_limits<std::uint64_t>::max()) + "{}",
                      {"header length 18446744073709551615 is outside"}));
}

TEST_F(WeightsSafetensorsTest, HeaderNotJson) {
  EXPECT_TRUE(rejects(st_raw("{\"w\": {\"dtype\": "), {"header is not valid JSON"}));
}

TEST_F(WeightsSafetensorsTest, HeaderNotAnObject) {
  EXPECT_TRUE(rejects(st_raw("[1, 2, 3]"), {"header is not a JSON object (found array)"}));
}

TEST_F(WeightsSafetensorsTest, EntryNotAnObject) {
  EXPECT_TRUE(rejects(st_raw(R"({"w": [1, 2]})"), {"tensor 'w' is not a JSON object"}));
}

TEST_F(WeightsSafetensorsTest, EntryFieldsMissingOrMistyped) {
  EXPECT_TRUE(rejects(st_raw(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})", std::string(4, '\0')),
                      {"tensor 'w' has no \"dtype\""}));
  EXPECT_TRUE(rejects(one_entry({1}, {0, 4}, 4, 32), {"tensor 'w' has a \"dtype\" that is not a string"}));
  EXPECT_TRUE(rejects(st_raw(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})", std::string(4, '\0')),
                      {"tensor 'w' has no \"shape\""}));
  EXPECT_TRUE(rejects(one_entry(4, {0, 4}, 4), {"tensor 'w' has a \"shape\" that is not an array"}));
  EXPECT_TRUE(rejects(st_raw(R"({"w": {"dtype": "F32", "shape": [1]}})", std::string(4, '\0')),
                      {"tensor 'w' has no \"data_offsets\""}));
  EXPECT_TRUE(rejects(one_entry({1}, {0, 4, 8}, 8), {"tensor 'w' has data_offsets [0,4,8], expected [begin, end]"}));
  EXPECT_TRUE(rejects(one_entry({1}, {-4, 0}, 4), {"tensor 'w' has data_offsets [-4,0]"}));
}

TEST_F(WeightsSafetensorsTest, ShapeWithNegativeDim) {
  EXPECT_TRUE(rejects(one_entry({2, -3}, {0, 24}, 24), {"tensor 'w' has shape entry 1 = -3, expected a non-negative integer"}));
}

TEST_F(WeightsSafetensorsTest, ShapeWithNonIntegerDim) {
  EXPECT_TRUE(rejects(one_entry({2, 1.5}, {0, 12}, 12), {"tensor 'w' has shape entry 1 = 1.5"}));
  EXPECT_TRUE(rejects(one_entry({"2"}, {0, 8}, 8), {"tensor 'w' has shape entry 0 = \"2\""}));
}

TEST_F(WeightsSafetensorsTest, ShapeWhoseElementCountOverflows) {
  // 2^32 * 2^32 elements overflow 64 bits; must not wrap to a small, "valid" size.
  EXPECT_TRUE(rejects(one_entry({4294967296ll, 4294967296ll}, {0, 0}, 0),
                      {"tensor 'w' has shape [4294967296,4294967296] whose element count overflows 64 bits"}));
  // 2^62 elements fit in int64 but not as F32 bytes.
  EXPECT_TRUE(rejects(one_entry({4611686018427387904ll}, {0, 0}, 0), {"tensor 'w'", "byte size overflows 64 bits"}));
}

TEST_F(WeightsSafetensorsTest, OffsetsPastTheDataBlock) {
  EXPECT_TRUE(rejects(one_entry({2}, {0, 8}, 4), {"tensor 'w' has data_offsets [0,8] past the end of the data block (4 bytes)"}));
  EXPECT_TRUE(rejects(one_entry({0}, {1000000, 1000000}, 4), {"tensor 'w'", "past the end of the data block"}));
}

TEST_F(WeightsSafetensorsTest, OffsetsBeginAfterEnd) {
  EXPECT_TRUE(rejects(one_entry({1}, {8, 4}, 8), {"tensor 'w' has data_offsets [8,4] with begin > end"}));
}

TEST_F(WeightsSafetensorsTest, ByteSizeDisagreesWithDTypeAndShape) {
  EXPECT_TRUE(rejects(one_entry({2, 3}, {0, 20}, 24), {"tensor 'w' has 20 bytes, expected 24 (F32 x [2,3])"}));
  EXPECT_TRUE(rejects(one_entry({3}, {0, 12}, 12, "BF16"), {"tensor 'w' has 12 bytes, expected 6 (BF16 x [3])"}));
}

TEST_F(WeightsSafetensorsTest, OverlappingTensors) {
  const nlohmann::json header = {
      {"a", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}},
      {"b", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {4, 12}}}},
  };
  EXPECT_TRUE(rejects(st_raw(header.dump(), std::string(12, '\0')),
                      {"tensor 'b' has data_offsets [4,12] overlapping tensor 'a' at [0,8]"}));
  // The same range twice is an overlap too.
  const nlohmann::json twice = {
      {"a", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}},
      {"b", {{"dtype", "I32"}, {"shape", {1}}, {"data_offsets", {0, 4}}}},
  };
  EXPECT_TRUE(rejects(st_raw(twice.dump(), std::string(4, '\0')), {"overlapping tensor"}));
}

}  // namespace
}  // namespace bertcpp::weights
