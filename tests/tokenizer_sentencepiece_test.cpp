// SentencePiece tokenizers (ALBERT, XLM-R): the pieces of the pipeline on their own, the sentencepiece library
// loading the model files (and its errors), and parity with transformers on the whole corpus
// (tests/data/tokenizer/hf/{albert,xlmr}_*.jsonl.gz, made by models/make_sp_tokenizer_fixtures.py).
#include <bertcpp/error.hpp>
#include <bertcpp/tokenizer.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "test_util.hpp"
#include "tokenizer/sentencepiece/aligned.hpp"
#include "tokenizer/sentencepiece/charsmap.hpp"
#include "tokenizer/sentencepiece/model.hpp"
#include "tokenizer/sentencepiece/normalizer.hpp"
#include "tokenizer/sentencepiece/pipeline.hpp"

namespace bertcpp {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using tokenizer::AlignedText;
using tokenizer::PrecompiledCharsmap;
using tokenizer::SentencePieceModel;
using tokenizer::SentencePiecePiece;
using tokenizer::SentencePieceVariant;

fs::path tok_dir() { return testing::data_dir() / "tokenizer"; }
fs::path albert_model() { return tok_dir() / "albert" / "spiece.model"; }
fs::path xlmr_model() { return tok_dir() / "xlmr" / "sentencepiece.bpe.model"; }

using Align = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

// ---- AlignedText: tokenizers' alignment rules ----------------------------------------------------------------
TEST(SentencePieceAligned, IdentityAlignsEveryByteToItsCharacter) {
  const AlignedText t = AlignedText::of("a\xC3\xA9");  // a é
  EXPECT_EQ(t.align, (Align{{0, 1}, {1, 3}, {1, 3}}));
}

TEST(SentencePieceAligned, ReplacementTakesTheAlignmentOfTheMatchsLastByte) {
  AlignedText t = AlignedText::of("a``b``");
  t.replace_all("``", "\"");
  EXPECT_EQ(t.text, "a\"b\"");
  EXPECT_EQ(t.align, (Align{{0, 1}, {2, 3}, {3, 4}, {5, 6}}));
}

TEST(SentencePieceAligned, TransformInsertsRemovesAndSkipsLeadingCharacters) {
  AlignedText t = AlignedText::of("abc");
  // 'X' replaces a, 'Y' is inserted (aligned like the byte before), 'Z' replaces b and removes c.
  t.transform({{U'X', 0}, {U'Y', 1}, {U'Z', -1}}, 0);
  EXPECT_EQ(t.text, "XYZ");
  EXPECT_EQ(t.align, (Align{{0, 1}, {0, 1}, {1, 2}}));
  AlignedText u = AlignedText::of("abc");
  u.transform({{U'c', 0}}, 2);  // the first two characters removed up front
  EXPECT_EQ(u.text, "c");
  EXPECT_EQ(u.align, (Align{{2, 3}}));
}

TEST(SentencePieceAligned, StripAccentsAndLowercaseFollowTokenizers) {
  namespace steps = tokenizer::sentencepiece_steps;
  AlignedText t = AlignedText::of("\xC3\x89t\xC3\xA9");  // Été
  steps::nfkd(t);
  EXPECT_EQ(t.text, "E\xCC\x81te\xCC\x81");
  steps::strip_accents(t);
  EXPECT_EQ(t.text, "Ete");
  EXPECT_EQ(t.align, (Align{{0, 2}, {2, 3}, {3, 5}}));
  AlignedText lead = AlignedText::of("\xCC\x81" "a");  // a combining mark before any letter
  steps::strip_accents(lead);
  EXPECT_EQ(lead.text, "a");
  EXPECT_EQ(lead.align, (Align{{2, 3}}));
  AlignedText dotted = AlignedText::of("\xC4\xB0x");  // U+0130 lowercases to i + U+0307
  steps::lowercase(dotted);
  EXPECT_EQ(dotted.text, "i\xCC\x87x");
  EXPECT_EQ(dotted.align, (Align{{0, 2}, {0, 2}, {0, 2}, {2, 3}}));
  // Unicode 9.0 tables: U+1CF7 (a mark since Unicode 10) is kept, U+0301 is stripped.
  EXPECT_FALSE(steps::is_combining_mark(0x1CF7));
  EXPECT_TRUE(steps::is_combining_mark(0x0301));
}

// ---- precompiled charsmap ------------------------------------------------------------------------------------
PrecompiledCharsmap xlmr_charsmap() {
  const SentencePieceModel m = SentencePieceModel::load(xlmr_model(), SentencePieceVariant::xlm_roberta);
  return PrecompiledCharsmap(m.precompiled_charsmap(), xlmr_model().string());
}

TEST(SentencePieceCharsmap, NormalizesAsTokenizersPrecompiled) {
  const PrecompiledCharsmap map = xlmr_charsmap();
  ASSERT_FALSE(map.empty());
  // Expected values are transformers' normalizer.normalize_str on the same model.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C", "full"},  // fullwidth
      {"\xE2\x91\xA0", "1"},                                          // circled one
      {"\xEF\xAC\x81", "fi"},                                         // ligature
      {"a\xC2\xA0" "b", "a b"},                                       // NBSP
      {"\xE2\x80\x8B", " "},                                          // zero-width space
      {"\xEF\xBF\xBD", " "},                                          // U+FFFD
      {std::string("\0x", 2), std::string("\0x", 2)},                // NUL stops the trie walk: kept
      // A grapheme under 6 bytes is replaced by the rule of its shortest matching prefix: the accent goes.
      {"\xEF\xBD\x85\xCC\x81", "e"},
  };
  for (const auto& [in, out] : cases) {
    AlignedText t = AlignedText::of(in);
    map.normalize(t);
    EXPECT_EQ(t.text, out) << "input " << ::testing::PrintToString(in);
    EXPECT_EQ(t.align.size(), t.text.size());
  }
}

