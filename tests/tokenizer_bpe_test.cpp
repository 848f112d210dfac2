// Byte-level BPE (RoBERTa): the byte alphabet, the GPT-2 split, the merge loops, offsets and trimming, the
// ByteLevel decoder, loading (tokenizer.json, vocab.json + merges.txt, directories) and the errors for bad files.
// Expected values marked "HF" were printed by transformers 5 / tokenizers 0.23 on tests/data/tokenizer/roberta;
// corpus-wide parity is in tokenizer_parity_test.cpp (configs roberta_*).
#include <bertcpp/error.hpp>
#include <bertcpp/tokenizer.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_util.hpp"
#include "tokenizer/bpe/bpe.hpp"
#include "tokenizer/bpe/byte_level.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using tokenizer::Bpe;
using tokenizer::BpeMerge;
using tokenizer::BpePiece;

fs::path roberta_dir() { return testing::data_dir() / "tokenizer" / "roberta"; }

const Tokenizer& roberta() {
  static const Tokenizer tok = Tokenizer::from_tokenizer_json(roberta_dir() / "tokenizer.json");
  return tok;
}

std::vector<Offset> offsets(std::initializer_list<std::pair<std::size_t, std::size_t>> list) {
  std::vector<Offset> out;
  for (auto [b, e] : list) out.push_back({b, e});
  return out;
}

// ---- byte alphabet ---------------------------------------------------------------------------------------------
TEST(TokenizerBpeByteLevel, AlphabetIsABijectionOfPrintableCodePoints) {
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = tokenizer::byte_level::byte_to_char(static_cast<unsigned char>(b));
    EXPECT_TRUE(seen.insert(c).second) << "byte " << b;
    EXPECT_EQ(tokenizer::byte_level::char_to_byte(c), b);
  }
  EXPECT_EQ(tokenizer::byte_level::byte_to_char(' '), U'\u0120');   // 'Ġ'
  EXPECT_EQ(tokenizer::byte_level::byte_to_char('\n'), U'\u010A');  // 'Ċ'
  EXPECT_EQ(tokenizer::byte_level::byte_to_char(0), U'\u0100');
  EXPECT_EQ(tokenizer::byte_level::byte_to_char('a'), U'a');
  EXPECT_EQ(tokenizer::byte_level::byte_to_char(0xAD), U'\u0143');  // soft hyphen is not printable: last of 68
  EXPECT_EQ(tokenizer::byte_level::byte_to_char(0xE9), U'\u00E9');
  EXPECT_EQ(tokenizer::byte_level::char_to_byte(U'\u0144'), -1);
  EXPECT_EQ(tokenizer::byte_level::char_to_byte(U'\u4E16'), -1);
  EXPECT_EQ(tokenizer::byte_level::byte_to_utf8(' '), "\xC4\xA0");
}

// ---- the GPT-2 split -------------------------------------------------------------------------------------------
std::vector<std::string> split(const std::string& text) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;
  tokenizer::byte_level::split(text, 0, text.size(), ranges);
  std::vector<std::string> out;
  std::size_t expected_begin = 0;
  for (auto [b, e] : ranges) {
    EXPECT_EQ(b, expected_begin) << "gap or overlap in the split of '" << text << "'";
    EXPECT_LT(b, e);
    out.push_back(text.substr(b, e - b));
    expected_begin = e;
  }
  EXPECT_EQ(expected_begin, text.size());
  return out;
}

using Words = std::vector<std::string>;

