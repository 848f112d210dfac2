// Checkpoint: directory layout, sharded index, prefix / legacy-name resolution, fp32 loading.
#include <cmath>
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "weights/checkpoint.hpp"
#include "weights/config.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp::weights {
namespace {

using bertcpp::testing::bf16_bytes;
using bertcpp::testing::f32_bytes;
using bertcpp::testing::st_file;
using bertcpp::testing::StTensor;
using bertcpp::testing::TempDir;
using bertcpp::testing::throws;
using bertcpp::testing::u16_bytes;
using bertcpp::testing::write_config;
using bertcpp::testing::write_file;
using Shape = std::vector<std::int64_t>;

// Bitwise equality (tells -0.0 from 0.0): the conversions must be exact.
::testing::AssertionResult same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << ", expected " << want.size();
  for (std::size_t i = 0; i < got.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0)
      return ::testing::AssertionFailure() << "element " << i << " is " << got[i] << ", expected " << want[i];
  return ::testing::AssertionSuccess();
}

// (i - 7) * 0.25: exact in F32, F16 and BF16.
std::vector<float> ramp(int n) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<float>(i - 7) * 0.25f);
  return v;
}

// A long sequence of values with at most 8 significant bits (exact in BF16).
std::vector<float> saw(int n) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) v.push_back(static_cast<float>(i % 255 - 127) * 0.125f);
  return v;
}

class WeightsCheckpointTest : public ::testing::Test {
 protected:
  const std::filesystem::path& dir() const { return tmp_.path(); }
  void write_model(const std::vector<StTensor>& tensors, std::size_t header_pad = 0) {
    write_file(dir() / "model.safetensors", st_file(tensors, header_pad));
  }
  TempDir tmp_;
};

// ---- loading values -----------------------------------------------------------------------------------------

// F16 bits of a normal value with at most 10 significant mantissa bits (exactly representable), computed
// from frexp rather than by the conversion under test: sign | (exponent + 15) << 10 | top 10 mantissa bits.
std::uint16_t exact_f16_bits(float v) {
  if (v == 0.0f) return std::signbit(v) ? 0x8000 : 0;
  int e = 0;
  const float m = std::frexp(std::fabs(v), &e);  // |v| = m * 2^e, m in [0.5, 1)
  const auto mantissa = static_cast<unsigned>((m * 2.0f - 1.0f) * 1024.0f);
  return static_cast<std::uint16_t>((std::signbit(v) ? 0x8000u : 0u) | unsigned(e - 1 + 15) << 10 | mantissa);
}

TEST_F(WeightsCheckpointTest, F32F16BF16RoundTripExactlyFromUnalignedData) {
  // F16 bit patterns and their values, written independently of Eigen: normal, max, smallest subnormal,
  // -0, inf, and 1/3 rounded to 10 mantissa bits.
  const std::vector<std::uint16_t> f16_bits = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555};
  const std::vector<float> f16_values = {1.0f,   -2.0f, 0.5f, 65504.0f, std::ldexp(1.0f, -24), -0.0f,
                                         std::numeric_limits<float>::infinity(), 1365.0f / 4096.0f};
  const std::vector<float> bf16_values = {1.0f, -0.0f, std::ldexp(1.0f, 100), std::ldexp(113.0f, 121),
                                          171.0f / 512.0f};
  std::vector<std::uint16_t> ramp16;
  for (float v : ramp(15)) ramp16.push_back(exact_f16_bits(v));
  ASSERT_EQ(ramp16[8], 0x3400);  // 0.25: the helper itself is right

  // A 3-byte tensor first, then paddings 0, 1, 3: the float tensors start at odd addresses.
  for (std::size_t pad : {0, 1, 3}) {
    SCOPED_TRACE("header padding " + std::to_string(pad));
    write_config(dir());
    write_model({{"odd", "U8", {3}, "xyz"},
                 {"f32", "F32", {3, 5}, f32_bytes(ramp(15))},
                 {"f16", "F16", {8}, u16_bytes(f16_bits)},
                 {"bf16", "BF16", {5}, bf16_bytes(bf16_values)},
                 {"ramp16", "F16", {3, 5}, u16_bytes(ramp16)},
                 {"big_bf16", "BF16", {2500}, bf16_bytes(saw(2500))}},
                pad);
    const auto ck = Checkpoint::open(dir());
    EXPECT_TRUE(same_bits(ck.load_f32("f32", {3, 5}), ramp(15)));
    EXPECT_TRUE(same_bits(ck.load_f32("f16", {8}), f16_values));
    EXPECT_TRUE(same_bits(ck.load_f32("bf16", {5}), bf16_values));
    EXPECT_TRUE(same_bits(ck.load_f32("ramp16", {3, 5}), ramp(15)));
    // More than one conversion block (1024 values).
    EXPECT_TRUE(same_bits(ck.load_f32("big_bf16", {2500}), saw(2500)));
  }
}

