// Parity with Hugging Face tokenizers on a multilingual corpus of real text (tests/data/tokenizer/).
//
// For every configuration in tests/data/tokenizer/hf/*.jsonl.gz (made by models/make_tokenizer_fixtures.py
// from corpus.jsonl, see models/build_corpus.py) and every input in it, the C++ tokenizer must return exactly
// the HF input_ids, token_type_ids and code-point offsets, window by window when truncating; byte_offsets must
// cover the same substrings as the char offsets. The byte-level BPE configurations (roberta_*) and MPNet's
// (mpnet_*) also record the token strings, special_tokens_mask and word_ids, which must match too. Inputs HF
// refuses (truncation cannot reach max_length, or stride leaves no room) must throw InvalidArgumentError naming
// max_length or stride.
//
// A failure prints the configuration, the corpus line(s), the text with invisible characters escaped, and
// the first differing position with the tokens around it.
#include <bertcpp/error.hpp>
#include <bertcpp/tokenizer.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_util.hpp"

namespace bertcpp {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path tokenizer_data_dir() { return testing::data_dir() / "tokenizer"; }

// ---- fixture files -------------------------------------------------------------------------------------------
std::string gunzip(const fs::path& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw std::runtime_error("cannot open " + path.string());
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose);
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    const int n = gzread(file, buffer, sizeof buffer);
    if (n < 0) throw std::runtime_error(path.string() + ": corrupt gzip data");
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

std::vector<json> json_lines(const std::string& text, const fs::path& origin) {
  std::vector<json> lines;
  std::istringstream in(text);
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      lines.push_back(json::parse(line));
    } catch (const json::exception& e) {
      throw std::runtime_error(origin.string() + ":" + std::to_string(number) + ": " + e.what());
    }
  }
  return lines;
}

struct CorpusLine {
  std::string src;   // where the text came from, e.g. "glib20.mo/ru" or "edge:final sigma"
  std::string text;  // UTF-8, may contain any character including U+0000
};

const std::vector<CorpusLine>& corpus() {
  static const std::vector<CorpusLine> lines = [] {
    const fs::path path = tokenizer_data_dir() / "corpus.jsonl";
    std::vector<CorpusLine> out;
    for (const json& line : json_lines(testing::read_file(path), path))
      out.push_back({line.at("src").get<std::string>(), line.at("text").get<std::string>()});
    return out;
  }();
  return lines;
}

// A record's "a" / "b": one corpus line index, or several joined by one space.
std::string text_of(const json& ref) {
  if (ref.is_number_integer()) return corpus().at(ref.get<std::size_t>()).text;
  std::string joined;
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (i > 0) joined += ' ';
    joined += corpus().at(ref[i].get<std::size_t>()).text;
  }
  return joined;
}

struct Window {
  std::vector<std::int32_t> ids;
  std::vector<std::int32_t> type_ids;
  std::vector<Offset> offsets;
  // Recorded by the BPE configurations only (empty otherwise, and then not compared).
  std::vector<std::string> tokens;
  std::vector<std::int32_t> special_tokens_mask;
  std::vector<std::int64_t> word_ids;  // -1 for HF's None
};

Window window_of(const json& w) {
  Window out{w.at("ids").get<std::vector<std::int32_t>>(), w.at("type_ids").get<std::vector<std::int32_t>>(), {},
             {}, {}, {}};
  const auto flat = w.at("offsets").get<std::vector<std::size_t>>();
  for (std::size_t i = 0; i + 1 < flat.size(); i += 2) out.offsets.push_back({flat[i], flat[i + 1]});
  if (w.contains("tokens")) {
    out.tokens = w.at("tokens").get<std::vector<std::string>>();
    out.special_tokens_mask = w.at("special_tokens_mask").get<std::vector<std::int32_t>>();
    for (const json& id : w.at("word_ids")) out.word_ids.push_back(id.is_null() ? -1 : id.get<std::int64_t>());
  }
  return out;
}

Window window_of(const Encoding& e) {
  return {e.input_ids, e.token_type_ids, e.char_offsets, e.tokens, e.special_tokens_mask, e.word_ids};
}

struct Fixture {
  json header;
  std::vector<json> records;
};

Fixture load_fixture(const std::string& config) {
  const fs::path path = tokenizer_data_dir() / "hf" / (config + ".jsonl.gz");
  std::vector<json> lines = json_lines(gunzip(path), path);
  if (lines.empty()) throw std::runtime_error(path.string() + ": empty");
  Fixture f{std::move(lines.front()), {}};
  f.records.assign(std::make_move_iterator(lines.begin() + 1), std::make_move_iterator(lines.end()));
  return f;
}