TEST(TokenizerBpeByteLevel, SplitMatchesTheGpt2PatternAsOnigurumaRunsIt) {
  // HF: tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str
  EXPECT_EQ(split("Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split("don't I'LL 's"), (Words{"don", "'t", " I", "'", "LL", " '", "s"}));
  EXPECT_EQ(split("we're they've I'm you'll he'd"),
            (Words{"we", "'re", " they", "'ve", " I", "'m", " you", "'ll", " he", "'d"}));
  EXPECT_EQ(split(" \n  x"), (Words{" \n ", " x"}));  // whitespace gives its last space up to the word
  EXPECT_EQ(split("x  "), (Words{"x", "  "}));        // at the end it keeps it
  EXPECT_EQ(split("  "), (Words{"  "}));
  EXPECT_EQ(split("ab\t\tc"), (Words{"ab", "\t", "\t", "c"}));  // a single non-space before a word stands alone
  EXPECT_EQ(split("a\xE3\x80\x80" "b"), (Words{"a", "\xE3\x80\x80", "b"}));             // U+3000 is \s
  EXPECT_EQ(split("a\xC2\xA0 b"), (Words{"a", "\xC2\xA0", " b"}));                      // NBSP is \s
  EXPECT_EQ(split("a\xE2\x80\xA8\xE2\x80\xA8" "b"), (Words{"a", "\xE2\x80\xA8", "\xE2\x80\xA8", "b"}));
  EXPECT_EQ(split("x\xE1\xA0\x8Ey"), (Words{"x", "\xE1\xA0\x8E", "y"}));  // U+180E is not \s any more
  EXPECT_EQ(split("x\xE2\x80\x8By"), (Words{"x", "\xE2\x80\x8B", "y"}));  // nor is U+200B
  EXPECT_EQ(split("\xE2\x85\xAB\xC2\xB2\xC2\xBD \xD9\xA3"), (Words{"\xE2\x85\xAB\xC2\xB2\xC2\xBD", " \xD9\xA3"}));  // Nl No No, Nd
  EXPECT_EQ(split("a\xCC\x81" "b"), (Words{"a", "\xCC\x81", "b"}));  // a combining mark is neither L nor N
  EXPECT_EQ(split("\xF0\x9F\x98\x80 ok"), (Words{"\xF0\x9F\x98\x80", " ok"}));
  EXPECT_EQ(split("\xF0\x9D\x94\x98x"), (Words{"\xF0\x9D\x94\x98x"}));  // U+1D518 is a letter outside the BMP
  EXPECT_EQ(split("abc123!!? x"), (Words{"abc", "123", "!!?", " x"}));
  EXPECT_EQ(split("'"), (Words{"'"}));
  EXPECT_EQ(split("'sx"), (Words{"'s", "x"}));  // the contraction wins over the longer letters run
}

// ---- merges ----------------------------------------------------------------------------------------------------
// A small model over the byte alphabet of "a".."d": ids 0..3 are the letters, merges as listed.
struct TinyModel {
  std::vector<std::string> vocab{"a", "b", "c", "d"};
  std::vector<BpeMerge> merges;
  std::int32_t id(const std::string& t) {
    auto it = std::find(vocab.begin(), vocab.end(), t);
    if (it != vocab.end()) return static_cast<std::int32_t>(it - vocab.begin());
    vocab.push_back(t);
    return static_cast<std::int32_t>(vocab.size() - 1);
  }
  void merge(const std::string& l, const std::string& r) { merges.push_back({id(l), id(r), id(l + r)}); }
  Bpe build() { return Bpe(vocab, merges, {}); }
};

std::vector<std::string> pieces_of(const Bpe& bpe, const std::string& word) {
  std::vector<BpePiece> pieces;
  bpe.tokenize(word, pieces);
  std::vector<std::string> out;
  std::uint32_t at = 0;
  for (const BpePiece& p : pieces) {
    EXPECT_EQ(p.begin, at);
    EXPECT_EQ(bpe.id_to_token(p.id), word.substr(p.begin, p.end - p.begin));
    out.push_back(bpe.id_to_token(p.id));
    at = p.end;
  }
  return out;
}

TEST(TokenizerBpeModel, MergesByRankThenLeftmost) {
  TinyModel m;
  m.merge("b", "c");   // rank 0
  m.merge("a", "b");   // rank 1: loses to bc in "abc"
  m.merge("a", "a");   // rank 2
  m.merge("aa", "a");  // rank 3
  m.merge("a", "bc");  // rank 4
  const Bpe bpe = m.build();
  EXPECT_EQ(pieces_of(bpe, "abc"), (Words{"abc"}));         // bc first, then a+bc
  EXPECT_EQ(pieces_of(bpe, "abd"), (Words{"ab", "d"}));
  EXPECT_EQ(pieces_of(bpe, "aaa"), (Words{"aaa"}));         // leftmost aa, then aa+a
  EXPECT_EQ(pieces_of(bpe, "aaaa"), (Words{"aa", "aa"}));   // aa aa: "aa"+"a" never forms
  EXPECT_EQ(pieces_of(bpe, "aaaaa"), (Words{"aa", "aaa"})); // aa aa a -> the only aa+a pair is the last one
  EXPECT_EQ(pieces_of(bpe, "dcba"), (Words{"d", "c", "b", "a"}));
}

TEST(TokenizerBpeModel, ARepeatedMergeKeepsItsLaterRank) {
  TinyModel m;
  m.merge("a", "b");  // rank 0, listed again at rank 2
  m.merge("b", "c");  // rank 1
  m.merge("a", "b");
  EXPECT_EQ(pieces_of(m.build(), "abc"), (Words{"a", "bc"}));
}

TEST(TokenizerBpeModel, BytesMissingFromTheVocabularyAreDroppedOrUnk) {
  TinyModel m;
  m.merge("a", "b");
  std::vector<std::string> vocab = m.vocab;
  vocab.push_back("<unk>");
  const auto unk = static_cast<std::int32_t>(vocab.size() - 1);
  std::vector<BpePiece> pieces;
  Bpe(vocab, m.merges, {}).tokenize("axxc", pieces);  // no unk: dropped, and the ranges shift (as tokenizers)
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[1].begin, 1u);
  pieces.clear();
  Bpe(vocab, m.merges, {}).tokenize("axxb", pieces);  // ... and the neighbours of a dropped byte can merge
  ASSERT_EQ(pieces.size(), 1u);
  tokenizer::BpeModelOptions with_unk;
  with_unk.unk_id = unk;
  pieces.clear();
  Bpe(vocab, m.merges, with_unk).tokenize("axxb", pieces);
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[1].id, unk);
  EXPECT_EQ(pieces[3].begin, 3u);
  with_unk.fuse_unk = true;
  pieces.clear();
  Bpe(vocab, m.merges, with_unk).tokenize("axxb", pieces);
  ASSERT_EQ(pieces.size(), 3u);
  EXPECT_EQ(pieces[1].id, unk);
  EXPECT_EQ(pieces[1].end, 3u);
}

