// The language-model-family heads on every variant, against tests/data/variant-heads/ (made by
// models/make_variant_lm_fixtures.py with transformers 5.24 / sentence-transformers):
//   FillMask on RoBERTa, XLM-R (untied decoder stored), ALBERT, the ELECTRA generator, DistilBERT and MPNet (tied
//   decoders absent from the file): token ids equal, the 10 best logits per mask and every score within 1e-4,
//   tokens, token_str and sequence identical (the pipeline's decoding of byte-level BPE and SentencePiece pieces);
//   ReplacedTokenDetector (ELECTRA discriminator): every token's id, piece, offsets and special flag identical,
//   logit and sigmoid probability within 1e-4, replaced flags identical;
//   SentenceOrderPredictor (AlbertForPreTraining): sop_logits and p(in order) within 1e-4;
//   SentenceEmbedder over each variant's sentence-transformers directory: embeddings within 1e-4;
//   the errors: heads on the wrong model type, missing head tensors, NextSentencePredictor outside BERT;
//   and the CLI (fill-mask, rtd, sop, embed, nsp) on these directories.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kTol = 1e-4;  // fp32 max-abs, as every golden test

fs::path variant_dir(const std::string& name) { return data_dir() / "variant-heads" / name; }
json golden(const std::string& name) { return json::parse(read_file(variant_dir(name) / "golden.json")); }

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

const std::vector<std::string> kMlmVariants = {"roberta", "xlm-roberta", "albert", "electra", "distilbert", "mpnet"};

// ---- fill-mask ------------------------------------------------------------------------------------------------

class VariantFillMask : public ::testing::TestWithParam<std::string> {};

TEST_P(VariantFillMask, MatchesTransformersPipeline) {
  const std::string dir = GetParam() + "-fill-mask";
  const json g = golden(dir);
  const FillMask fill = FillMask::load(variant_dir(dir));
  EXPECT_EQ(fill.mask_token(), g["mask_token"].get<std::string>());
  std::size_t compared = 0;
  for (const json& c : g["cases"]) {
    SCOPED_TRACE(dir + " " + c["name"].get<std::string>() + ": " + c["inputs"]["text"].get<std::string>());
    FillMaskOptions options;
    if (!c["options"]["top_k"].is_null()) options.top_k = c["options"]["top_k"].get<std::size_t>();
    if (!c["options"]["targets"].is_null()) options.targets = c["options"]["targets"].get<std::vector<std::string>>();
    const std::string text = c["inputs"]["text"].get<std::string>();
    const auto result = fill.fill(text, options);
    // The pipeline returns a flat list for one mask, a list per mask otherwise.
    const json& expected = c["expected"];
    const bool single = !expected.empty() && expected[0].is_object();
    ASSERT_EQ(result.size(), single ? 1u : expected.size());
    for (std::size_t m = 0; m < result.size(); ++m) {
      const json& rows = single ? expected : expected[m];
      ASSERT_EQ(result[m].size(), rows.size()) << "mask " << m;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const MaskPrediction& p = result[m][i];
        EXPECT_EQ(p.token, rows[i]["token"].get<std::int32_t>()) << "mask " << m << " rank " << i;
        EXPECT_EQ(p.token_str, rows[i]["token_str"].get<std::string>()) << "mask " << m << " rank " << i;
        EXPECT_EQ(p.sequence, rows[i]["sequence"].get<std::string>()) << "mask " << m << " rank " << i;
        EXPECT_NEAR(p.score, rows[i]["score"].get<double>(), kTol) << "mask " << m << " rank " << i;
        ++compared;
      }
    }
    // The raw logits: the 10 best of each mask row.
    const Tensor logits = fill.logits(text);
    const auto& top = c["top_logits"];
    ASSERT_EQ(logits.dim(0), static_cast<std::int64_t>(top.size()));
    for (std::int64_t m = 0; m < logits.dim(0); ++m) {
      std::vector<float> row(logits.row(m), logits.row(m) + logits.dim(1));
      std::sort(row.begin(), row.end(), std::greater<>());
      for (std::size_t i = 0; i < top[m].size(); ++i) {
        EXPECT_NEAR(row[i], top[m][i].get<double>(), kTol) << "mask " << m << " top " << i;
      }
    }
  }
  EXPECT_GT(compared, 40u);
  // The pipeline's error cases (a text without the mask token).
  for (const json& e : g["error_cases"]) {
    expect_error<InvalidArgumentError>([&] { fill.fill(e["inputs"]["text"].get<std::string>()); },
                                       "has no mask token '" + fill.mask_token() + "'");
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantFillMask, ::testing::ValuesIn(kMlmVariants), test_name);