Tokenizer tokenizer_for(const json& settings) {
  if (settings.contains("file"))
    return Tokenizer::from_tokenizer_json(tokenizer_data_dir() / settings.at("file").get<std::string>());
  if (settings.contains("dir"))  // a checkpoint's tokenizer directory, loaded as BertModel::load finds it
    return Tokenizer::load(tokenizer_data_dir() / settings.at("dir").get<std::string>());
  if (settings.contains("bpe_json"))
    return Tokenizer::from_tokenizer_json(tokenizer_data_dir() / settings.at("bpe_json").get<std::string>());
  if (settings.contains("bpe_dir")) {  // tokenizer.json next to the recorded tokenizer_config.json
    testing::TempDir dir;
    testing::write_file(dir.path() / "tokenizer.json",
                        testing::read_file(tokenizer_data_dir() / settings.at("bpe_dir").get<std::string>()));
    testing::write_file(dir.path() / "tokenizer_config.json", settings.at("tokenizer_config").dump());
    return Tokenizer::load(dir.path());
  }
  if (settings.contains("bpe_files")) {
    const fs::path dir = tokenizer_data_dir() / settings.at("bpe_files").get<std::string>();
    Tokenizer::BpeOptions options;
    options.add_prefix_space = settings.at("add_prefix_space").get<bool>();
    return Tokenizer::from_bpe_files(dir / "vocab.json", dir / "merges.txt", options);
  }
  Tokenizer::WordPieceOptions options;
  options.do_lower_case = settings.at("do_lower_case").get<bool>();
  if (!settings.at("strip_accents").is_null()) options.strip_accents = settings.at("strip_accents").get<bool>();
  options.tokenize_chinese_chars = settings.at("tokenize_chinese_chars").get<bool>();
  return Tokenizer::from_vocab(tokenizer_data_dir() / settings.at("vocab").get<std::string>(), options);
}

EncodeOptions encode_options_for(const json& encode) {
  static const std::map<std::string, Truncation> strategies = {
      {"do_not_truncate", Truncation::do_not_truncate},
      {"longest_first", Truncation::longest_first},
      {"only_first", Truncation::only_first},
      {"only_second", Truncation::only_second}};
  EncodeOptions options;
  options.truncation = strategies.at(encode.at("truncation").get<std::string>());
  options.max_length = encode.at("max_length").get<std::size_t>();
  options.stride = encode.at("stride").get<std::size_t>();
  options.return_overflowing_tokens = encode.at("return_overflowing_tokens").get<bool>();
  return options;
}

// ---- reporting -------------------------------------------------------------------------------------------------
// Decodes one code point of valid UTF-8 (the corpus is valid by construction); returns its length in bytes.
std::size_t decode_utf8(const std::string& s, std::size_t at, char32_t& cp) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(at);
  std::size_t length = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
  if (at + length > s.size()) length = 1;
  cp = length == 1 ? b0 : static_cast<char32_t>(b0 & (0xFF >> (length + 1)));
  for (std::size_t i = 1; i < length; ++i) cp = (cp << 6) | (byte(at + i) & 0x3F);
  return length;
}

// The text with controls, format characters and separators shown as \u{XXXX} so a failure is readable.
std::string visible(const std::string& text) {
  std::string out;
  char32_t cp = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = decode_utf8(text, at, cp);
    const bool invisible = cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0xAD || (cp >= 0x200B && cp <= 0x200F) ||
                           (cp >= 0x2028 && cp <= 0x202F) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF ||
                           cp == 0x3000 || (cp >= 0xE0000 && cp <= 0xE007F);
    if (invisible) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buffer;
    } else {
      out.append(text, at, length);
    }
    at += length;
  }
  return out;
}

std::string describe_ref(const json& ref) {
  std::ostringstream out;
  const auto one = [&](std::size_t i) { out << "line " << i << " (" << corpus().at(i).src << ")"; };
  if (ref.is_number_integer()) {
    one(ref.get<std::size_t>());
  } else {
    out << "lines " << ref.front().get<std::size_t>() << ".." << ref.back().get<std::size_t>() << " joined";
  }
  return out.str();
}