// The scan (short words) and the heap (long words) must agree on every word: random merge tables over a
// 3-letter alphabet make many equal-rank ties and stale heap entries.
TEST(TokenizerBpeModel, ScanAndHeapMergeLoopsAgree) {
  std::mt19937 rng(1234);
  for (int table = 0; table < 20; ++table) {
    TinyModel m;
    m.vocab = {"a", "b", "c"};
    for (int i = 0; i < 40; ++i) {
      const std::string l = m.vocab[rng() % m.vocab.size()], r = m.vocab[rng() % m.vocab.size()];
      if (l.size() + r.size() <= 6) m.merge(l, r);
    }
    const Bpe bpe = m.build();
    for (int w = 0; w < 200; ++w) {
      std::string word(1 + rng() % 60, 'a');
      for (char& c : word) c = static_cast<char>('a' + rng() % 3);
      std::vector<BpePiece> scan, heap;
      for (std::size_t i = 0; i < word.size(); ++i) {
        const auto id = static_cast<std::int32_t>(word[i] - 'a');
        scan.push_back({id, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(i + 1)});
      }
      heap = scan;
      bpe.merge_scan(scan);
      bpe.merge_heap(heap);
      ASSERT_EQ(scan.size(), heap.size()) << word;
      for (std::size_t i = 0; i < scan.size(); ++i) {
        EXPECT_EQ(scan[i].id, heap[i].id) << word << " piece " << i;
        EXPECT_EQ(scan[i].begin, heap[i].begin) << word;
      }
    }
  }
}

// ---- encoding: ids, offsets, trimming (HF values) --------------------------------------------------------------
TEST(TokenizerBpeEncode, RobertaSingleAndPair) {
  const Encoding e = roberta().encode("Hello world");
  EXPECT_EQ(e.input_ids, (std::vector<std::int32_t>{0, 44, 855, 83, 357, 312, 1097, 2}));
  EXPECT_EQ(e.tokens, (Words{"<s>", "H", "ell", "o", "\xC4\xA0w", "or", "ld", "</s>"}));
  EXPECT_EQ(e.char_offsets, offsets({{0, 0}, {0, 1}, {1, 4}, {4, 5}, {6, 7}, {7, 9}, {9, 11}, {0, 0}}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<std::int32_t>{1, 0, 0, 0, 0, 0, 0, 1}));

  const Encoding p = roberta().encode("Hello world", "Second  text");
  EXPECT_EQ(p.tokens, (Words{"<s>", "H", "ell", "o", "\xC4\xA0w", "or", "ld", "</s>", "</s>", "S", "ec", "on", "d",
                             "\xC4\xA0", "\xC4\xA0te", "xt", "</s>"}));
  EXPECT_EQ(p.token_type_ids, std::vector<std::int32_t>(p.size(), 0));  // RoBERTa: one segment id
  EXPECT_EQ(p.word_ids, (std::vector<std::int64_t>{-1, 0, 0, 0, 1, 1, 1, -1, -1, 0, 0, 0, 0, 1, 2, 2, -1}));
  EXPECT_EQ(p.sequence_ids[10], 1);
  EXPECT_EQ(p.char_offsets[13], (Offset{7, 7}));  // the lone space token, trimmed to nothing after it
  EXPECT_EQ(p.char_offsets[14], (Offset{8, 10}));
}