TEST(VariantFillMaskErrors, MissingHeadNamesTheVariantsTensor) {
  // An ELECTRA discriminator has no generator head; a sentence-transformers RoBERTa has no lm_head.
  expect_error<FormatError>([] { FillMask::load(variant_dir("electra-replaced-token-detection")); },
                            "missing tensor 'generator_predictions.dense.weight' needed by the fill-mask head");
  expect_error<FormatError>([] { FillMask::load(variant_dir("roberta-sentence-embeddings")); },
                            "missing tensor 'lm_head.dense.weight' needed by the fill-mask head");
  expect_error<FormatError>([] { FillMask::load(variant_dir("distilbert-sentence-embeddings")); },
                            "missing tensor 'vocab_transform.weight' needed by the fill-mask head");
  expect_error<FormatError>([] { FillMask::load(variant_dir("mpnet-sentence-embeddings")); },
                            "missing tensor 'lm_head.dense.weight' needed by the fill-mask head");
}

TEST(VariantFillMaskErrors, TooLongTextNamesTheVariantsLimit) {
  // RoBERTa: 66 positions, 64 usable (positions start after the padding index).
  const FillMask fill = FillMask::load(variant_dir("roberta-fill-mask"));
  std::string text = "<mask>";
  for (int i = 0; i < 80; ++i) text += " word";
  expect_error<InvalidArgumentError>([&] { fill.fill(text); }, "more than max_position_embeddings 66 allows (64;");
}

// ---- replaced-token detection ---------------------------------------------------------------------------------

TEST(VariantReplacedTokens, ElectraDiscriminatorMatchesTransformers) {
  const json g = golden("electra-replaced-token-detection");
  const ReplacedTokenDetector detector = ReplacedTokenDetector::load(variant_dir("electra-replaced-token-detection"));
  std::size_t replaced = 0, kept = 0, truncated = 0;
  for (const json& c : g["cases"]) {
    const std::string text = c["inputs"]["text"].get<std::string>();
    SCOPED_TRACE(c["name"].get<std::string>() + ": " + text);
    const std::vector<TokenJudgement> tokens = detector.detect(text);
    ASSERT_EQ(tokens.size(), c["input_ids"].size());
    truncated += tokens.size() == c["options"]["max_length"].get<std::size_t>();
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      const TokenJudgement& j = tokens[t];
      EXPECT_EQ(j.id, c["input_ids"][t].get<std::int32_t>()) << "token " << t;
      EXPECT_EQ(j.token, c["tokens"][t].get<std::string>()) << "token " << t;
      EXPECT_EQ(j.start, c["offsets"][t][0].get<std::size_t>()) << "token " << t;
      EXPECT_EQ(j.end, c["offsets"][t][1].get<std::size_t>()) << "token " << t;
      EXPECT_EQ(j.special, c["special_tokens_mask"][t].get<int>() == 1) << "token " << t;
      EXPECT_NEAR(j.logit, c["logits"][t].get<double>(), kTol) << "token " << t;
      EXPECT_NEAR(j.probability, c["probabilities"][t].get<double>(), kTol) << "token " << t;
      EXPECT_EQ(j.replaced, c["replaced"][t].get<bool>()) << "token " << t;
      EXPECT_EQ(j.replaced, j.logit > 0.0f);
      // Byte offsets select the same text as the code-point offsets.
      EXPECT_LE(j.byte_start, j.byte_end);
      EXPECT_LE(j.byte_end, text.size());
      (j.replaced ? replaced : kept) += 1;
    }
  }
  EXPECT_GT(replaced, 20u);
  EXPECT_GT(kept, 20u);
  EXPECT_EQ(truncated, 1u);  // the long text is cut at the window, as tokenizer(text, truncation=True)
}

