// Issue 14, reproductions 1-3 and 10: hostile model files. Deeply nested JSON, FIFOs, /dev/zero, directories and
// symlink loops in place of model files, oversized files: each a typed error naming the file, never a crash, a
// hang or an unbounded read.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/bertcpp.hpp"
#include "common/file_io.hpp"
#include "common/json_io.hpp"
#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights/safetensors.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;
using testing::throws;
using testing::write_file;

// '[' * depth + ']' * depth
std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A directory whose entries are symlinks to those of `from` (sub-directories are recreated), so that one entry
// can be replaced by something hostile without copying the rest.
void link_copy(const fs::path& from, const fs::path& to) {
  for (const auto& entry : fs::directory_iterator(from)) {
    const fs::path target = fs::canonical(entry.path());
    if (fs::is_directory(target)) {
      fs::create_directory(to / entry.path().filename());
      link_copy(target, to / entry.path().filename());
    } else {
      fs::create_symlink(target, to / entry.path().filename());
    }
  }
}

// The sentence-embedding fixture: config.json, a sharded checkpoint, tokenizer.json + vocab.txt, modules.json,
// 1_Pooling/config.json.
fs::path embed_fixture() { return testing::data_dir() / "heads" / "sentence-embeddings-cls"; }

class HostileFiles : public ::testing::Test {
 protected:
  void SetUp() override { link_copy(embed_fixture(), dir()); }
  const fs::path& dir() const { return tmp_.path(); }
  // Replaces `name` by a FIFO.
  void make_fifo(const std::string& name) {
    fs::remove(dir() / name);
    ASSERT_EQ(::mkfifo((dir() / name).c_str(), 0644), 0);
  }
  void replace_with_symlink(const std::string& name, const fs::path& target) {
    fs::remove_all(dir() / name);
    fs::create_symlink(target, dir() / name);
  }
  void replace_with_text(const std::string& name, const std::string& text) {
    fs::remove_all(dir() / name);
    write_file(dir() / name, text);
  }

 private:
  TempDir tmp_;
};

// ---- JSON: depth limit, NUL bytes, bounded printing ----------------------------------------------------------

TEST(JsonIo, DepthLimitRejectsDeepNestingAndAcceptsTheLimit) {
  std::string reason;
  EXPECT_TRUE(common::try_parse_json(nested_arrays(common::kMaxJsonDepth), reason).has_value()) << reason;
  EXPECT_FALSE(common::try_parse_json(nested_arrays(common::kMaxJsonDepth + 1), reason).has_value());
  EXPECT_NE(reason.find("nested deeper than 128 levels at byte 128"), std::string::npos) << reason;
  // 70000 levels (reproduction 1): rejected before any value is built, no stack overflow.
  EXPECT_FALSE(common::try_parse_json("{\"input_ids\":[" + nested_arrays(70000) + "]}", reason).has_value());
  // Brackets inside strings (with escaped quotes) do not count.
  const std::string in_string = "[\"" + std::string(500, '[') + "\\\"" + std::string(500, '{') + "\"]";
  EXPECT_TRUE(common::try_parse_json(in_string, reason).has_value()) << reason;
}

TEST(JsonIo, NulByteIsAnErrorNotTheEndOfInput) {
  std::string reason;
  const std::string text = std::string("{\"input_ids\":[101,102]}") + '\0' + "{\"garbage";
  EXPECT_FALSE(common::try_parse_json(text, reason).has_value());
  EXPECT_EQ(reason, "NUL byte at byte 23");
  EXPECT_TRUE(throws<FormatError>([&] { common::parse_json(text, "x.json"); }, {"x.json: invalid JSON: NUL byte"}));
}

TEST(JsonIo, BriefJsonIsShortAndExactForSmallValues) {
  EXPECT_EQ(common::brief_json(json::parse(R"({"a":[1,2,{"b":null}],"c":"d"})")), R"({"a":[1,2,{"b":null}],"c":"d"})");
  EXPECT_EQ(common::brief_json(json::parse("[]")), "[]");
  EXPECT_EQ(common::brief_json(json("x")), "\"x\"");
  // The deepest value the parser lets through, and a large flat one: cut to the limit.
  std::string reason;
  const auto deep = common::try_parse_json(nested_arrays(common::kMaxJsonDepth), reason);
  ASSERT_TRUE(deep);
  const std::string d = common::brief_json(*deep, 40);
  EXPECT_EQ(d, std::string(37, '[') + "...");
  const std::string big = common::brief_json(json(std::vector<int>(1000000, 7)), 64);
  EXPECT_EQ(big.size(), 64u);
  EXPECT_TRUE(big.ends_with("..."));
  const std::string long_string = common::brief_json(json(std::string(1 << 20, 'a')), 64);
  EXPECT_EQ(long_string.size(), 64u);
}

