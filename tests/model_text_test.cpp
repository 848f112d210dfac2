// BertModel with the tokenizer of its directory: text in, same numbers as ids in.
#include <gtest/gtest.h>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

TEST(ModelText, DefaultModelFindsItsTokenizerAndTextMatchesIds) {
  const auto model = BertModel::load(testing::default_model_dir());
  ASSERT_TRUE(model.has_tokenizer());
  const std::vector<std::string> texts = {"Hello, world!", "bertcpp runs BERT from C++."};
  const auto from_text = model.forward(texts);
  Batch ids;
  for (const auto& t : texts) ids.add(model.tokenizer().encode(t).input_ids);
  const auto from_ids = model.forward(ids);
  EXPECT_EQ(from_text.lengths, from_ids.lengths);
  EXPECT_EQ(from_text.last_hidden_state.data, from_ids.last_hidden_state.data);
  EXPECT_EQ(from_text.lengths[0], 6);  // [CLS] hello , world ! [SEP]
}

TEST(ModelText, LongTextIsTruncatedToMaxPositions) {
  const auto model = BertModel::load(testing::default_model_dir());
  std::string text;
  for (int i = 0; i < 700; ++i) text += "word ";
  const auto out = model.forward(std::vector<std::string>{text});
  EXPECT_EQ(out.lengths[0], 512);
}

TEST(ModelText, WithoutTokenizerTextIsATypedError) {
  const auto model = BertModel::load(testing::data_dir() / "encoder/bert_h48_gelu_f32");
  EXPECT_FALSE(model.has_tokenizer());
  EXPECT_THROW(model.forward(std::vector<std::string>{"hi"}), InvalidArgumentError);
  LoadOptions without_tokenizer;
  without_tokenizer.tokenizer = false;
  const auto no_tok = BertModel::load(testing::default_model_dir(), without_tokenizer);
  EXPECT_FALSE(no_tok.has_tokenizer());
}

}  // namespace
}  // namespace bertcpp