std::string token_name(const Tokenizer& tok, std::int32_t id) {
  try {
    return tok.id_to_token(id);
  } catch (const Error&) {
    return "<id " + std::to_string(id) + " out of range>";
  }
}

// Tokens [first - 3, first + 4) of a window: "id:token@begin-end".
std::string excerpt(const Tokenizer& tok, const Window& w, std::size_t first) {
  std::ostringstream out;
  const std::size_t begin = first >= 3 ? first - 3 : 0;
  const std::size_t end = std::min(w.ids.size(), first + 4);
  out << (begin > 0 ? "... " : "");
  for (std::size_t i = begin; i < end; ++i) {
    out << (i == first ? "[>" : "") << w.ids[i] << ':' << token_name(tok, w.ids[i]);
    if (i < w.offsets.size()) out << '@' << w.offsets[i].begin << '-' << w.offsets[i].end;
    if (i < w.type_ids.size()) out << "/t" << w.type_ids[i];
    out << (i == first ? "<]" : "") << ' ';
  }
  out << (end < w.ids.size() ? "..." : "") << " (" << w.ids.size() << " tokens)";
  return out.str();
}

// Empty when the windows agree, else where and how they first differ.
std::string compare_window(const Tokenizer& tok, const Window& expected, const Window& actual) {
  const std::size_t n = std::max({expected.ids.size(), actual.ids.size(), actual.type_ids.size(),
                                  actual.offsets.size()});
  for (std::size_t i = 0; i < n; ++i) {
    const char* what = nullptr;
    if (i >= expected.ids.size() || i >= actual.ids.size()) {
      what = "length";
    } else if (expected.ids[i] != actual.ids[i]) {
      what = "input_ids";
    } else if (i >= actual.type_ids.size() || expected.type_ids[i] != actual.type_ids[i]) {
      what = "token_type_ids";
    } else if (i >= actual.offsets.size() || !(expected.offsets[i] == actual.offsets[i])) {
      what = "char_offsets";
    } else if (!expected.tokens.empty() && (i >= actual.tokens.size() || expected.tokens[i] != actual.tokens[i])) {
      what = "tokens";
    } else if (!expected.special_tokens_mask.empty() &&
               (i >= actual.special_tokens_mask.size() ||
                expected.special_tokens_mask[i] != actual.special_tokens_mask[i])) {
      what = "special_tokens_mask";
    } else if (!expected.word_ids.empty() && (i >= actual.word_ids.size() || expected.word_ids[i] != actual.word_ids[i])) {
      what = "word_ids";
    }
    if (what != nullptr) {
      std::ostringstream out;
      out << what << " differ at token " << i << " (HF " << expected.ids.size() << " tokens, bertcpp "
          << actual.ids.size() << ", " << actual.type_ids.size() << " type ids, " << actual.offsets.size()
          << " offsets)\n      HF:     " << excerpt(tok, expected, i) << "\n      bertcpp: " << excerpt(tok, actual, i);
      return out.str();
    }
  }
  return {};
}

// Code-point index -> byte offset for every index 0..length (inclusive).
std::vector<std::size_t> byte_index_of_code_points(const std::string& text) {
  std::vector<std::size_t> index;
  char32_t cp = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    index.push_back(at);
    at += decode_utf8(text, at, cp);
  }
  index.push_back(text.size());
  return index;
}

// byte_offsets must select the same substring as the (already verified) char_offsets.
std::string compare_byte_offsets(const Encoding& e, const std::string& text_a, const std::string& text_b) {
  const std::vector<std::size_t> index_a = byte_index_of_code_points(text_a);
  const std::vector<std::size_t> index_b = byte_index_of_code_points(text_b);
  if (e.byte_offsets.size() != e.char_offsets.size())
    return "byte_offsets has " + std::to_string(e.byte_offsets.size()) + " entries, char_offsets " +
           std::to_string(e.char_offsets.size());
  for (std::size_t i = 0; i < e.char_offsets.size(); ++i) {
    const auto& index = e.sequence_ids[i] == 1 ? index_b : index_a;  // RoBERTa: every type id is 0
    const Offset c = e.char_offsets[i];
    if (std::max(c.begin, c.end) >= index.size()) return "char offset " + std::to_string(c.end) + " past the text at token " + std::to_string(i);
    const Offset expected{index[c.begin], index[c.end]};
    if (!(e.byte_offsets[i] == expected))
      return "byte_offsets at token " + std::to_string(i) + " are [" + std::to_string(e.byte_offsets[i].begin) + ", " +
             std::to_string(e.byte_offsets[i].end) + "), expected [" + std::to_string(expected.begin) + ", " +
             std::to_string(expected.end) + ") from char_offsets [" + std::to_string(c.begin) + ", " +
             std::to_string(c.end) + ")";
  }
  return {};
}

