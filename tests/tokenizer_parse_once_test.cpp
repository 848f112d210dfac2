// Each JSON file of a tokenizer directory is read and parsed once per load (issue 12): tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, vocab.json - by Tokenizer::load of every file kind and by a
// task head, which takes the tokenizer the model loaded instead of reading tokenizer.json again. Counted with
// common::json_file_parse_count, which every JSON file read goes through.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "bertcpp/pipelines.hpp"
#include "bertcpp/tokenizer.hpp"
#include "common/json_io.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;

const char* const kFiles[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                              "config.json"};

// How many times each file name was parsed while `load` ran.
std::map<std::string, std::uint64_t> parses_during(const std::function<void()>& load) {
  std::map<std::string, std::uint64_t> before;
  for (const char* f : kFiles) before[f] = common::json_file_parse_count(f);
  load();
  std::map<std::string, std::uint64_t> delta;
  for (const char* f : kFiles) delta[f] = common::json_file_parse_count(f) - before[f];
  return delta;
}

// Every settings / tokenizer file present in `dir` parsed exactly once, and none of the absent ones.
void expect_each_file_once(const fs::path& dir, const std::map<std::string, std::uint64_t>& parses,
                           std::initializer_list<const char*> not_read = {}) {
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json"}) {
    bool skipped = false;
    for (const char* n : not_read) skipped = skipped || std::string(n) == f;
    const std::uint64_t expected = !skipped && fs::exists(dir / f) ? 1 : 0;
    EXPECT_EQ(parses.at(f), expected) << dir << ": " << f;
  }
}

TEST(TokenizerParseOnce, CountsEveryParse) {
  // The counter itself: two reads of one file count two.
  const fs::path file = testing::data_dir() / "tokenizer" / "roberta" / "tokenizer_config.json";
  const auto parses = parses_during([&] {
    common::read_json_file(file, 1 << 20);
    common::read_json_file(file, 1 << 20);
  });
  EXPECT_EQ(parses.at("tokenizer_config.json"), 2u);
}

TEST(TokenizerParseOnce, TokenizerJsonWithSettingsFiles) {
  // WordPiece and byte-level BPE tokenizer.json next to tokenizer_config.json (the BPE one also patches the
  // pre-tokenizer from it); a special_tokens_map.json added to the WordPiece directory.
  for (const char* kind : {"wordpiece", "roberta"}) {
    const fs::path dir = testing::data_dir() / "tokenizer" / kind;
    expect_each_file_once(dir, parses_during([&] { Tokenizer::load(dir); }), {"vocab.json"});
  }
  testing::TempDir tmp;
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(testing::data_dir() / "tokenizer" / "wordpiece" / f, tmp.path() / f);
  testing::write_file(tmp.path() / "special_tokens_map.json", R"({"mask_token": "[MASK]"})");
  expect_each_file_once(tmp.path(), parses_during([&] { Tokenizer::load(tmp.path()); }));
}

TEST(TokenizerParseOnce, VocabJsonAndMerges) {
  testing::TempDir tmp;
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json"})
    fs::copy_file(testing::data_dir() / "tokenizer" / "roberta" / f, tmp.path() / f);
  testing::write_file(tmp.path() / "special_tokens_map.json", R"({"mask_token": {"content": "<mask>", "lstrip": true}})");
  expect_each_file_once(tmp.path(), parses_during([&] { Tokenizer::load(tmp.path()); }));
}

TEST(TokenizerParseOnce, SentencePieceDirectories) {
  // The model file decides; tokenizer.json next to it is not read at all.
  for (const char* kind : {"albert", "xlmr"}) {
    const fs::path dir = testing::data_dir() / "tokenizer" / kind;
    expect_each_file_once(dir, parses_during([&] { Tokenizer::load(dir); }), {"tokenizer.json"});
  }
}

TEST(TokenizerParseOnce, TokenClassifierReadsTokenizerJsonOnce) {
  // The NER head's subword rule comes from the loaded tokenizer, not from a second parse of tokenizer.json.
  for (const char* name : {"heads/token-classification", "variant-heads/roberta-token-classification"}) {
    const fs::path dir = testing::data_dir() / name;
    ASSERT_TRUE(fs::exists(dir / "tokenizer.json")) << dir;
    expect_each_file_once(dir, parses_during([&] { TokenClassifier::load(dir); }), {"vocab.json"});
  }
}

}  // namespace
}  // namespace bertcpp