TEST(TokenizerBpeEncode, TokensInsideCharactersReportTheWholeCharacter) {
  // HF: 'naïve café 😀' -> na Ã ¯ ve Ġc a f Ã© Ġ ðŁ ĺ Ģ
  const std::string text = "na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80";
  const Encoding e = roberta().encode(text);
  EXPECT_EQ(e.input_ids, (std::vector<std::int32_t>{0, 752, 132, 112, 1102, 335, 69, 74, 309, 225, 297, 251, 227, 2}));
  EXPECT_EQ(e.char_offsets, offsets({{0, 0}, {0, 2}, {2, 3}, {2, 3}, {3, 5}, {6, 7}, {7, 8}, {8, 9}, {9, 10},
                                     {11, 11}, {11, 12}, {11, 12}, {11, 12}, {0, 0}}));
  EXPECT_EQ(e.byte_offsets[2], (Offset{2, 4}));
  EXPECT_EQ(e.byte_offsets[10], (Offset{13, 17}));
  EXPECT_EQ(e.byte_offsets[9], (Offset{13, 13}));  // "Ġ" trimmed: the byte offsets follow the char offsets
}

TEST(TokenizerBpeEncode, TrailingSpacesAndContractions) {
  // HF: "don't stop  " -> d on ' t Ġst op ĠĠ(12,12)
  const Encoding e = roberta().encode("don't stop  ");
  EXPECT_EQ(e.input_ids, (std::vector<std::int32_t>{0, 72, 285, 11, 88, 763, 531, 276, 2}));
  EXPECT_EQ(e.char_offsets, offsets({{0, 0}, {0, 1}, {1, 3}, {3, 4}, {4, 5}, {6, 8}, {8, 10}, {12, 12}, {0, 0}}));
}

TEST(TokenizerBpeEncode, AddPrefixSpaceGivesEveryStretchItsOwnSpace) {
  Tokenizer::BpeOptions o;
  o.add_prefix_space = true;
  const Tokenizer tok = Tokenizer::from_bpe_files(roberta_dir() / "vocab.json", roberta_dir() / "merges.txt", o);
  // HF (add_prefix_space=True): 'a<mask>b <mask>  c\n\nd'
  const Encoding e = tok.encode("a<mask>b <mask>  c\n\nd");
  EXPECT_EQ(e.tokens, (Words{"<s>", "\xC4\xA0" "a", "<mask>", "\xC4\xA0" "b", "\xC4\xA0", "<mask>", "\xC4\xA0",
                             "\xC4\xA0" "c", "\xC4\x8A", "\xC4\x8A", "d", "</s>"}));
  EXPECT_EQ(e.char_offsets, offsets({{0, 0}, {0, 1}, {1, 7}, {8, 8}, {9, 9}, {9, 15}, {16, 16}, {17, 18}, {18, 19},
                                     {19, 20}, {20, 21}, {0, 0}}));
  // HF: the added space stands for the first character (here two bytes), then is trimmed away.
  const Encoding u = tok.encode("a<mask>\xC3\xA9");
  EXPECT_EQ(u.char_offsets, offsets({{0, 0}, {0, 1}, {1, 7}, {8, 8}, {7, 8}, {0, 0}}));
  EXPECT_EQ(u.byte_offsets[3], (Offset{9, 9}));
  const Encoding first = tok.encode("\xC3\xA9");  // first token: its one added space is kept, then trailing-trimmed
  EXPECT_EQ(first.char_offsets, offsets({{0, 0}, {0, 0}, {0, 1}, {0, 0}}));
}