TEST(WeightsCheckpoint, ValuesWrittenByTheReferenceLibrary) {
  // tests/data/weights/make_reference.py wrote these with safetensors + torch; see its docstring.
  TempDir tmp;
  write_config(tmp.path());
  std::filesystem::copy_file(bertcpp::testing::data_dir() / "weights" / "reference.safetensors",
                             tmp.path() / "model.safetensors");
  const auto ck = Checkpoint::open(tmp.path());
  for (const char* name : {"ramp_f32", "ramp_f16", "ramp_bf16"}) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(same_bits(ck.load_f32(name, {3, 5}), ramp(15)));
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(same_bits(ck.load_f32("f16_special", {6}),
                        {65504.0f, std::ldexp(1.0f, -24), -0.0f, inf, -inf, 1365.0f / 4096.0f}));
  EXPECT_TRUE(same_bits(ck.load_f32("bf16_special", {4}),
                        {std::ldexp(1.0f, 100), -std::ldexp(1.0f, -100), std::ldexp(113.0f, 121), 171.0f / 512.0f}));
  EXPECT_TRUE(ck.load_f32("empty_f32", {0, 4}).empty());
  EXPECT_TRUE(same_bits(ck.load_f32("scalar_f32", {}), {2.5f}));
  EXPECT_TRUE(throws<UnsupportedError>([&] { ck.load_f32("ramp_i8", {4}); },
                                       {"model.safetensors: tensor 'ramp_i8' has dtype I8; supported: F32, F16, BF16"}));
  EXPECT_TRUE(throws<UnsupportedError>([&] { ck.load_f32("ramp_f8", {2}); }, {"tensor 'ramp_f8' has dtype F8_E4M3"}));
}

TEST(WeightsCheckpoint, ConvertToF32RejectsOtherDTypes) {
  const std::byte bytes[4] = {};
  float out[4];
  EXPECT_TRUE(throws<UnsupportedError>([&] { convert_to_f32(DType::I32, bytes, 1, out); }, {"dtype I32"}));
}

// ---- names --------------------------------------------------------------------------------------------------

