// Loading tokenizers from tokenizer.json, vocab.txt + tokenizer_config.json, and the errors for bad files.
#include <bertcpp/error.hpp>
#include <bertcpp/tokenizer.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path fixture(const char* name) { return testing::data_dir() / "tokenizer" / name; }

json bert_json() { return json::parse(testing::read_file(fixture("tokenizer.json"))); }

template <class E>
void expect_load_error(const fs::path& file, const std::vector<std::string>& fragments) {
  try {
    Tokenizer::from_tokenizer_json(file);
    FAIL() << "expected an error loading " << file;
  } catch (const E& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(TokenizerLoad, VocabTxtAndTokenizerJsonAgree) {
  const Tokenizer from_json = Tokenizer::from_tokenizer_json(fixture("tokenizer.json"));
  const Tokenizer from_vocab = Tokenizer::from_vocab(fixture("vocab.txt"), {});
  for (const std::string text : {"Hello, world!", "Caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC [MASK] unaffable",
                                 "\xC4\xB0stanbul \xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"}) {
    const Encoding a = from_json.encode(text, "and a pair");
    const Encoding b = from_vocab.encode(text, "and a pair");
    EXPECT_EQ(a.input_ids, b.input_ids) << text;
    EXPECT_EQ(a.char_offsets, b.char_offsets) << text;
    EXPECT_EQ(a.token_type_ids, b.token_type_ids) << text;
  }
  EXPECT_EQ(from_vocab.mask_token_id(), 103);
  EXPECT_EQ(from_vocab.model_max_length(), 512u);
}

TEST(TokenizerLoad, DirectoryWithVocabAndConfigFollowsTheConfig) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "vocab.txt", testing::read_file(fixture("vocab.txt")));
  testing::write_file(dir.path() / "tokenizer_config.json",
                      R"({"do_lower_case": false, "model_max_length": 128, "never_split": ["hello"]})");
  const Tokenizer cased = Tokenizer::load(dir.path());
  EXPECT_EQ(cased.model_max_length(), 128u);
  // Cased: "Hello" is not lowercased (the uncased vocabulary then splits it); accents stay (strip follows case).
  const Encoding e = cased.encode("Hello hello caf\xC3\xA9");
  EXPECT_NE(e.input_ids[1], 7592);
  EXPECT_EQ(e.tokens.back(), "[SEP]");
  EXPECT_EQ(cased.encode("Caf\xC3\xA9").tokens, Tokenizer::from_vocab(fixture("vocab.txt"), [] {
              Tokenizer::WordPieceOptions o;
              o.do_lower_case = false;
              return o;
            }()).encode("Caf\xC3\xA9").tokens);
  // never_split entries are matched whole in the original text.
  const Encoding kept = cased.encode("xhellox");
  EXPECT_EQ(kept.tokens[2], "hello");
}

// An MPNet directory without tokenizer.json: transformers' MPNetTokenizer converts vocab.txt with RoBERTa's pair
// layout (<s> A </s></s> B </s>, type ids 0) and a <mask> that swallows the space on its left, whether
// tokenizer_config.json names the class or only config.json's model_type says mpnet. Expected values: transformers
// 5.24 on these three directories (identical), and bertcpp's tokenizer.json path (held by the mpnet_* parity).
TEST(TokenizerLoad, MpnetVocabTxtGetsMpnetTokenizersLayout) {
  const fs::path mpnet = fixture("mpnet");
  testing::TempDir with_class, with_model_type;
  testing::write_file(with_class.path() / "vocab.txt", testing::read_file(mpnet / "vocab.txt"));
  testing::write_file(with_class.path() / "tokenizer_config.json", testing::read_file(mpnet / "tokenizer_config.json"));
  testing::write_file(with_model_type.path() / "vocab.txt", testing::read_file(mpnet / "vocab.txt"));
  testing::write_file(with_model_type.path() / "config.json", R"({"model_type": "mpnet"})");
  const std::string text = "Hello world <mask> here, \xC3\x9C" "n\xC3\xAF" "c\xC3\xB6" "d\xC3\xA9!";
  const std::string pair = "second <mask>";
  const std::vector<std::int32_t> ids = {0,    1243, 514, 514, 510, 1848, 1375, 2000, 1243, 1074, 17, 1063,
                                         1001, 1054, 539, 5,   2,   2,    1837, 982,  538,  2000, 2};
  const std::vector<Offset> offsets = {{0, 0},   {0, 2},   {2, 3},   {3, 4},   {4, 5},   {6, 9},
                                       {9, 11},  {12, 18}, {19, 21}, {21, 23}, {23, 24}, {25, 27},
                                       {27, 29}, {29, 31}, {31, 32}, {32, 33}, {0, 0},   {0, 0},
                                       {0, 3},   {3, 5},   {5, 6},   {7, 13},  {0, 0}};
  for (const fs::path& dir : {mpnet, with_class.path(), with_model_type.path()}) {
    SCOPED_TRACE(dir.string());
    const Tokenizer tok = Tokenizer::load(dir);
    const Encoding e = tok.encode(text, pair);
    EXPECT_EQ(e.input_ids, ids);
    EXPECT_EQ(e.token_type_ids, std::vector<std::int32_t>(ids.size(), 0));
    EXPECT_EQ(e.char_offsets, offsets);
    EXPECT_EQ(tok.mask_token_id(), 2000);
    EXPECT_EQ(tok.pad_token_id(), 1);
  }
}