TEST(VariantReplacedTokens, OtherModelTypesAndMissingHeadAreErrors) {
  expect_error<UnsupportedError>([] { ReplacedTokenDetector::load(variant_dir("distilbert-fill-mask")); },
                                 "model_type is 'distilbert', expected 'electra'");
  expect_error<UnsupportedError>([] { ReplacedTokenDetector::load(variant_dir("roberta-fill-mask")); },
                                 "model_type is 'roberta', expected 'electra'");
  expect_error<FormatError>([] { ReplacedTokenDetector::load(variant_dir("electra-fill-mask")); },
                            "missing tensor 'discriminator_predictions.dense.weight' needed by the "
                            "replaced-token-detection head");
}

// ---- sentence-order prediction --------------------------------------------------------------------------------

TEST(VariantSentenceOrder, AlbertSopMatchesTransformers) {
  const json g = golden("albert-sentence-order");
  const SentenceOrderPredictor sop = SentenceOrderPredictor::load(variant_dir("albert-sentence-order"));
  double worst_segment_gap = 0;
  for (const json& c : g["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const SentenceOrder r = sop.predict(c["inputs"]["text"].get<std::string>(), c["inputs"]["text_pair"].get<std::string>());
    ASSERT_EQ(r.logits.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_NEAR(r.logits[i], c["logits"][i].get<double>(), kTol) << "logit " << i;
      worst_segment_gap =
          std::max(worst_segment_gap, std::abs(r.logits[i] - c["logits_with_segment_ids"][i].get<double>()));
    }
    EXPECT_NEAR(r.in_order, c["expected"]["in_order"].get<double>(), kTol);
  }
  // The golden is transformers 5's path (no token types for ALBERT); segment ids 0/1 would give other numbers,
  // so this test tells the two apart.
  EXPECT_GT(worst_segment_gap, 0.1);
}

TEST(VariantSentenceOrder, OtherModelTypesAndMissingHeadAreErrors) {
  expect_error<UnsupportedError>([] { SentenceOrderPredictor::load(variant_dir("electra-fill-mask")); },
                                 "model_type is 'electra', expected 'albert'");
  expect_error<FormatError>([] { SentenceOrderPredictor::load(variant_dir("albert-fill-mask")); },
                            "missing tensor 'sop_classifier.classifier.weight' needed by the "
                            "sentence-order-prediction head");
}

TEST(VariantNextSentence, NonBertDirectoriesAreRejected) {
  expect_error<UnsupportedError>([] { NextSentencePredictor::load(variant_dir("albert-sentence-order")); },
                                 "model_type is 'albert', expected 'bert' (ALBERT's pretraining head is sentence "
                                 "order: SentenceOrderPredictor)");
  expect_error<UnsupportedError>([] { NextSentencePredictor::load(variant_dir("distilbert-fill-mask")); },
                                 "next-sentence prediction is a BERT head");
}

// ---- sentence embeddings --------------------------------------------------------------------------------------

class VariantSentenceEmbeddings : public ::testing::TestWithParam<std::string> {};

TEST_P(VariantSentenceEmbeddings, MatchSentenceTransformers) {
  const std::string dir = GetParam() + "-sentence-embeddings";
  const json g = golden(dir);
  const SentenceEmbedder st = SentenceEmbedder::load(variant_dir(dir));
  const json& c = g["cases"][0];
  EXPECT_EQ(st.config().max_seq_length, c["options"]["max_seq_length"].get<std::size_t>());
  EXPECT_EQ(st.config().normalize, c["options"]["normalize"].get<bool>());
  const auto sentences = c["inputs"]["sentences"].get<std::vector<std::string>>();
  for (std::size_t batch : {std::size_t{1}, std::size_t{4}}) {
    const Tensor emb = st.encode(sentences, {.batch_size = batch});
    ASSERT_EQ(emb.dim(0), static_cast<std::int64_t>(sentences.size()));
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const auto& expected = c["expected"][i];
      ASSERT_EQ(emb.dim(1), static_cast<std::int64_t>(expected.size()));
      double worst = 0;
      for (std::size_t h = 0; h < expected.size(); ++h) {
        worst = std::max(worst, std::abs(emb.row(static_cast<std::int64_t>(i))[h] - expected[h].get<double>()));
      }
      EXPECT_LE(worst, kTol) << dir << " sentence " << i << " batch " << batch;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, VariantSentenceEmbeddings, ::testing::ValuesIn(kMlmVariants), test_name);

// ---- the command line -----------------------------------------------------------------------------------------

struct CliRun {
  int status = -1;
  std::vector<json> records;
  std::string err;
};

CliRun run_cli(const std::vector<std::string>& args, const std::vector<std::string>& lines) {
  std::string input;
  for (const auto& l : lines) input.append(l).append("\n");
  const ProcessResult p = run_process(kCli, args, input);
  CliRun r;
  r.status = p.status;
  std::istringstream out(p.out);
  for (std::string line; std::getline(out, line);) r.records.push_back(json::parse(line));
  r.err = p.err;
  return r;
}

class VariantLmCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kCli) GTEST_SKIP() << "the bertcpp CLI is not built (BERTCPP_BUILD_EXAMPLES=OFF)";
  }
};

