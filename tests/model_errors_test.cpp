// BertModel::load on broken checkpoints and forward() on invalid inputs: each a typed error whose message
// names the file / tensor / input, never a crash. Built from a copy of a tiny golden fixture.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"
#include "weights/safetensors.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;
using testing::StTensor;

const fs::path kFixture = "encoder/bert_h48_gelu_f32";  // hidden 48, vocab 120, max positions 32, 2 types

// Copies the fixture into a temp dir, passing every tensor through `edit` (which may rename, reshape or drop it
// by returning false) and rewriting model.safetensors.
template <typename Edit>
void copy_fixture(const fs::path& to, Edit edit, const fs::path& fixture = kFixture) {
  const fs::path from = testing::data_dir() / fixture;
  fs::copy_file(from / "config.json", to / "config.json");
  const auto file = weights::SafetensorsFile::open(from / "model.safetensors");
  std::vector<StTensor> tensors;
  for (const auto& [name, view] : file.tensors()) {
    StTensor t{name, view.dtype_name, view.shape,
               std::string(reinterpret_cast<const char*>(view.data), view.nbytes)};
    if (edit(t)) tensors.push_back(std::move(t));
  }
  testing::write_file(to / "model.safetensors", testing::st_file(tensors));
}

template <typename E>
void expect_load_error(const fs::path& dir, const std::string& fragment) {
  try {
    BertModel::load(dir);
    FAIL() << "expected an error containing '" << fragment << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    FAIL() << "wrong error type: " << e.what();
  }
}

TEST(ModelLoadErrors, MissingEncoderTensorIsNamed) {
  testing::TempDir dir;
  copy_fixture(dir.path(), [](StTensor& t) { return t.name.find("encoder.layer.1.output.dense.bias") == std::string::npos; });
  expect_load_error<FormatError>(dir.path(), "encoder.layer.1.output.dense.bias");
}

TEST(ModelLoadErrors, WrongShapeNamesTensorAndBothShapes) {
  testing::TempDir dir;
  copy_fixture(dir.path(), [](StTensor& t) {
    if (t.name.ends_with("encoder.layer.0.attention.self.query.weight")) {
      t.shape = {24, 96};  // same bytes, wrong shape
    }
    return true;
  });
  expect_load_error<FormatError>(dir.path(), "[24,96], expected [48,48]");
}

TEST(ModelLoadErrors, UnsupportedDtypeIsNamed) {
  testing::TempDir dir;
  copy_fixture(dir.path(), [](StTensor& t) {
    if (t.name.ends_with("embeddings.LayerNorm.bias")) {
      t.dtype = "I32";  // same byte count as F32
    }
    return true;
  });
  expect_load_error<UnsupportedError>(dir.path(), "I32");
}

TEST(ModelLoadErrors, RelativePositionEmbeddingsAreUnsupported) {
  testing::TempDir dir;
  copy_fixture(dir.path(), [](StTensor&) { return true; });
  auto config = nlohmann::json::parse(testing::read_file(dir.path() / "config.json"));
  config["position_embedding_type"] = "relative_key";
  testing::write_file(dir.path() / "config.json", config.dump());
  expect_load_error<UnsupportedError>(dir.path(), "relative_key");
}

TEST(ModelLoadErrors, MissingDirectory) {
  expect_load_error<IoError>(testing::data_dir() / "no-such-model", "no-such-model");
}

TEST(ModelLoadErrors, HeadTensorsBeyondTheEncoderAreIgnored) {
  // A BertForSequenceClassification checkpoint: classifier.* tensors are present and not needed.
  EXPECT_NO_THROW(BertModel::load(testing::data_dir() / "encoder/seqcls_h96_gelunew_f16"));
}

// ---- the variants (tests/data/variants): each names the tensor it misses, with its prefix, and shapes ------