TEST(TokenizerBpeEncode, StrideWindowsAreTrimmedOnTheirOwn) {
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 4;
  o.stride = 1;
  o.return_overflowing_tokens = true;
  const Encoding e = roberta().encode("Hello world", o);
  ASSERT_EQ(e.overflowing.size(), 4u);
  EXPECT_EQ(e.overflowing[1].input_ids, (std::vector<std::int32_t>{0, 83, 357, 2}));
  EXPECT_EQ(e.overflowing[1].char_offsets, offsets({{0, 0}, {4, 5}, {6, 7}, {0, 0}}));
  EXPECT_EQ(e.overflowing[2].char_offsets, offsets({{0, 0}, {6, 7}, {7, 9}, {0, 0}}));
}

TEST(TokenizerBpeEncode, ConcurrentEncodesAgree) {
  const std::vector<std::string> texts = {"Hello world", "na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80",
                                          std::string(300, 'a') + " " + std::string(100, '!'), "don't stop  "};
  std::vector<Encoding> expected;
  for (const auto& t : texts) expected.push_back(roberta().encode(t));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round)
        for (std::size_t i = 0; i < texts.size(); ++i)
          mismatches[t] += roberta().encode(texts[i]).input_ids != expected[i].input_ids;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

// ---- decoding ----------------------------------------------------------------------------------------------------
TEST(TokenizerBpeDecode, RoundTripsTextAndReplacesBrokenUtf8) {
  for (const std::string text : {"Hello world", "na\xC3\xAFve caf\xC3\xA9 \xF0\x9F\x98\x80", " two  spaces\n\ttab",
                                 "\xE4\xB8\x96\xE7\x95\x8C <mask> x"}) {
    const Encoding e = roberta().encode(text);
    EXPECT_EQ(roberta().decode(e.input_ids, false), "<s>" + text + "</s>");
  }
  const std::vector<std::int32_t> ids{0, 230, 231, 232, 5, 2};
  EXPECT_EQ(roberta().decode(ids, false), "<s>\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!</s>");  // HF
  EXPECT_EQ(roberta().decode(ids, true), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!");
  const std::vector<std::string> tokens{"\xC4\xA0new", "\xC4\xA0york", "\xC3\x83"};
  EXPECT_EQ(roberta().convert_tokens_to_string(tokens), " new york\xEF\xBF\xBD");  // HF
  // A token outside the byte alphabet is kept as its UTF-8.
  EXPECT_EQ(roberta().convert_tokens_to_string(std::vector<std::string>{"a b", "\xE4\xB8\x96"}), "a b\xE4\xB8\x96");
}

TEST(TokenizerBpeDecode, LossyUtf8ReplacesMaximalSubparts) {
  using tokenizer::byte_level::utf8_lossy;
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8_lossy("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(utf8_lossy("\xE4\xB8"), r);                // truncated 3-byte sequence: one replacement
  EXPECT_EQ(utf8_lossy("\xE4\xB8x"), r + "x");
  EXPECT_EQ(utf8_lossy("\xC0\x80"), r + r);            // overlong lead byte: each byte
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), r + r + r);    // surrogate
  EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), r);
  EXPECT_EQ(utf8_lossy("\xF5\x80"), r + r);
  EXPECT_EQ(utf8_lossy("\x80" "a"), r + "a");
}