TEST(SentencePieceCharsmap, MalformedBlobIsAFormatError) {
  try {
    PrecompiledCharsmap bad(std::string("\xFF\xFF\x00\x00" "abc", 7), "m.model");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("m.model: normalizer_spec.precompiled_charsmap is malformed"),
              std::string::npos) << e.what();
  }
}

// ---- the model: vocabulary layouts and segmentation --------------------------------------------------------------
TEST(SentencePieceModel, XlmrUsesFairseqIdsAndAlbertTheModelsOwn) {
  const SentencePieceModel x = SentencePieceModel::load(xlmr_model(), SentencePieceVariant::xlm_roberta);
  EXPECT_EQ(x.size(), 3002u);  // 3000 pieces - 3 + 4 fairseq specials + <mask>
  EXPECT_EQ(x.id_to_token(0), "<s>");
  EXPECT_EQ(x.id_to_token(1), "<pad>");
  EXPECT_EQ(x.id_to_token(2), "</s>");
  EXPECT_EQ(x.id_to_token(3), "<unk>");
  EXPECT_EQ(x.id_to_token(4), "\xE2\x96\x81");  // piece 3 of the model
  EXPECT_EQ(x.id_to_token(3001), "<mask>");
  EXPECT_EQ(x.unk_id(), 3);
  const SentencePieceModel a = SentencePieceModel::load(albert_model(), SentencePieceVariant::albert);
  EXPECT_EQ(a.size(), 3000u);
  EXPECT_EQ(a.id_to_token(0), "<pad>");
  EXPECT_EQ(a.id_to_token(2), "[CLS]");
  EXPECT_EQ(a.unk_id(), 1);
  EXPECT_EQ(a.token_to_id("[MASK]"), 4);
}

TEST(SentencePieceModel, UnknownCharactersFuseIntoOneUnk) {
  const SentencePieceModel x = SentencePieceModel::load(xlmr_model(), SentencePieceVariant::xlm_roberta);
  std::vector<SentencePiecePiece> pieces;
  // U+13000 (Egyptian hieroglyphs) twice: not in the 3,000-piece vocabulary.
  x.encode_word("\xE2\x96\x81" "a\xF0\x93\x80\x80\xF0\x93\x80\x80", pieces);
  ASSERT_FALSE(pieces.empty());
  EXPECT_EQ(pieces.back().id, 3);
  EXPECT_EQ(pieces.back().end, 12u);
  EXPECT_EQ(pieces.back().begin, 4u);
  std::vector<SentencePiecePiece> library;
  x.encode_word_with_library("\xE2\x96\x81" "a\xF0\x93\x80\x80\xF0\x93\x80\x80", library);
  ASSERT_EQ(library.size(), pieces.size());
  EXPECT_EQ(library.back().begin, 4u);
}