// ---- reading files: regular files only, a size cap ----------------------------------------------------------

TEST(FileIo, RejectsFifoDeviceDirectoryLoopAndOversizedFiles) {
  TempDir tmp;
  const fs::path fifo = tmp.path() / "fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_TRUE(throws<IoError>([&] { common::read_regular_file(fifo, 1024); }, {"fifo.json", "is a FIFO"}));
  EXPECT_TRUE(throws<IoError>([&] { common::read_regular_file("/dev/zero", 1024); }, {"/dev/zero", "character device"}));
  EXPECT_TRUE(throws<IoError>([&] { common::read_regular_file(tmp.path(), 1024); }, {"is a directory"}));
  fs::create_symlink(tmp.path() / "loop_b", tmp.path() / "loop_a");
  fs::create_symlink(tmp.path() / "loop_a", tmp.path() / "loop_b");
  EXPECT_TRUE(throws<IoError>([&] { common::read_regular_file(tmp.path() / "loop_a", 1024); },
                              {"loop_a: cannot open: Too many levels of symbolic links"}));
  write_file(tmp.path() / "big.json", std::string(2000, ' '));
  EXPECT_TRUE(throws<FormatError>([&] { common::read_regular_file(tmp.path() / "big.json", 1000); },
                                  {"big.json: is 2000 bytes, more than the 1000 bytes accepted"}));
  EXPECT_EQ(common::read_regular_file(tmp.path() / "big.json", 2000).size(), 2000u);
}

// ---- model directories -----------------------------------------------------------------------------------------

TEST_F(HostileFiles, FixtureLoads) {
  // The link copy itself is a good model directory: the errors below come from the one replaced entry.
  EXPECT_NO_THROW(SentenceEmbedder::load(dir()));
}

TEST_F(HostileFiles, FifoTokenizerJsonIsAnErrorNotAHang) {
  make_fifo("tokenizer.json");
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); }, {"tokenizer.json: is a FIFO (named pipe)"}));
  EXPECT_TRUE(throws<IoError>([&] { Tokenizer::load(dir()); }, {"tokenizer.json: is a FIFO (named pipe)"}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

TEST_F(HostileFiles, FifoVocabTxtAndWeightsAreErrors) {
  fs::remove(dir() / "tokenizer.json");
  make_fifo("vocab.txt");
  EXPECT_TRUE(throws<IoError>([&] { Tokenizer::load(dir()); }, {"vocab.txt: is a FIFO"}));
  make_fifo("encoder.safetensors");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); }, {"encoder.safetensors: not a regular file"}));
}

TEST_F(HostileFiles, DevZeroTokenizerIsRejectedWithoutReading) {
  replace_with_symlink("tokenizer.json", "/dev/zero");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); }, {"tokenizer.json: is a character device"}));
}

TEST_F(HostileFiles, ConfigJsonThatIsADirectoryOrALoopSaysSo) {
  fs::remove(dir() / "config.json");
  fs::create_directory(dir() / "config.json");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); }, {"config.json: is a directory, expected a file"}));
  fs::remove(dir() / "config.json");
  fs::create_symlink(dir() / "config.json", dir() / "config.json");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); },
                              {"config.json: cannot open: Too many levels of symbolic links"}));
}

TEST_F(HostileFiles, SymlinkLoopsAreTypedErrorsNotFilesystemErrors) {
  replace_with_symlink("tokenizer.json", dir() / "tokenizer.json");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(dir()); }, {"tokenizer.json", "Too many levels of symbolic links"}));
  EXPECT_TRUE(throws<IoError>([&] { SentenceEmbedder::load(dir()); }, {"tokenizer.json", "Too many levels"}));
  replace_with_symlink("modules.json", dir() / "modules.json");
  EXPECT_TRUE(throws<IoError>([&] { SentenceEmbedder::load(dir()); }, {"modules.json", "Too many levels"}));
  // The model directory itself a loop.
  TempDir other;
  fs::create_symlink(other.path() / "m", other.path() / "m");
  EXPECT_TRUE(throws<IoError>([&] { BertModel::load(other.path() / "m"); }, {"m: cannot access: Too many levels"}));
  EXPECT_TRUE(throws<IoError>([&] { Tokenizer::load(other.path() / "m"); }, {"m: cannot access: Too many levels"}));
}