TEST_F(VariantLmCli, FillMaskOnEveryVariant) {
  for (const std::string& v : kMlmVariants) {
    SCOPED_TRACE(v);
    const json g = golden(v + "-fill-mask");
    // The default-options cases (top_k 5, no targets), and a line without the mask token.
    std::vector<std::string> lines;
    std::vector<const json*> cases;
    for (const json& c : g["cases"]) {
      if (!c["options"]["top_k"].is_null() || !c["options"]["targets"].is_null()) continue;
      lines.push_back(json{{"text", c["inputs"]["text"]}}.dump());
      cases.push_back(&c);
    }
    ASSERT_GE(cases.size(), 2u);
    lines.push_back(R"({"text": "no mask here"})");
    const CliRun r = run_cli({"fill-mask", "-m", variant_dir(v + "-fill-mask").string()}, lines);
    EXPECT_EQ(r.status, 1) << r.err;
    ASSERT_EQ(r.records.size(), lines.size());
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const json& expected = (*cases[i])["expected"];
      const json& got = r.records[i]["predictions"];
      const bool single = expected[0].is_object();
      ASSERT_EQ(got.size(), single ? 1u : expected.size());
      for (std::size_t m = 0; m < got.size(); ++m) {
        const json& rows = single ? expected : expected[m];
        ASSERT_EQ(got[m].size(), rows.size());
        for (std::size_t k = 0; k < rows.size(); ++k) {
          EXPECT_EQ(got[m][k]["token"], rows[k]["token"]);
          EXPECT_EQ(got[m][k]["token_str"], rows[k]["token_str"]);
          EXPECT_EQ(got[m][k]["sequence"], rows[k]["sequence"]);
          EXPECT_NEAR(got[m][k]["score"].get<double>(), rows[k]["score"].get<double>(), kTol);
        }
      }
    }
    EXPECT_EQ(r.records.back()["line"], lines.size());
    EXPECT_NE(r.records.back()["error"].get<std::string>().find("has no mask token"), std::string::npos);
  }
}