// bertcpp segments with double-precision sums (as tokenizers); the library sums floats. On the corpus words the
// two agree except where two segmentations tie, and there the double sums are equal.
TEST(SentencePieceModel, LibraryDiffersOnlyOnScoreTies) {
  const SentencePieceModel x = SentencePieceModel::load(xlmr_model(), SentencePieceVariant::xlm_roberta);
  const fs::path path = tok_dir() / "corpus.jsonl";
  std::istringstream in(testing::read_file(path));
  std::string line;
  std::size_t words = 0, differ = 0;
  std::vector<SentencePiecePiece> mine, lib;
  // A tie between two orders of the same pieces: equal multisets of (piece, id), hence equal exact sums.
  const auto pieces_of = [](const std::string& word, const std::vector<SentencePiecePiece>& p) {
    std::vector<std::string> parts;
    for (const auto& q : p) parts.push_back(word.substr(q.begin, q.end - q.begin) + "#" + std::to_string(q.id));
    std::sort(parts.begin(), parts.end());
    std::string key;
    for (const auto& s : parts) key += s + '|';
    return key;
  };
  while (std::getline(in, line)) {
    const std::string text = json::parse(line).at("text").get<std::string>();
    std::istringstream ws(text);
    std::string w;
    while (ws >> w) {
      const std::string word = "\xE2\x96\x81" + w;
      mine.clear();
      lib.clear();
      x.encode_word(word, mine);
      x.encode_word_with_library(word, lib);
      ++words;
      const bool same = mine.size() == lib.size() &&
                        std::equal(mine.begin(), mine.end(), lib.begin(), [](const auto& a, const auto& b) {
                          return a.id == b.id && a.begin == b.begin && a.end == b.end;
                        });
      if (same) continue;
      ++differ;
      // A tie: the same pieces in another order.
      EXPECT_EQ(pieces_of(word, mine), pieces_of(word, lib)) << "word " << ::testing::PrintToString(word);
    }
  }
  EXPECT_GT(words, 5000u);
  EXPECT_GT(differ, 0u) << "the corpus has long runs of one letter, where the library's float sums break ties";
  EXPECT_LT(differ, 20u);
}

// ---- model file errors ----------------------------------------------------------------------------------------
template <class E>
void expect_load_error(const fs::path& file, SentencePieceVariant variant, const std::string& fragment) {
  try {
    SentencePieceModel::load(file, variant);
    ADD_FAILURE() << "no error for " << file;
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(file.string()), std::string::npos) << what;
    EXPECT_NE(what.find(fragment), std::string::npos) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong error type: " << e.what();
  }
}