TEST(TokenizerLoad, TokenizerJsonWinsOverVocabTxt) {
  testing::TempDir dir;
  json j = bert_json();
  j["normalizer"]["lowercase"] = false;
  j["normalizer"]["strip_accents"] = false;
  testing::write_file(dir.path() / "tokenizer.json", j.dump());
  testing::write_file(dir.path() / "vocab.txt", testing::read_file(fixture("vocab.txt")));
  const Tokenizer tok = Tokenizer::load(dir.path());
  EXPECT_NE(tok.encode("Hello").input_ids[1], 7592);  // not lowercased: tokenizer.json decided
}

TEST(TokenizerLoad, BertProcessingPostProcessor) {
  testing::TempDir dir;
  json j = bert_json();
  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 102}}, {"cls", {"[CLS]", 101}}};
  testing::write_file(dir.path() / "tokenizer.json", j.dump());
  const Encoding e = Tokenizer::from_tokenizer_json(dir.path() / "tokenizer.json").encode("one", "two");
  EXPECT_EQ(e.input_ids, (std::vector<std::int32_t>{101, 2028, 102, 2048, 102}));
  EXPECT_EQ(e.token_type_ids, (std::vector<std::int32_t>{0, 0, 0, 1, 1}));
}

TEST(TokenizerLoad, MalformedFilesNameTheFileAndField) {
  testing::TempDir dir;
  const fs::path file = dir.path() / "tokenizer.json";
  testing::write_file(file, "{\"model\": ");
  expect_load_error<FormatError>(file, {file.string(), "invalid JSON"});

  json j = bert_json();
  j["model"].erase("vocab");
  testing::write_file(file, j.dump());
  expect_load_error<FormatError>(file, {file.string(), "'model.vocab' is missing"});

  j = bert_json();
  j["model"]["vocab"]["hello"] = "7592";
  testing::write_file(file, j.dump());
  expect_load_error<FormatError>(file, {"model.vocab[\"hello\"]", "must be an integer"});

  j = bert_json();
  j["normalizer"]["lowercase"] = 1;
  testing::write_file(file, j.dump());
  expect_load_error<FormatError>(file, {"normalizer.lowercase", "boolean"});

  j = bert_json();
  j["normalizer"] = {{"type", "NFKC"}};
  testing::write_file(file, j.dump());
  expect_load_error<UnsupportedError>(file, {"normalizer.type", "NFKC"});

  j = bert_json();
  j["model"]["unk_token"] = "<unk>";
  testing::write_file(file, j.dump());
  expect_load_error<ConfigError>(file, {file.string(), "'<unk>'"});

  j = bert_json();
  j["post_processor"]["single"][0]["SpecialToken"]["id"] = "[NOPE]";
  testing::write_file(file, j.dump());
  expect_load_error<FormatError>(file, {"post_processor.single[0].SpecialToken.id", "[NOPE]"});
}

TEST(TokenizerLoad, MissingFilesAreIoErrors) {
  testing::TempDir dir;
  EXPECT_THROW(Tokenizer::load(dir.path()), IoError);
  EXPECT_THROW(Tokenizer::load(dir.path() / "nope"), IoError);
  EXPECT_THROW(Tokenizer::from_tokenizer_json(dir.path() / "tokenizer.json"), IoError);
  EXPECT_THROW(Tokenizer::from_vocab(dir.path() / "vocab.txt", {}), IoError);
}

TEST(TokenizerLoad, BadTokenizerConfigIsAFormatError) {
  testing::TempDir dir;
  testing::write_file(dir.path() / "vocab.txt", testing::read_file(fixture("vocab.txt")));
  testing::write_file(dir.path() / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
  try {
    Tokenizer::load(dir.path());
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("do_lower_case"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bertcpp