TEST_F(WeightsCheckpointTest, PrefixSelectionAndUnprefixedFallback) {
  write_config(dir());
  write_model({{"bert.embeddings.word_embeddings.weight", "F32", {2}, f32_bytes({1.0f, 2.0f})},
               {"classifier.weight", "F32", {1}, f32_bytes({3.0f})}});
  auto ck = Checkpoint::open(dir());
  EXPECT_EQ(ck.prefix(), "");
  EXPECT_EQ(ck.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight"), "bert.");
  EXPECT_EQ(ck.prefix(), "bert.");
  ASSERT_NE(ck.resolve("embeddings.word_embeddings.weight"), nullptr);
  EXPECT_EQ(ck.resolve("embeddings.word_embeddings.weight")->name, "bert.embeddings.word_embeddings.weight");
  // Heads live outside the prefix.
  ASSERT_NE(ck.resolve("classifier.weight"), nullptr);
  EXPECT_EQ(ck.resolve("classifier.weight")->name, "classifier.weight");
  EXPECT_TRUE(same_bits(ck.load_f32("classifier.weight", {1}), {3.0f}));
  EXPECT_EQ(ck.resolve("pooler.dense.weight"), nullptr);
  EXPECT_EQ(ck.find("embeddings.word_embeddings.weight"), nullptr);  // find() is exact
  EXPECT_EQ(ck.file_of("embeddings.word_embeddings.weight"), "model.safetensors");
}

TEST_F(WeightsCheckpointTest, EmptyPrefixWhenTheProbeIsBare) {
  write_config(dir());
  write_model({{"embeddings.word_embeddings.weight", "F32", {1}, f32_bytes({1.0f})}});
  auto ck = Checkpoint::open(dir());
  EXPECT_EQ(ck.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight"), "");
}

TEST_F(WeightsCheckpointTest, SelectPrefixFailsNamingTheProbe) {
  write_config(dir());
  write_model({{"roberta.embeddings.word_embeddings.weight", "F32", {1}, f32_bytes({1.0f})}});
  auto ck = Checkpoint::open(dir());
  EXPECT_TRUE(throws<FormatError>([&] { ck.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight"); },
                                  {"model.safetensors: no tensor 'embeddings.word_embeddings.weight'",
                                   "'bert.embeddings.word_embeddings.weight'"}));
}

TEST_F(WeightsCheckpointTest, LegacyGammaBetaNames) {
  write_config(dir());
  write_model({{"bert.embeddings.LayerNorm.gamma", "F32", {2}, f32_bytes({1.0f, 1.5f})},
               {"bert.embeddings.LayerNorm.beta", "F32", {2}, f32_bytes({0.25f, -0.25f})},
               {"bert.encoder.layer.0.output.LayerNorm.weight", "F32", {2}, f32_bytes({2.0f, 3.0f})}});
  auto ck = Checkpoint::open(dir());
  // The probe may itself be a legacy name.
  EXPECT_EQ(ck.select_prefix({"bert.", ""}, "embeddings.LayerNorm.weight"), "bert.");
  EXPECT_TRUE(same_bits(ck.load_f32("embeddings.LayerNorm.weight", {2}), {1.0f, 1.5f}));
  EXPECT_TRUE(same_bits(ck.load_f32("embeddings.LayerNorm.bias", {2}), {0.25f, -0.25f}));
  EXPECT_TRUE(same_bits(ck.load_f32("encoder.layer.0.output.LayerNorm.weight", {2}), {2.0f, 3.0f}));
  EXPECT_EQ(ck.resolve("embeddings.LayerNorm.bias")->name, "bert.embeddings.LayerNorm.beta");
  // Only LayerNorm parameters have legacy spellings.
  EXPECT_EQ(ck.resolve("encoder.layer.0.output.LayerNorm.bias"), nullptr);
}

TEST_F(WeightsCheckpointTest, ShardedIndex) {
  write_config(dir());
  write_file(dir() / "model-00001-of-00002.safetensors",
             st_file({{"bert.a", "F32", {2}, f32_bytes({1.0f, 2.0f})},
                      {"bert.b", "BF16", {1}, bf16_bytes({4.0f})},
                      {"bert.only_in_shard", "F32", {1}, f32_bytes({8.0f})}}));
  // Shard 2 also holds a stale "bert.b": the index decides which one counts.
  write_file(dir() / "model-00002-of-00002.safetensors",
             st_file({{"bert.b", "F32", {1}, f32_bytes({5.0f})}, {"bert.c", "F32", {3}, f32_bytes({6, 7, 8})}}, 5));
  const nlohmann::json index = {{"metadata", {{"total_size", 28}}},
                                {"weight_map",
                                 {{"bert.a", "model-00001-of-00002.safetensors"},
                                  {"bert.b", "model-00002-of-00002.safetensors"},
                                  {"bert.c", "model-00002-of-00002.safetensors"}}}};
  write_file(dir() / "model.safetensors.index.json", index.dump());

  auto ck = Checkpoint::open(dir());
  EXPECT_EQ(ck.select_prefix({"bert.", ""}, "a"), "bert.");
  EXPECT_TRUE(same_bits(ck.load_f32("a", {2}), {1.0f, 2.0f}));
  EXPECT_TRUE(same_bits(ck.load_f32("b", {1}), {5.0f}));
  EXPECT_TRUE(same_bits(ck.load_f32("c", {3}), {6.0f, 7.0f, 8.0f}));
  EXPECT_TRUE(same_bits(ck.load_f32("only_in_shard", {1}), {8.0f}));
  EXPECT_EQ(ck.file_of("bert.a"), "model-00001-of-00002.safetensors");
  EXPECT_EQ(ck.file_of("bert.b"), "model-00002-of-00002.safetensors");
  EXPECT_EQ(ck.file_of("c"), "model-00002-of-00002.safetensors");
  EXPECT_EQ(ck.file_of("absent"), "model.safetensors.index.json");
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("c", {2}); },
                                  {"model-00002-of-00002.safetensors: tensor 'bert.c' has shape [3], expected [2]"}));
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("d", {1}); },
                                  {"model.safetensors.index.json: missing tensor 'bert.d'"}));
}