TEST(ModelLoadErrors, VariantMissingTensorsAreNamed) {
  const struct {
    const char* fixture;
    const char* tensor;  // dropped from the file; the error names it
  } cases[] = {
      {"variants/roberta_h48_f16", "encoder.layer.1.attention.self.key.bias"},
      {"variants/xlmr_seqcls_bf16", "roberta.embeddings.token_type_embeddings.weight"},
      {"variants/albert_e24_g2_i2_f16", "encoder.albert_layer_groups.1.albert_layers.1.ffn_output.weight"},
      {"variants/albert_e24_g2_i2_f16", "encoder.embedding_hidden_mapping_in.bias"},
      {"variants/albert_mlm_l3_g2_legacy_f16", "albert.encoder.albert_layer_groups.1.albert_layers.0.full_layer_layer_norm.weight"},
      {"variants/electra_e24_proj_f16", "embeddings_project.weight"},
      {"variants/electra_seqcls_noproj_bf16", "electra.encoder.layer.0.output.LayerNorm.bias"},
      {"variants/distilbert_sinusoidal_bf16", "transformer.layer.1.attention.v_lin.weight"},
      {"variants/distilbert_seqcls_relu_f32", "distilbert.embeddings.position_embeddings.weight"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.tensor);
    testing::TempDir dir;
    const std::string tensor = c.tensor;
    copy_fixture(dir.path(), [&](StTensor& t) { return t.name != tensor; }, c.fixture);
    expect_load_error<FormatError>(dir.path(), "model.safetensors: missing tensor '" + tensor + "'");
  }
}

TEST(ModelLoadErrors, VariantWrongShapesNameBothShapes) {
  // ALBERT's projection maps embedding_size 24 to hidden 48: stored transposed, it is [24,48], expected [48,24].
  testing::TempDir albert;
  copy_fixture(albert.path(), [](StTensor& t) {
    if (t.name == "encoder.embedding_hidden_mapping_in.weight") t.shape = {24, 48};
    return true;
  }, "variants/albert_e24_g2_i2_f16");
  expect_load_error<FormatError>(albert.path(), "tensor 'encoder.embedding_hidden_mapping_in.weight' has shape "
                                                "[24,48], expected [48,24]");
  // DistilBERT's FFN: lin1 is [hidden_dim, dim] = [90,40].
  testing::TempDir distil;
  copy_fixture(distil.path(), [](StTensor& t) {
    if (t.name == "distilbert.transformer.layer.2.ffn.lin1.weight") t.shape = {40, 90};
    return true;
  }, "variants/distilbert_seqcls_relu_f32");
  expect_load_error<FormatError>(distil.path(), "'distilbert.transformer.layer.2.ffn.lin1.weight' has shape [40,90], "
                                                "expected [90,40]");
  // ELECTRA's word embeddings are embedding_size (24) wide, not hidden (48).
  testing::TempDir electra;
  copy_fixture(electra.path(), [](StTensor& t) {
    if (t.name == "embeddings.word_embeddings.weight") t.shape = {t.shape[0] / 2, 48};
    return true;
  }, "variants/electra_e24_proj_f16");
  expect_load_error<FormatError>(electra.path(), "has shape [1000,48], expected [2000,24]");
}

TEST(ModelLoadErrors, VariantFilesUnderAnUnknownPrefix) {
  // A RoBERTa checkpoint whose tensors sit under "bert.": no tensor under "roberta." or "".
  testing::TempDir dir;
  copy_fixture(dir.path(), [](StTensor& t) {
    t.name = "bert." + t.name;
    return true;
  }, "variants/roberta_h48_f16");
  expect_load_error<FormatError>(dir.path(), "'roberta.embeddings.word_embeddings.weight', "
                                             "'embeddings.word_embeddings.weight'");
}

class ModelForwardErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = new BertModel(BertModel::load(testing::data_dir() / kFixture)); }
  static void TearDownTestSuite() { delete model_; }

  static void expect_invalid(const Batch& batch, const std::string& fragment) {
    try {
      model_->forward(batch);
      FAIL() << "expected InvalidArgumentError containing '" << fragment << "'";
    } catch (const InvalidArgumentError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  }
  static BertModel* model_;
};
BertModel* ModelForwardErrors::model_ = nullptr;

TEST_F(ModelForwardErrors, EmptyBatch) { expect_invalid(Batch{}, "batch is empty"); }

TEST_F(ModelForwardErrors, EmptySequence) {
  Batch b;
  b.add({1, 2, 3});
  b.add({});
  expect_invalid(b, "input 1: input_ids is empty");
}

TEST_F(ModelForwardErrors, TokenIdOutsideVocabulary) {
  Batch b;
  b.add({1, 120});
  expect_invalid(b, "input 0, position 1: token id 120 is outside the vocabulary [0, 120)");
  Batch n;
  n.add({-1});
  expect_invalid(n, "token id -1");
}

TEST_F(ModelForwardErrors, TokenTypeOutsideTypeVocabulary) {
  Batch b;
  b.add({1, 2, 3}, {0, 2, 0});
  expect_invalid(b, "token type id 2");
}

TEST_F(ModelForwardErrors, LongerThanMaxPositions) {
  Batch b;
  b.add(std::vector<std::int32_t>(33, 5));
  expect_invalid(b, "33 tokens exceed max_position_embeddings 32");
}

TEST_F(ModelForwardErrors, MismatchedLengths) {
  Batch b;
  b.add({1, 2, 3}, {0, 0});
  expect_invalid(b, "token_type_ids has 2 values, input_ids has 3");
  Batch m;
  m.add({1, 2, 3}, {}, {1, 1, 1, 1});
  expect_invalid(m, "attention_mask has 4 values");
}

TEST_F(ModelForwardErrors, MaskThatIsNotZeroOrOneOrMasksEverything) {
  Batch b;
  b.add({1, 2, 3}, {}, {1, 2, 1});
  expect_invalid(b, "attention_mask value 2");
  Batch z;
  z.add({1, 2, 3}, {}, {0, 0, 0});
  expect_invalid(z, "masks out every token");
}

TEST(ModelForward, RaggedAndPaddedBatchesAgreeAndPaddingIsZero) {
  const auto model = BertModel::load(testing::data_dir() / kFixture);
  Batch ragged;
  ragged.add({2, 17, 33, 4});
  ragged.add({2, 9});
  const std::int64_t ids[] = {2, 17, 33, 4, 2, 9, 0, 0};
  const std::int64_t mask[] = {1, 1, 1, 1, 1, 1, 0, 0};
  const auto a = model.forward(ragged);
  const auto b = model.forward(Batch::from_padded(2, 4, ids, nullptr, mask));
  ASSERT_EQ(a.last_hidden_state.shape, (std::vector<std::int64_t>{2, 4, 48}));
  EXPECT_EQ(a.last_hidden_state.data, b.last_hidden_state.data);
  EXPECT_EQ(a.pooler_output.data, b.pooler_output.data);
  EXPECT_EQ(a.lengths, (std::vector<std::int64_t>{4, 2}));
  for (std::int64_t t = 2; t < 4; ++t)
    for (std::int64_t h = 0; h < 48; ++h) EXPECT_EQ(a.last_hidden_state.at({1, t, h}), 0.0f);
  // The same sequence alone gives the same numbers as inside a batch (no cross-talk between sequences; GEMMs of
  // another row count round differently, hence not bit-identical: float epsilon x a few units).
  Batch single;
  single.add({2, 9});
  const auto c = model.forward(single);
  for (std::int64_t t = 0; t < 2; ++t)
    for (std::int64_t h = 0; h < 48; ++h)
      EXPECT_NEAR(c.last_hidden_state.at({0, t, h}), a.last_hidden_state.at({1, t, h}), 1e-5);
}

}  // namespace
}  // namespace bertcpp