TEST_F(HostileFiles, DeeplyNestedConfigValuesAreFormatErrors) {
  json config = json::parse(testing::read_file(embed_fixture() / "config.json"));
  config.erase("hidden_size");  // nlohmann keeps the last of duplicate keys
  const std::string text = config.dump();
  // hidden_size = 70000 nested arrays (reproduction 1): rejected at parse, the message names the file.
  const std::string deep = "{\"hidden_size\":" + nested_arrays(70000) + "," + text.substr(1);
  replace_with_text("config.json", deep);
  EXPECT_TRUE(throws<FormatError>([&] { BertModel::load(dir()); }, {"config.json: invalid JSON: arrays/objects nested"}));
  // Nesting within the limit reaches the field check, whose message stays short.
  const std::string shallow = "{\"hidden_size\":" + nested_arrays(100) + "," + text.substr(1);
  replace_with_text("config.json", shallow);
  try {
    BertModel::load(dir());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("field 'hidden_size' has type array ([[[["), std::string::npos) << e.what();
    EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
  }
}

TEST_F(HostileFiles, DeeplyNestedPoolingConfigAndModulesAreFormatErrors) {
  replace_with_text("1_Pooling/config.json", "{\"pooling_mode\":" + nested_arrays(70000) + "}");
  EXPECT_TRUE(throws<FormatError>([&] { SentenceEmbedder::load(dir()); }, {"1_Pooling/config.json: invalid JSON"}));
  replace_with_text("1_Pooling/config.json", "{\"pooling_mode\":" + nested_arrays(120) + "}");
  EXPECT_TRUE(throws<ConfigError>([&] { SentenceEmbedder::load(dir()); }, {"pooling_mode", "[[[["}));
  replace_with_text("modules.json", nested_arrays(70000));
  EXPECT_TRUE(throws<FormatError>([&] { SentenceEmbedder::load(dir()); }, {"modules.json: invalid JSON"}));
}

TEST_F(HostileFiles, DeeplyNestedTokenizerJsonIsAFormatError) {
  replace_with_text("tokenizer.json", "{\"model\":" + nested_arrays(70000) + "}");
  EXPECT_TRUE(throws<FormatError>([&] { Tokenizer::load(dir()); }, {"tokenizer.json: invalid JSON: arrays/objects"}));
  replace_with_text("tokenizer.json", std::string("{\"model\":{}}\0garbage", 20));
  EXPECT_TRUE(throws<FormatError>([&] { Tokenizer::load(dir()); }, {"tokenizer.json: invalid JSON"}));
}

TEST(HostileSafetensors, DeeplyNestedHeaderValuesAreFormatErrors) {
  TempDir tmp;
  const auto header = [](const std::string& shape, const std::string& offsets) {
    return "{\"w\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}}";
  };
  for (const auto& [shape, offsets] : {std::pair{nested_arrays(70000), std::string("[0,4]")},
                                       std::pair{std::string("[1]"), "[" + nested_arrays(70000) + ",4]"}}) {
    write_file(tmp.path() / "model.safetensors", testing::st_raw(header(shape, offsets), std::string(4, '\0')));
    EXPECT_TRUE(throws<FormatError>([&] { weights::SafetensorsFile::open(tmp.path() / "model.safetensors"); },
                                    {"model.safetensors: header is not valid JSON: arrays/objects nested deeper"}));
  }
  // Within the limit: the entry check prints the value cut short.
  write_file(tmp.path() / "model.safetensors",
             testing::st_raw(header("[" + nested_arrays(120) + "]", "[0,4]"), std::string(4, '\0')));
  EXPECT_TRUE(throws<FormatError>([&] { weights::SafetensorsFile::open(tmp.path() / "model.safetensors"); },
                                  {"tensor 'w' has shape entry 0 = [[[[", "..., expected a non-negative integer"}));
  const fs::path fifo = tmp.path() / "fifo.safetensors";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_TRUE(throws<IoError>([&] { weights::SafetensorsFile::open(fifo); }, {"fifo.safetensors: not a regular file"}));
}

}  // namespace
}  // namespace bertcpp