// ---- loading -----------------------------------------------------------------------------------------------------
TEST(TokenizerBpeLoad, TokenizerJsonFilesAndDirectoryAgree) {
  const Tokenizer dir = Tokenizer::load(roberta_dir());
  const Tokenizer files = Tokenizer::from_bpe_files(roberta_dir() / "vocab.json", roberta_dir() / "merges.txt", {});
  testing::TempDir only_files;
  testing::write_file(only_files.path() / "vocab.json", testing::read_file(roberta_dir() / "vocab.json"));
  testing::write_file(only_files.path() / "merges.txt", testing::read_file(roberta_dir() / "merges.txt"));
  const Tokenizer plain = Tokenizer::load(only_files.path());
  for (const std::string text : {"Hello <mask> world", "na\xC3\xAFve caf\xC3\xA9", "<s>x</s> <pad><unk>"}) {
    const Encoding a = roberta().encode(text, "pair");
    for (const Tokenizer* other : {&dir, &files, &plain}) {
      const Encoding b = other->encode(text, "pair");
      EXPECT_EQ(a.input_ids, b.input_ids) << text;
      EXPECT_EQ(a.char_offsets, b.char_offsets) << text;
      EXPECT_EQ(a.special_tokens_mask, b.special_tokens_mask) << text;
    }
  }
  for (const Tokenizer* t : {&roberta(), &dir, &files, &plain}) {
    EXPECT_EQ(t->cls_token_id(), 0);
    EXPECT_EQ(t->pad_token_id(), 1);
    EXPECT_EQ(t->sep_token_id(), 2);
    EXPECT_EQ(t->unk_token_id(), 3);
    EXPECT_EQ(t->mask_token_id(), 4);
    EXPECT_EQ(t->vocab_size(), 2000u);
  }
  EXPECT_EQ(dir.model_max_length(), 512u);  // tokenizer_config.json says 1e30, i.e. no limit: the default stays
}

TEST(TokenizerBpeLoad, DirectoryConfigOverridesPrefixSpaceAndMaskLstrip) {
  testing::TempDir d;
  testing::write_file(d.path() / "tokenizer.json", testing::read_file(roberta_dir() / "tokenizer.json"));
  testing::write_file(d.path() / "tokenizer_config.json", R"({"add_prefix_space": true, "model_max_length": 514})");
  const Tokenizer prefixed = Tokenizer::load(d.path());
  EXPECT_EQ(prefixed.model_max_length(), 514u);
  EXPECT_EQ(prefixed.encode("Hello").tokens[1], "\xC4\xA0H");
  EXPECT_EQ(prefixed.encode("Hello").char_offsets[1], (Offset{0, 1}));  // its own space is not trimmed

  testing::TempDir f;
  testing::write_file(f.path() / "vocab.json", testing::read_file(roberta_dir() / "vocab.json"));
  testing::write_file(f.path() / "merges.txt", testing::read_file(roberta_dir() / "merges.txt"));
  testing::write_file(f.path() / "special_tokens_map.json",
                      R"({"mask_token": {"content": "<mask>", "lstrip": true, "rstrip": false}})");
  const Encoding e = Tokenizer::load(f.path()).encode("a <mask>");
  // The space went into <mask>, token string included; trim_offsets takes it off the offsets again (transformers
  // 5.24's RobertaTokenizer on this directory: tokens <s>, a, " <mask>", </s>; offsets (0,0) (0,1) (2,8) (0,0)).
  EXPECT_EQ(e.tokens, (Words{"<s>", "a", " <mask>", "</s>"}));
  EXPECT_EQ(e.char_offsets[2], (Offset{2, 8}));
}