TEST(WeightsCheckpoint, EveryEncoderFixtureOpensAndItsConfigParses) {
  // Checkpoint directories written by transformers' save_pretrained (tests/data/encoder, see
  // models/make_encoder_fixtures.py), including a sharded one.
  int opened = 0;
  for (const auto& entry : std::filesystem::directory_iterator(bertcpp::testing::data_dir() / "encoder")) {
    if (!std::filesystem::exists(entry.path() / "config.json")) continue;
    SCOPED_TRACE(entry.path().string());
    auto ck = Checkpoint::open(entry.path());
    const ModelConfig config = parse_config(ck.config(), entry.path() / "config.json");
    ck.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight");
    const auto words = ck.load_f32("embeddings.word_embeddings.weight", {config.vocab_size, config.hidden_size});
    EXPECT_EQ(words.size(), static_cast<std::size_t>(config.vocab_size * config.hidden_size));
    const auto gamma = ck.load_f32("embeddings.LayerNorm.weight", {config.hidden_size});
    for (float g : gamma) EXPECT_TRUE(std::isfinite(g));
    ++opened;
  }
  EXPECT_GE(opened, 1);
}

TEST(WeightsCheckpoint, DefaultModelLoads) {
  const auto dir = bertcpp::testing::default_model_dir();
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir << " is missing: run models/fetch_default_model.sh";
  auto ck = Checkpoint::open(dir);
  const ModelConfig config = parse_config(ck.config(), dir / "config.json");
  EXPECT_EQ(ck.select_prefix({"bert.", ""}, "embeddings.word_embeddings.weight"), "");
  const auto words = ck.load_f32("embeddings.word_embeddings.weight", {config.vocab_size, config.hidden_size});
  ASSERT_EQ(words.size(), 30522u * 384u);
  // The loaded values are the stored bytes.
  EXPECT_EQ(std::memcmp(words.data(), ck.find("embeddings.word_embeddings.weight")->data, words.size() * 4), 0);
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("encoder.layer.0.attention.self.query.weight", {384, 385}); },
                                  {"model.safetensors: tensor 'encoder.layer.0.attention.self.query.weight' has "
                                   "shape [384,384], expected [384,385]"}));
}

// ---- malformed directories ----------------------------------------------------------------------------------

TEST_F(WeightsCheckpointTest, NonexistentDirectory) {
  EXPECT_TRUE(throws<IoError>([&] { Checkpoint::open(dir() / "nope"); }, {"nope: no such directory"}));
}

TEST_F(WeightsCheckpointTest, PathIsAFile) {
  write_file(dir() / "file", "x");
  EXPECT_TRUE(throws<IoError>([&] { Checkpoint::open(dir() / "file"); }, {"file: not a directory"}));
}

TEST_F(WeightsCheckpointTest, DirectoryWithoutConfig) {
  write_model({{"a", "F32", {1}, f32_bytes({1.0f})}});
  EXPECT_TRUE(throws<IoError>([&] { Checkpoint::open(dir()); }, {dir().string() + ": no config.json"}));
}

TEST_F(WeightsCheckpointTest, ConfigNotJson) {
  write_file(dir() / "config.json", "{\"hidden_size\": 384,");
  write_model({{"a", "F32", {1}, f32_bytes({1.0f})}});
  EXPECT_TRUE(throws<FormatError>([&] { Checkpoint::open(dir()); }, {"config.json: invalid JSON"}));
}