TEST_F(VariantLmCli, RtdWritesEveryTokensJudgement) {
  const json g = golden("electra-replaced-token-detection");
  std::vector<std::string> lines;
  for (const json& c : g["cases"]) lines.push_back(json{{"text", c["inputs"]["text"]}}.dump());
  const CliRun r = run_cli({"rtd", "-m", variant_dir("electra-replaced-token-detection").string()}, lines);
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.records.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json& c = g["cases"][i];
    const json& tokens = r.records[i]["tokens"];
    ASSERT_EQ(tokens.size(), c["input_ids"].size()) << i;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      EXPECT_EQ(tokens[t]["token"], c["tokens"][t]);
      EXPECT_EQ(tokens[t]["id"], c["input_ids"][t]);
      EXPECT_EQ(tokens[t]["start"], c["offsets"][t][0]);
      EXPECT_EQ(tokens[t]["end"], c["offsets"][t][1]);
      EXPECT_EQ(tokens[t]["replaced"], c["replaced"][t]);
      EXPECT_EQ(tokens[t]["special"].get<bool>(), c["special_tokens_mask"][t].get<int>() == 1);
      EXPECT_NEAR(tokens[t]["logit"].get<double>(), c["logits"][t].get<double>(), kTol);
      EXPECT_NEAR(tokens[t]["probability"].get<double>(), c["probabilities"][t].get<double>(), kTol);
    }
  }
  // --skip-special leaves out [CLS] / [SEP].
  const CliRun skipped =
      run_cli({"rtd", "-m", variant_dir("electra-replaced-token-detection").string(), "--skip-special"}, {lines[0]});
  ASSERT_EQ(skipped.records.size(), 1u);
  EXPECT_EQ(skipped.records[0]["tokens"].size() + 2, g["cases"][0]["input_ids"].size());
}

TEST_F(VariantLmCli, SopAndNspOnAlbert) {
  const json g = golden("albert-sentence-order");
  std::vector<std::string> lines;
  for (const json& c : g["cases"]) lines.push_back(json{{"text", c["inputs"]["text"]}, {"text_pair", c["inputs"]["text_pair"]}}.dump());
  lines.push_back(R"({"text": "only one"})");
  const std::string dir = variant_dir("albert-sentence-order").string();
  const CliRun r = run_cli({"sop", "-m", dir, "--logits"}, lines);
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(r.records.size(), lines.size());
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    const json& c = g["cases"][i];
    EXPECT_NEAR(r.records[i]["in_order"].get<double>(), c["expected"]["in_order"].get<double>(), kTol);
    EXPECT_NEAR(r.records[i]["logits"][0].get<double>(), c["logits"][0].get<double>(), kTol);
    EXPECT_NEAR(r.records[i]["logits"][1].get<double>(), c["logits"][1].get<double>(), kTol);
  }
  EXPECT_EQ(r.records.back()["error"], "missing \"text_pair\"");
  // nsp is BERT's: a clear setup error on an ALBERT directory.
  const CliRun nsp = run_cli({"nsp", "-m", dir}, {lines[0]});
  EXPECT_EQ(nsp.status, 2);
  EXPECT_TRUE(nsp.records.empty());
  EXPECT_NE(nsp.err.find("expected 'bert'"), std::string::npos) << nsp.err;
}

TEST_F(VariantLmCli, EmbedOnRobertaDistilbertAndMpnet) {
  for (const std::string& v : {std::string("roberta"), std::string("distilbert"), std::string("mpnet")}) {
    SCOPED_TRACE(v);
    const json g = golden(v + "-sentence-embeddings");
    const json& c = g["cases"][0];
    std::vector<std::string> lines;
    for (const json& s : c["inputs"]["sentences"]) lines.push_back(json{{"text", s}}.dump());
    const CliRun r = run_cli({"embed", "-m", variant_dir(v + "-sentence-embeddings").string()}, lines);
    EXPECT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(r.records.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const json& got = r.records[i]["embedding"];
      ASSERT_EQ(got.size(), c["expected"][i].size());
      for (std::size_t h = 0; h < got.size(); ++h) {
        EXPECT_NEAR(got[h].get<double>(), c["expected"][i][h].get<double>(), kTol) << "line " << i << " dim " << h;
      }
    }
  }
}

}  // namespace
}  // namespace bertcpp::testing