template <class E>
void expect_error(const std::function<void()>& load, const std::vector<std::string>& fragments) {
  try {
    load();
    FAIL() << "expected an error";
  } catch (const E& e) {
    for (const auto& f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(TokenizerBpeLoad, BadMergesAndVocabFilesNameFileAndField) {
  testing::TempDir d;
  const fs::path vocab = d.path() / "vocab.json", merges = d.path() / "merges.txt";
  const std::string good_vocab = testing::read_file(roberta_dir() / "vocab.json");
  const auto load = [&] { Tokenizer::from_bpe_files(vocab, merges, {}); };

  const std::string real = testing::read_file(roberta_dir() / "merges.txt");
  const std::string first = real.substr(0, real.find('\n', real.find('\n') + 1) + 1);  // "#version" + merge 1
  testing::write_file(vocab, good_vocab);
  testing::write_file(merges, first + "abc\n");
  expect_error<FormatError>(load, {merges.string(), "line 3", "two tokens", "'abc'"});
  testing::write_file(merges, first + "\n");
  expect_error<FormatError>(load, {"line 3"});
  testing::write_file(merges, first + "H \xE2\x82\xAC\xE2\x82\xAC\n");
  expect_error<FormatError>(load, {merges.string(), "merge 2", "uses", "not in vocab.json"});
  testing::write_file(merges, first + "x x\n");  // both known, "xx" is not
  expect_error<FormatError>(load, {"merge 2", "makes 'xx'"});

  testing::write_file(merges, "#version: 0.2\n");
  testing::write_file(vocab, "[\"a\", \"b\"]");
  expect_error<FormatError>(load, {vocab.string(), "must be an object token -> id", "array"});
  testing::write_file(vocab, R"({"a": 0, "b": 0})");
  expect_error<FormatError>(load, {"[\"b\"]", "repeats id 0"});
  testing::write_file(vocab, R"({"a": 0, "b": "1"})");
  expect_error<FormatError>(load, {"[\"b\"]", "must be an integer"});
  testing::write_file(vocab, R"({"a": 0, "b": 1})");
  expect_error<ConfigError>(load, {"cls_token '<s>'", "must be in the vocabulary"});
  testing::write_file(vocab, "{\"a\": 0,");
  expect_error<FormatError>(load, {vocab.string(), "invalid JSON"});
  testing::write_file(vocab, good_vocab);
  fs::remove(merges);
  expect_error<IoError>(load, {merges.string()});
}

TEST(TokenizerBpeLoad, BadTokenizerJsonNamesTheField) {
  const json good = json::parse(testing::read_file(roberta_dir() / "tokenizer.json"));
  testing::TempDir d;
  const fs::path file = d.path() / "tokenizer.json";
  const auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    testing::write_file(file, j.dump());
    return [file] { Tokenizer::from_tokenizer_json(file); };
  };
  expect_error<FormatError>(with([](json& j) { j["model"]["merges"][3] = "abc"; }), {"model.merges[3]", "'abc'"});
  expect_error<FormatError>(with([](json& j) { j["model"]["merges"][3] = json::array({"H", "\xE2\x82\xAC\xE2\x82\xAC"}); }),
                            {"model.merges[3]", "not in model.vocab"});
  expect_error<FormatError>(with([](json& j) { j["model"]["merges"] = "x"; }), {"model.merges", "must be an array"});
  expect_error<FormatError>(with([](json& j) { j["model"]["vocab"] = json::array(); }), {"model.vocab", "must be an object"});
  expect_error<FormatError>(with([](json& j) { j["pre_tokenizer"]["add_prefix_space"] = "yes"; }),
                            {"pre_tokenizer.add_prefix_space", "boolean"});
  expect_error<UnsupportedError>(with([](json& j) { j["pre_tokenizer"] = {{"type", "Metaspace"}}; }),
                                 {"pre_tokenizer.type", "Metaspace"});
  expect_error<UnsupportedError>(with([](json& j) { j["model"]["byte_fallback"] = true; }), {"model.byte_fallback"});
  expect_error<UnsupportedError>(with([](json& j) { j["model"]["dropout"] = 0.1; }), {"model.dropout"});
  expect_error<UnsupportedError>(with([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }),
                                 {"model.continuing_subword_prefix", "'##'"});
  expect_error<UnsupportedError>(with([](json& j) { j["normalizer"] = {{"type", "NFC"}}; }), {"normalizer.type", "NFC"});
  expect_error<UnsupportedError>(with([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }), {"decoder.type"});
  expect_error<ConfigError>(with([](json& j) { j["model"]["unk_token"] = "<nope>"; }), {"model.unk_token", "<nope>"});
  expect_error<FormatError>(with([](json& j) { j["post_processor"]["cls"] = "<s>"; }), {"post_processor.cls"});
  expect_error<UnsupportedError>(with([](json& j) { j["model"]["type"] = "WordLevel"; }), {"model.type", "WordLevel"});
}

TEST(TokenizerBpeLoad, SequenceOfByteLevelAndTemplateProcessing) {
  json j = json::parse(testing::read_file(roberta_dir() / "tokenizer.json"));
  j["post_processor"] = json::parse(R"({"type": "Sequence", "processors": [
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
      {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
       "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
       "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]}}}]})");
  testing::TempDir d;
  testing::write_file(d.path() / "t.json", j.dump());
  const Tokenizer tok = Tokenizer::from_tokenizer_json(d.path() / "t.json");
  const Encoding e = tok.encode("Hello world");
  EXPECT_EQ(e.input_ids, (std::vector<std::int32_t>{0, 44, 855, 83, 357, 312, 1097}));
  EXPECT_EQ(e.char_offsets[4], (Offset{6, 7}));  // trimmed by the ByteLevel processor
  const Encoding p = tok.encode("a", "b");
  EXPECT_EQ(p.token_type_ids, (std::vector<std::int32_t>{0, 1}));
}

}  // namespace
}  // namespace bertcpp
