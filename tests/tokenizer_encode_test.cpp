// Tokenizer::encode / encode_batch / decode on the committed BERT uncased tokenizer.json
// (tests/data/tokenizer/). Expected ids and offsets were checked against Python tokenizers 0.23.
#include <bertcpp/error.hpp>
#include <bertcpp/tokenizer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.hpp"

namespace bertcpp {
namespace {

using Ids = std::vector<std::int32_t>;
using Offsets = std::vector<Offset>;

const Tokenizer& bert() {
  static const Tokenizer tok = Tokenizer::from_tokenizer_json(testing::data_dir() / "tokenizer" / "tokenizer.json");
  return tok;
}

TEST(TokenizerEncode, SingleSequenceAllFields) {
  const Encoding e = bert().encode("Hello, world!");
  EXPECT_EQ(e.input_ids, (Ids{101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  EXPECT_EQ(e.char_offsets, (Offsets{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}}));
  EXPECT_EQ(e.byte_offsets, e.char_offsets);
  EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (Ids{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(e.special_tokens_mask, (Ids{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(e.word_ids, (std::vector<std::int64_t>{-1, 0, 1, 2, 3, -1}));
  EXPECT_EQ(e.sequence_ids, (Ids{-1, 0, 0, 0, 0, -1}));
  EXPECT_TRUE(e.overflowing.empty());
}

TEST(TokenizerEncode, ByteAndCodePointOffsetsDifferForNonAscii) {
  const Encoding e = bert().encode("h\xC3\xA9llo w\xC3\xB6rld");  // héllo wörld
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hello", "world", "[SEP]"}));
  EXPECT_EQ(e.byte_offsets, (Offsets{{0, 0}, {0, 6}, {7, 13}, {0, 0}}));
  EXPECT_EQ(e.char_offsets, (Offsets{{0, 0}, {0, 5}, {6, 11}, {0, 0}}));
}

TEST(TokenizerEncode, SubwordsChineseAndSpecialTokensInText) {
  EXPECT_EQ(bert().encode("unaffable").tokens, (std::vector<std::string>{"[CLS]", "una", "##ffa", "##ble", "[SEP]"}));
  const Encoding cjk = bert().encode("a \xE4\xBD\xA0\xE5\xA5\xBD b");  // a 你好 b
  EXPECT_EQ(cjk.char_offsets, (Offsets{{0, 0}, {0, 1}, {2, 3}, {3, 4}, {5, 6}, {0, 0}}));
  EXPECT_EQ(cjk.word_ids, (std::vector<std::int64_t>{-1, 0, 1, 2, 3, -1}));
  const Encoding mask = bert().encode("hello[MASK]world! [mask]");
  EXPECT_EQ(mask.tokens,
            (std::vector<std::string>{"[CLS]", "hello", "[MASK]", "world", "!", "[", "mask", "]", "[SEP]"}));
  EXPECT_EQ(mask.input_ids[2], 103);
  EXPECT_EQ(mask.char_offsets[2], (Offset{5, 11}));
  EXPECT_EQ(mask.special_tokens_mask[2], 0);  // only the template's tokens count as special here
}

TEST(TokenizerEncode, EmptyWhitespaceAndControlOnlyInputs) {
  for (const std::string& text : {std::string(), std::string("   \t\n "), std::string("\x01\x02\x7F"),
                                 std::string("\xE2\x80\x8B\xEF\xBB\xBF")}) {
    const Encoding e = bert().encode(text);
    EXPECT_EQ(e.input_ids, (Ids{101, 102})) << "text of " << text.size() << " bytes";
    EXPECT_EQ(e.word_ids, (std::vector<std::int64_t>{-1, -1}));
  }
}

TEST(TokenizerEncode, InvalidUtf8NamesTheByteOffset) {
  try {
    bert().encode("abc\xFF" "def");
    FAIL() << "expected Utf8Error";
  } catch (const Utf8Error& e) {
    EXPECT_EQ(e.byte_offset(), 3u);
    EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte 3"), std::string::npos) << e.what();
  }
  try {
    bert().encode("fine", "ok \xC3");
    FAIL() << "expected Utf8Error";
  } catch (const Utf8Error& e) {
    EXPECT_NE(std::string(e.what()).find("text_pair: invalid UTF-8 at byte 3"), std::string::npos) << e.what();
  }
}

TEST(TokenizerEncode, PairHasTypeAndSequenceIds) {
  const Encoding e = bert().encode("one two", "three");
  EXPECT_EQ(e.input_ids, (Ids{101, 2028, 2048, 102, 2093, 102}));
  EXPECT_EQ(e.token_type_ids, (Ids{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(e.sequence_ids, (Ids{-1, 0, 0, -1, 1, -1}));
  EXPECT_EQ(e.char_offsets, (Offsets{{0, 0}, {0, 3}, {4, 7}, {0, 0}, {0, 5}, {0, 0}}));
  EncodeOptions no_special;
  no_special.add_special_tokens = false;
  EXPECT_EQ(bert().encode("one two", "three", no_special).input_ids, (Ids{2028, 2048, 2093}));
}

const std::string kTen = "one two three four five six seven eight nine ten";

TEST(TokenizerEncode, LongestFirstWithStrideMakesOverlappingWindows) {
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 8;
  o.stride = 2;
  const Encoding e = bert().encode(kTen, o);
  EXPECT_EQ(e.input_ids, (Ids{101, 2028, 2048, 2093, 2176, 2274, 2416, 102}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  const Encoding& w = e.overflowing[0];
  // Windows of 6 tokens start every 6 - 2 = 4 tokens: "five six" are shared.
  EXPECT_EQ(w.input_ids, (Ids{101, 2274, 2416, 2698, 2809, 3157, 2702, 102}));
  EXPECT_EQ(w.char_offsets[1], (Offset{19, 23}));
  EXPECT_EQ(w.word_ids[1], 4);
}

TEST(TokenizerEncode, PairOverflowCombinesWindowsLikeTokenizers) {
  EncodeOptions o;
  o.truncation = Truncation::longest_first;
  o.max_length = 9;
  o.stride = 1;
  const Encoding e = bert().encode("one two three four five", "six seven eight nine ten eleven", o);
  EXPECT_EQ(e.input_ids, (Ids{101, 2028, 2048, 2093, 102, 2416, 2698, 2809, 102}));
  // A windows: [one two three] [three four five]; B windows: [six seven eight] [eight nine ten] [ten eleven].
  // Top level: (A1,B0) with nested (A1,B1) (A1,B2), then (A1,B1), (A1,B2), (A0,B1) with nested (A1,B1), ...
  ASSERT_EQ(e.overflowing.size(), 5u);
  EXPECT_EQ(e.overflowing[0].input_ids, (Ids{101, 2093, 2176, 2274, 102, 2416, 2698, 2809, 102}));
  EXPECT_EQ(e.overflowing[0].overflowing.size(), 2u);
  EXPECT_EQ(e.overflowing[2].input_ids, (Ids{101, 2093, 2176, 2274, 102, 2702, 5408, 102}));
  EXPECT_EQ(e.overflowing[4].input_ids, (Ids{101, 2028, 2048, 2093, 102, 2702, 5408, 102}));
  EXPECT_EQ(e.overflowing[4].token_type_ids, (Ids{0, 0, 0, 0, 0, 1, 1, 1}));
}

TEST(TokenizerEncode, OnlyFirstAndOnlySecond) {
  EncodeOptions o;
  o.max_length = 8;
  o.truncation = Truncation::only_second;
  o.return_overflowing_tokens = true;
  const Encoding second = bert().encode("one two", "six seven eight nine ten eleven", o);
  EXPECT_EQ(second.input_ids, (Ids{101, 2028, 2048, 102, 2416, 2698, 2809, 102}));
  ASSERT_EQ(second.overflowing.size(), 1u);
  EXPECT_EQ(second.overflowing[0].input_ids, (Ids{101, 2028, 2048, 102, 3157, 2702, 5408, 102}));
  o.truncation = Truncation::only_first;
  const Encoding first = bert().encode("one two three four five six", "six seven", o);
  EXPECT_EQ(first.input_ids, (Ids{101, 2028, 2048, 2093, 102, 2416, 2698, 102}));
  o.return_overflowing_tokens = false;
  EXPECT_TRUE(bert().encode("one two three four five six", "six seven", o).overflowing.empty());
}

TEST(TokenizerEncode, TruncationRefusalsAreInvalidArguments) {
  EncodeOptions o;
  o.max_length = 8;
  o.truncation = Truncation::only_first;
  EXPECT_THROW(
      {
        try {
          bert().encode("one", "six seven eight nine ten eleven", o);
        } catch (const InvalidArgumentError& e) {
          EXPECT_NE(std::string(e.what()).find("max_length"), std::string::npos) << e.what();
          throw;
        }
      },
      InvalidArgumentError);
  o.truncation = Truncation::only_second;
  EXPECT_THROW(bert().encode(kTen, o), InvalidArgumentError);  // no second sequence
  o.truncation = Truncation::longest_first;
  o.stride = 7;  // effective max length 8 - 2 = 6
  EXPECT_THROW(bert().encode("short", o), InvalidArgumentError);
  o.stride = 0;
  o.max_length = 1;
  EXPECT_THROW(bert().encode("short", o), InvalidArgumentError);
}

TEST(TokenizerEncode, LongTextWithEachTruncationStrategy) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "word" + std::to_string(i % 10) + " ";
  EncodeOptions o;
  EXPECT_GT(bert().encode(text, o).size(), 512u);  // do_not_truncate keeps everything
  o.truncation = Truncation::longest_first;        // max_length 0: model_max_length
  EXPECT_EQ(bert().encode(text, o).size(), bert().model_max_length());
  o.max_length = 16;
  EXPECT_EQ(bert().encode(text, o).size(), 16u);
  o.truncation = Truncation::only_first;
  EXPECT_EQ(bert().encode(text, o).size(), 16u);
  o.truncation = Truncation::only_second;
  const Encoding e = bert().encode("question?", text, o);
  EXPECT_EQ(e.size(), 16u);
  EXPECT_EQ(e.input_ids[1], bert().token_to_id("question"));
}

TEST(TokenizerEncode, PaddingFixedMultipleAndBatchLongest) {
  EncodeOptions o;
  o.padding = Padding::max_length;
  o.max_length = 8;
  const Encoding fixed = bert().encode("hi there", o);
  EXPECT_EQ(fixed.input_ids, (Ids{101, 7632, 2045, 102, 0, 0, 0, 0}));
  EXPECT_EQ(fixed.attention_mask, (Ids{1, 1, 1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(fixed.special_tokens_mask, (Ids{1, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(fixed.tokens.back(), "[PAD]");
  EXPECT_EQ(fixed.word_ids.back(), -1);
  EXPECT_EQ(fixed.sequence_ids.back(), -1);

  EncodeOptions multiple;
  multiple.padding = Padding::longest;
  multiple.pad_to_multiple_of = 8;
  const std::vector<std::string> batch = {"hi", "one two three four five six seven"};
  const auto encs = bert().encode_batch(batch, multiple);
  ASSERT_EQ(encs.size(), 2u);
  EXPECT_EQ(encs[0].size(), 16u);  // longest is 9 tokens, rounded up to 16
  EXPECT_EQ(encs[1].size(), 16u);
  EXPECT_EQ(encs[1].attention_mask[8], 1);
  EXPECT_EQ(encs[1].attention_mask[9], 0);
  EncodeOptions none;
  EXPECT_EQ(bert().encode_batch(batch, none)[0].size(), 3u);
}

TEST(TokenizerEncode, MegabyteWordIsOneUnknownToken) {
  const std::string word(1 << 20, 'x');
  const Encoding e = bert().encode(word);
  EXPECT_EQ(e.input_ids, (Ids{101, 100, 102}));
  EXPECT_EQ(e.char_offsets[1], (Offset{0, word.size()}));
}

TEST(TokenizerEncode, TenMegabyteTextCountsAsTheSumOfItsParts) {
  // Parts end with a space, so joining them cannot merge words across the seams.
  const std::string part =
      "Tokenization of na\xC3\xAFve caf\xC3\xA9s, \xE6\x9D\xB1\xE4\xBA\xAC and \xC4\xB0stanbul: don't stop! ";
  const std::size_t per_part = bert().encode(part).size() - 2;
  ASSERT_EQ(per_part, 16u);  // tokenizers: 18 with [CLS] and [SEP]
  const std::size_t copies = (10u << 20) / part.size() + 1;
  std::string text;
  text.reserve(copies * part.size());
  for (std::size_t i = 0; i < copies; ++i) text += part;
  const Encoding e = bert().encode(text);
  ASSERT_EQ(e.size(), copies * per_part + 2);
  // The last part's tokens point into the last copy, in bytes and in code points.
  const std::size_t last = e.size() - 2;  // "!"
  EXPECT_EQ(e.byte_offsets[last].end, text.size() - 1);
  const std::size_t part_chars = 58;
  EXPECT_EQ(e.char_offsets[last].end, copies * part_chars - 1);
  EXPECT_EQ(e.input_ids[last], e.input_ids[1 + per_part - 1]);
}

TEST(TokenizerDecode, JoinsPiecesSkipsSpecialsAndCleansUp) {
  const Encoding e = bert().encode("Hello , world ! unaffable isn't it?");
  EXPECT_EQ(bert().decode(e.input_ids), "hello, world! unaffable isn ' t it?");
  EXPECT_EQ(bert().decode(e.input_ids, false), "[CLS] hello, world! unaffable isn ' t it? [SEP]");
  const Ids bad = {101, 999999};
  EXPECT_THROW(bert().decode(bad), InvalidArgumentError);
}

TEST(TokenizerDecode, ConvertTokensToStringUsesTheSameDecoder) {
  // tokenizers' decoder.decode(["new", "york", "##er", ",", "[CLS]", "##x"]) == "new yorker, [CLS]x"
  const std::vector<std::string> tokens = {"new", "york", "##er", ",", "[CLS]", "##x"};
  EXPECT_EQ(bert().convert_tokens_to_string(tokens), "new yorker, [CLS]x");
  const std::vector<std::string> leading = {"##a", "b"};  // the first token keeps its prefix
  EXPECT_EQ(bert().convert_tokens_to_string(leading), "##a b");
  EXPECT_EQ(bert().convert_tokens_to_string({}), "");
}

TEST(TokenizerVocabulary, LookupsAndSpecialIds) {
  EXPECT_EQ(bert().vocab_size(), 30522u);
  EXPECT_EQ(bert().token_to_id("hello"), 7592);
  EXPECT_EQ(bert().token_to_id("##ble"), 3468);
  EXPECT_FALSE(bert().token_to_id("definitely-not-a-token").has_value());
  EXPECT_EQ(bert().id_to_token(7592), "hello");
  EXPECT_THROW(bert().id_to_token(30522), InvalidArgumentError);
  EXPECT_THROW(bert().id_to_token(-1), InvalidArgumentError);
  EXPECT_EQ(bert().cls_token_id(), 101);
  EXPECT_EQ(bert().sep_token_id(), 102);
  EXPECT_EQ(bert().pad_token_id(), 0);
  EXPECT_EQ(bert().unk_token_id(), 100);
  EXPECT_EQ(bert().mask_token_id(), 103);
}

}  // namespace
}  // namespace bertcpp