TEST_F(WeightsCheckpointTest, NoSafetensorsFile) {
  write_config(dir());
  write_file(dir() / "pytorch_model.bin", "not supported");
  EXPECT_TRUE(throws<IoError>([&] { Checkpoint::open(dir()); },
                              {"no model.safetensors or model.safetensors.index.json"}));
}

TEST_F(WeightsCheckpointTest, MalformedWeightsFileNamesIt) {
  write_config(dir());
  write_file(dir() / "model.safetensors", "");
  EXPECT_TRUE(throws<FormatError>([&] { Checkpoint::open(dir()); }, {"model.safetensors: file has 0 bytes"}));
}

TEST_F(WeightsCheckpointTest, LoadErrors) {
  write_config(dir());
  write_model({{"bert.q", "F32", {2, 3}, f32_bytes(ramp(6))}, {"bert.i8", "I8", {2}, "\x01\x02"}});
  auto ck = Checkpoint::open(dir());
  ck.select_prefix({"bert.", ""}, "q");
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("q", {3, 2}); },
                                  {"model.safetensors: tensor 'bert.q' has shape [2,3], expected [3,2]"}));
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("q", {6}); }, {"has shape [2,3], expected [6]"}));
  EXPECT_TRUE(throws<FormatError>([&] { ck.load_f32("k", {2, 3}); }, {"model.safetensors: missing tensor 'bert.k'"}));
  EXPECT_TRUE(throws<UnsupportedError>([&] { ck.load_f32("i8", {2}); },
                                       {"model.safetensors: tensor 'bert.i8' has dtype I8; supported: F32, F16, BF16"}));
}

class WeightsCheckpointIndexTest : public WeightsCheckpointTest {
 protected:
  void SetUp() override {
    write_config(dir());
    write_file(dir() / "shard-1.safetensors", st_file({{"a", "F32", {1}, f32_bytes({1.0f})}}));
  }
  ::testing::AssertionResult rejects(const std::string& index, const std::vector<std::string>& fragments) {
    write_file(dir() / "model.safetensors.index.json", index);
    return throws<FormatError>([&] { Checkpoint::open(dir()); }, fragments);
  }
};

TEST_F(WeightsCheckpointIndexTest, IndexNamingAMissingShard) {
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": "shard-1.safetensors", "b": "shard-2.safetensors"}})",
                      {"model.safetensors.index.json: shard 'shard-2.safetensors' (holding tensor 'b') does not exist"}));
}

TEST_F(WeightsCheckpointIndexTest, IndexNamingATensorTheShardLacks) {
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": "shard-1.safetensors", "z": "shard-1.safetensors"}})",
                      {"model.safetensors.index.json: tensor 'z' is mapped to shard 'shard-1.safetensors', which "
                       "does not contain it"}));
}

TEST_F(WeightsCheckpointIndexTest, MalformedIndex) {
  EXPECT_TRUE(rejects("{\"weight_map\": ", {"model.safetensors.index.json: invalid JSON"}));
  EXPECT_TRUE(rejects("[]", {"model.safetensors.index.json: expected a JSON object, found array"}));
  EXPECT_TRUE(rejects("{}", {"model.safetensors.index.json: no \"weight_map\""}));
  EXPECT_TRUE(rejects(R"({"weight_map": []})", {"\"weight_map\" is not an object (found array)"}));
  EXPECT_TRUE(rejects(R"({"weight_map": {}})", {"\"weight_map\" lists no tensors"}));
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": 1}})", {"tensor 'a' maps to number, expected a shard file name"}));
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": "../shard-1.safetensors"}})",
                      {"tensor 'a' maps to shard '../shard-1.safetensors', expected a file name inside"}));
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": "/etc/passwd"}})", {"maps to shard '/etc/passwd'"}));
}

TEST_F(WeightsCheckpointIndexTest, MalformedShardNamesTheShard) {
  write_file(dir() / "shard-2.safetensors", "short");
  EXPECT_TRUE(rejects(R"({"weight_map": {"a": "shard-1.safetensors", "b": "shard-2.safetensors"}})",
                      {"shard-2.safetensors: file has 5 bytes"}));
}

}  // namespace
}  // namespace bertcpp::weights