// Minimal protobuf writing for hand-made model files.
std::string varint(std::uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string field(std::uint32_t number, const std::string& bytes) {
  return varint((number << 3) | 2) + varint(bytes.size()) + bytes;
}
std::string piece(const std::string& text, int type) {
  return field(1, text) + std::string("\x15\x00\x00\x80\xBF", 5) /* score -1.0f */ + varint(3 << 3) + varint(type);
}

TEST(SentencePieceModelErrors, MissingTruncatedGarbageAndUnsupportedFiles) {
  testing::TempDir tmp;
  expect_load_error<IoError>(tmp.path() / "spiece.model", SentencePieceVariant::albert, "cannot open");

  const std::string good = testing::read_file(albert_model());
  testing::write_file(tmp.path() / "truncated.model", good.substr(0, good.size() / 2));
  expect_load_error<FormatError>(tmp.path() / "truncated.model", SentencePieceVariant::albert,
                                 "not a SentencePiece model");
  testing::write_file(tmp.path() / "empty.model", "");
  expect_load_error<FormatError>(tmp.path() / "empty.model", SentencePieceVariant::albert, "the file is empty");
  testing::write_file(tmp.path() / "garbage.model", "{\"this is\": \"a JSON file, not a protobuf\"}\n");
  expect_load_error<FormatError>(tmp.path() / "garbage.model", SentencePieceVariant::albert,
                                 "not a SentencePiece model");

  const std::string pieces = field(1, piece("<unk>", 2)) + field(1, piece("a", 1)) + field(1, piece("b", 1));
  testing::write_file(tmp.path() / "bpe.model", pieces + field(2, varint(3 << 3) + varint(2)));
  expect_load_error<UnsupportedError>(tmp.path() / "bpe.model", SentencePieceVariant::albert,
                                      "only unigram models");
  testing::write_file(tmp.path() / "few.model", pieces);
  expect_load_error<ConfigError>(tmp.path() / "few.model", SentencePieceVariant::xlm_roberta,
                                 "must start with the pieces <unk>");
  // The same file is a fine (tiny) ALBERT-style model.
  const SentencePieceModel m = SentencePieceModel::load(tmp.path() / "few.model", SentencePieceVariant::albert);
  EXPECT_EQ(m.size(), 3u);
}

// ---- bertcpp::Tokenizer on the model directories ------------------------------------------------------------------
TEST(SentencePieceTokenizer, LoadsBothFamiliesFromTheirModelFiles) {
  const Tokenizer x = Tokenizer::load(tok_dir() / "xlmr");
  EXPECT_EQ(x.vocab_size(), 3002u);
  EXPECT_EQ(x.cls_token_id(), 0);
  EXPECT_EQ(x.pad_token_id(), 1);
  EXPECT_EQ(x.sep_token_id(), 2);
  EXPECT_EQ(x.unk_token_id(), 3);
  EXPECT_EQ(x.mask_token_id(), 3001);
  const Encoding e = x.encode("Hello world", "pair");
  EXPECT_EQ(e.tokens.front(), "<s>");
  EXPECT_EQ(e.tokens.back(), "</s>");
  EXPECT_EQ(std::count(e.tokens.begin(), e.tokens.end(), "</s>"), 3);
  EXPECT_EQ(std::count(e.token_type_ids.begin(), e.token_type_ids.end(), 1), 0);

  const Tokenizer a = Tokenizer::load(tok_dir() / "albert");
  EXPECT_EQ(a.vocab_size(), 3000u);
  EXPECT_EQ(a.cls_token_id(), 2);
  EXPECT_EQ(a.sep_token_id(), 3);
  EXPECT_EQ(a.pad_token_id(), 0);
  EXPECT_EQ(a.unk_token_id(), 1);
  EXPECT_EQ(a.mask_token_id(), 4);
  const Encoding p = a.encode("Hello", "World [MASK]");
  EXPECT_EQ(p.input_ids.front(), 2);
  EXPECT_EQ(p.token_type_ids.back(), 1);
  EXPECT_EQ(p.tokens[p.size() - 2], "[MASK]");
}

// The sentencepiece library decides even when tokenizer.json is there: a broken tokenizer.json is not read.
TEST(SentencePieceTokenizer, TheModelFileWinsOverTokenizerJson) {
  testing::TempDir tmp;
  fs::copy_file(albert_model(), tmp.path() / "spiece.model");
  fs::copy_file(tok_dir() / "albert" / "tokenizer_config.json", tmp.path() / "tokenizer_config.json");
  testing::write_file(tmp.path() / "tokenizer.json", "{ not json");
  const Tokenizer a = Tokenizer::load(tmp.path());
  EXPECT_EQ(a.encode("hello").tokens.front(), "[CLS]");
}

TEST(SentencePieceTokenizer, FamilyFromTheFileNameAndUnknownClassesRefused) {
  testing::TempDir tmp;
  fs::copy_file(xlmr_model(), tmp.path() / "sentencepiece.bpe.model");
  EXPECT_EQ(Tokenizer::load(tmp.path()).vocab_size(), 3002u);  // no config at all: XLM-R by the file name
  testing::write_file(tmp.path() / "tokenizer_config.json", R"({"tokenizer_class": "T5Tokenizer"})");
  try {
    Tokenizer::load(tmp.path());
    FAIL() << "no error";
  } catch (const UnsupportedError& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_class 'T5Tokenizer'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
  }
  testing::write_file(tmp.path() / "tokenizer_config.json", R"({"add_prefix_space": "yes"})");
  try {
    Tokenizer::load(tmp.path());
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'add_prefix_space' must be a boolean, found string"), std::string::npos)
        << e.what();
  }
  testing::write_file(tmp.path() / "sentencepiece.bpe.model", "garbage");
  fs::remove(tmp.path() / "tokenizer_config.json");
  try {
    Tokenizer::load(tmp.path());
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("sentencepiece.bpe.model: not a SentencePiece model"), std::string::npos)
        << e.what();
  }
}