// ---- the check -----------------------------------------------------------------------------------------------
struct Outcome {
  std::size_t inputs = 0;
  std::vector<std::string> failures;   // one report per failing input
  std::vector<std::string> failing;    // short ids ("a=12 b=13") of every failing input
};

std::string check_record(const Tokenizer& tok, const EncodeOptions& options, const json& record) {
  const std::string text_a = text_of(record.at("a"));
  const std::optional<std::string> text_b =
      record.contains("b") ? std::optional<std::string>(text_of(record.at("b"))) : std::nullopt;
  const auto encode = [&](const EncodeOptions& o) { return text_b ? tok.encode(text_a, *text_b, o) : tok.encode(text_a, o); };

  if (record.contains("error")) {
    try {
      const Encoding e = encode(options);
      return "HF refuses this input (" + record.at("error").get<std::string>() + ") but bertcpp returned " +
             std::to_string(e.size()) + " tokens and " + std::to_string(e.overflowing.size()) + " more windows";
    } catch (const InvalidArgumentError& e) {
      // The message must name the option that cannot be met (HF: "Sequence to truncate too short to respect
      // the provided max_length", "`stride` must be strictly less than `max_len`").
      const std::string message = e.what();
      if (message.find("max_length") == std::string::npos && message.find("stride") == std::string::npos)
        return "InvalidArgumentError names neither max_length nor stride: " + message;
      return {};
    } catch (const std::exception& e) {
      return std::string("expected InvalidArgumentError (HF: ") + record.at("error").get<std::string>() +
             "), got: " + e.what();
    }
  }

  Encoding encoding;
  try {
    encoding = encode(options);
  } catch (const std::exception& e) {
    return std::string("bertcpp threw: ") + e.what();
  }
  const json& expected_windows = record.at("windows");
  std::vector<const Encoding*> actual_windows{&encoding};
  for (const Encoding& o : encoding.overflowing) actual_windows.push_back(&o);
  if (actual_windows.size() != expected_windows.size())
    return "HF returns " + std::to_string(expected_windows.size()) + " windows, bertcpp " +
           std::to_string(actual_windows.size()) + "; first window: " +
           [&] {
             const std::string diff = compare_window(tok, window_of(expected_windows[0]), window_of(encoding));
             return diff.empty() ? std::string("identical") : diff;
           }();
  for (std::size_t w = 0; w < actual_windows.size(); ++w) {
    std::string diff = compare_window(tok, window_of(expected_windows[w]), window_of(*actual_windows[w]));
    if (diff.empty()) diff = compare_byte_offsets(*actual_windows[w], text_a, text_b.value_or(""));
    if (!diff.empty()) return "window " + std::to_string(w) + ": " + diff;
  }

  // Without return_overflowing_tokens the first window is the same. transformers then drops the other windows;
  // bertcpp's header promises them whenever stride > 0, so only stride 0 must come back without them.
  if (options.return_overflowing_tokens) {
    EncodeOptions first_only = options;
    first_only.return_overflowing_tokens = false;
    const Encoding e = encode(first_only);
    std::string diff = compare_window(tok, window_of(expected_windows[0]), window_of(e));
    if (diff.empty() && options.stride == 0 && !e.overflowing.empty())
      diff = std::to_string(e.overflowing.size()) + " overflowing windows returned although not requested";
    if (!diff.empty()) return "with return_overflowing_tokens=false: " + diff;
  }
  return {};
}

Outcome run_config(const Fixture& fixture) {
  const Tokenizer tok = tokenizer_for(fixture.header.at("tokenizer"));
  const EncodeOptions options = encode_options_for(fixture.header.at("encode"));
  Outcome outcome;
  for (const json& record : fixture.records) {
    ++outcome.inputs;
    const std::string diff = check_record(tok, options, record);
    if (diff.empty()) continue;
    std::ostringstream id, report;
    id << "a=" << record.at("a").dump() << (record.contains("b") ? " b=" + record.at("b").dump() : "");
    report << describe_ref(record.at("a")) << (record.contains("b") ? " + " + describe_ref(record.at("b")) : "")
           << "\n    text: \"" << visible(text_of(record.at("a"))) << '"';
    if (record.contains("b")) report << "\n    pair: \"" << visible(text_of(record.at("b"))) << '"';
    report << "\n    " << diff;
    outcome.failing.push_back(id.str());
    outcome.failures.push_back(report.str());
  }
  return outcome;
}