// Expected strings are transformers' decode / convert_tokens_to_string on the same directories.
TEST(SentencePieceTokenizer, DecodeIsTheMetaspaceDecoder) {
  const Tokenizer x = Tokenizer::load(tok_dir() / "xlmr");
  const Encoding e = x.encode("Hello world, w\xC3\xB6rld <mask> x");
  EXPECT_EQ(x.decode(e.input_ids, false), "<s> Hello world, w\xC3\xB6rld<mask> x</s>");
  EXPECT_EQ(x.decode(e.input_ids), "Hello world, w\xC3\xB6rld x");
  const std::vector<std::string> pieces = {"He", "llo", "\xE2\x96\x81wor"};
  EXPECT_EQ(x.convert_tokens_to_string(pieces), "Hello wor");
  const Tokenizer a = Tokenizer::load(tok_dir() / "albert");
  EXPECT_EQ(a.decode(a.encode("Hello  World [MASK]").input_ids, false), "[CLS] hello world[MASK][SEP]");
  const std::vector<std::string> albert_pieces = {"\xE2\x96\x81hello", "\xE2\x96\x81", "world", "[SEP]"};
  EXPECT_EQ(a.convert_tokens_to_string(albert_pieces), "hello world[SEP]");
}

// ---- parity with transformers on the corpus -----------------------------------------------------------------------
std::string gunzip(const fs::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + path.string());
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  std::string out;
  char buffer[1 << 16];
  for (int n; (n = gzread(file, buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

const std::vector<std::string>& corpus() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    std::istringstream in(testing::read_file(tok_dir() / "corpus.jsonl"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(json::parse(line).at("text").get<std::string>());
    return out;
  }();
  return lines;
}

std::string text_of(const json& ref) {
  if (ref.is_number_integer()) return corpus().at(ref.get<std::size_t>());
  std::string joined;
  for (std::size_t i = 0; i < ref.size(); ++i) joined += (i ? " " : "") + corpus().at(ref[i].get<std::size_t>());
  return joined;
}

// The tokenizer of a fixture: the directory as shipped, or its model file with tokenizer_config.json overrides.
Tokenizer tokenizer_for(const json& settings, testing::TempDir& tmp) {
  const fs::path dir = tok_dir() / settings.at("dir").get<std::string>();
  const json& overrides = settings.at("tokenizer_config");
  if (overrides.empty()) return Tokenizer::load(dir);
  const std::string model_file = settings.at("model_file").get<std::string>();
  fs::copy_file(dir / model_file, tmp.path() / model_file, fs::copy_options::overwrite_existing);
  json config = json::parse(testing::read_file(dir / "tokenizer_config.json"));
  config.update(overrides);
  testing::write_file(tmp.path() / "tokenizer_config.json", config.dump());
  return Tokenizer::load(tmp.path());
}

std::vector<std::size_t> flat(const std::vector<Offset>& offsets) {
  std::vector<std::size_t> out;
  for (const Offset& o : offsets) {
    out.push_back(o.begin);
    out.push_back(o.end);
  }
  return out;
}

// Empty when the encoding matches the HF window, else the first difference.
std::string compare(const json& w, const Encoding& e) {
  std::ostringstream out;
  const auto check = [&](const char* name, const auto& expected, const auto& actual) {
    if (!out.str().empty() || expected == actual) return;
    std::size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
    const std::size_t token = std::string_view(name) == "offsets" ? i / 2 : i;
    out << name << " differ at token " << token << " (HF " << expected.size() << " entries, bertcpp "
        << actual.size() << ")";
    if (token < e.tokens.size()) out << ": bertcpp token " << ::testing::PrintToString(e.tokens[token]);
  };
  check("ids", w.at("ids").get<std::vector<std::int32_t>>(), e.input_ids);
  check("type_ids", w.at("type_ids").get<std::vector<std::int32_t>>(), e.token_type_ids);
  check("offsets", w.at("offsets").get<std::vector<std::size_t>>(), flat(e.char_offsets));
  check("special_tokens_mask", w.at("special_tokens_mask").get<std::vector<std::int32_t>>(), e.special_tokens_mask);
  if (w.contains("tokens")) check("tokens", w.at("tokens").get<std::vector<std::string>>(), e.tokens);
  return out.str();
}

std::string check_record(const Tokenizer& tok, const EncodeOptions& options, const json& r) {
  const std::string a = text_of(r.at("a"));
  const std::optional<std::string> b = r.contains("b") ? std::optional(text_of(r.at("b"))) : std::nullopt;
  Encoding e;
  try {
    e = b ? tok.encode(a, *b, options) : tok.encode(a, options);
  } catch (const InvalidArgumentError& error) {
    if (r.contains("error")) {
      const std::string what = error.what();
      return what.find("max_length") != std::string::npos || what.find("stride") != std::string::npos
                 ? ""
                 : "InvalidArgumentError names neither max_length nor stride: " + what;
    }
    return std::string("bertcpp threw ") + error.what();
  } catch (const std::exception& error) {
    return std::string("bertcpp threw ") + error.what();
  }
  if (r.contains("error")) return "HF refuses the input (" + r.at("error").get<std::string>() + "), bertcpp did not";
  const json& windows = r.at("windows");
  if (windows.size() != e.overflowing.size() + 1)
    return "HF has " + std::to_string(windows.size()) + " windows, bertcpp " + std::to_string(e.overflowing.size() + 1);
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const std::string diff = compare(windows[i], i == 0 ? e : e.overflowing[i - 1]);
    if (!diff.empty()) return "window " + std::to_string(i) + ": " + diff;
  }
  return {};
}

const std::vector<std::string> kSentencePieceConfigs = {
    "xlmr_single", "xlmr_long", "xlmr_pairs_do_not_truncate", "xlmr_pairs_longest_first", "xlmr_pairs_only_first",
    "xlmr_pairs_only_second", "xlmr_stride_single", "xlmr_stride_pairs", "xlmr_stride_qa",
    "albert_single", "albert_long", "albert_pairs_do_not_truncate", "albert_pairs_longest_first",
    "albert_pairs_only_first", "albert_pairs_only_second", "albert_stride_single", "albert_stride_pairs",
    "albert_stride_qa", "albert_keep_accents_cased", "albert_cased", "albert_keep_accents"};

class SentencePieceParity : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceParity, MatchesTransformers) {
  const fs::path path = tok_dir() / "hf" / (GetParam() + ".jsonl.gz");
  std::istringstream in(gunzip(path));
  std::string line;
  ASSERT_TRUE(std::getline(in, line)) << path;
  const json header = json::parse(line);
  ASSERT_EQ(header.at("corpus_lines").get<std::size_t>(), corpus().size())
      << path << " is out of date: rerun models/make_sp_tokenizer_fixtures.py";
  testing::TempDir tmp;
  const Tokenizer tok = tokenizer_for(header.at("tokenizer"), tmp);
  const json& enc = header.at("encode");
  static const std::map<std::string, Truncation> strategies = {{"do_not_truncate", Truncation::do_not_truncate},
                                                               {"longest_first", Truncation::longest_first},
                                                               {"only_first", Truncation::only_first},
                                                               {"only_second", Truncation::only_second}};
  EncodeOptions options;
  options.truncation = strategies.at(enc.at("truncation").get<std::string>());
  options.max_length = enc.at("max_length").get<std::size_t>();
  options.stride = enc.at("stride").get<std::size_t>();
  options.return_overflowing_tokens = enc.at("return_overflowing_tokens").get<bool>();

  std::size_t inputs = 0, windows = 0;
  std::vector<std::string> failures;
  while (std::getline(in, line)) {
    const json r = json::parse(line);
    ++inputs;
    if (r.contains("windows")) windows += r.at("windows").size();
    const std::string diff = check_record(tok, options, r);
    if (!diff.empty()) failures.push_back("a=" + r.at("a").dump() + (r.contains("b") ? " b=" + r.at("b").dump() : "") +
                                          ": " + diff);
  }
  std::ostringstream report;
  for (std::size_t i = 0; i < std::min<std::size_t>(10, failures.size()); ++i) report << "  " << failures[i] << '\n';
  EXPECT_GT(inputs, 100u);
  EXPECT_TRUE(failures.empty()) << GetParam() << ": " << failures.size() << " of " << inputs
                                << " inputs differ from transformers\n" << report.str();
  std::printf("[ parity   ] %s: %zu of %zu inputs (%zu windows) identical\n", GetParam().c_str(),
              inputs - failures.size(), inputs, windows);
}

INSTANTIATE_TEST_SUITE_P(Hf, SentencePieceParity, ::testing::ValuesIn(kSentencePieceConfigs),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(SentencePieceParityFixtures, EveryFixtureIsListed) {
  std::size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(tok_dir() / "hf")) {
    const std::string name = entry.path().filename().string();
    on_disk += (name.starts_with("xlmr_") || name.starts_with("albert_")) && name.ends_with(".jsonl.gz");
  }
  EXPECT_EQ(on_disk, kSentencePieceConfigs.size());
}

}  // namespace
}  // namespace bertcpp