const std::vector<std::string> kConfigs = {
    "uncased",           "long_uncased",  "cased",        "no_chinese_chars", "strip_accents_cased",
    "pairs_do_not_truncate", "pairs_longest_first", "pairs_only_first", "pairs_only_second",
    "stride_single",     "stride_pairs",  "stride_qa",
    // byte-level BPE (tests/data/tokenizer/roberta)
    "roberta_single", "roberta_long", "roberta_pairs_do_not_truncate", "roberta_pairs_longest_first",
    "roberta_pairs_only_first", "roberta_pairs_only_second", "roberta_stride_single", "roberta_stride_pairs",
    "roberta_stride_qa", "roberta_prefix_space", "roberta_prefix_space_stride", "roberta_files",
    "roberta_files_prefix_space", "roberta_files_stride_pairs",
    // MPNet: WordPiece under RobertaProcessing (tests/data/tokenizer/mpnet)
    "mpnet_single", "mpnet_pairs_longest_first", "mpnet_stride_qa",
};

class TokenizerParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerParity, MatchesHuggingFace) {
  const Fixture fixture = load_fixture(GetParam());
  ASSERT_EQ(fixture.header.at("corpus_lines").get<std::size_t>(), corpus().size())
      << "corpus.jsonl and hf/" << GetParam() << ".jsonl.gz are out of sync: rerun models/make_tokenizer_fixtures.py";
  ASSERT_FALSE(fixture.records.empty());

  const Outcome outcome = run_config(fixture);
  constexpr std::size_t kShown = 12;
  std::ostringstream report;
  report << GetParam() << " (" << fixture.header.at("description").get<std::string>() << "): "
         << outcome.failing.size() << " of " << outcome.inputs << " inputs differ from HF\n";
  for (std::size_t i = 0; i < std::min(kShown, outcome.failures.size()); ++i) report << "  " << outcome.failures[i] << '\n';
  if (outcome.failures.size() > kShown) {
    report << "  ... all failing inputs:";
    for (const std::string& id : outcome.failing) report << " [" << id << ']';
    report << '\n';
  }
  EXPECT_TRUE(outcome.failing.empty()) << report.str();
}

INSTANTIATE_TEST_SUITE_P(Hf, TokenizerParity, ::testing::ValuesIn(kConfigs),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

// Every configuration file is present, and the corpus is the one the brief asks for: large and multilingual.
TEST(TokenizerParityFixtures, EveryConfigurationIsPresentAndNonTrivial) {
  ASSERT_GE(corpus().size(), 2000u);
  std::size_t on_disk = 0;
  for (const auto& entry : fs::directory_iterator(tokenizer_data_dir() / "hf")) {
    const std::string name = entry.path().filename().string();
    // albert_* / xlmr_* belong to tokenizer_sentencepiece_test.cpp.
    on_disk += name.ends_with(".jsonl.gz") && !name.starts_with("albert_") && !name.starts_with("xlmr_");
  }
  EXPECT_EQ(on_disk, kConfigs.size()) << "a fixture file is not listed in kConfigs (or missing)";
  for (const std::string& config : kConfigs) {
    const Fixture f = load_fixture(config);
    EXPECT_EQ(f.header.at("config").get<std::string>(), config);
    std::size_t tokens = 0;
    for (const json& record : f.records)
      if (record.contains("windows"))
        for (const json& w : record.at("windows")) tokens += w.at("ids").size();
    EXPECT_GT(tokens, 3 * f.records.size()) << config;  // more than [CLS] x [SEP] on average
  }
}

// The test's own UTF-8 / offset helpers, so that a parity failure cannot come from them.
TEST(TokenizerParityFixtures, CodePointIndexHelper) {
  const std::string text = "a\xC3\xA9\xE4\xB8\x96\xF0\x9F\x91\x8D";  // a é 世 👍
  EXPECT_EQ(byte_index_of_code_points(text), (std::vector<std::size_t>{0, 1, 3, 6, 10}));
  EXPECT_EQ(visible(std::string("x\0y\xE2\x80\x8Bz", 7)), "x\\u{0000}y\\u{200B}z");
}

}  // namespace
}  // namespace bertcpp
