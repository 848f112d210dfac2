// Heads over one engine (issue 12): several heads attached to one loaded BertModel share its encoder; results and
// logits come from one encoder pass; the model finds its tokenizer from every file kind Tokenizer::load reads; the
// encoder is fed token types by the model-type registry's rule everywhere (bertcpp encode against transformers 5).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/model_access.hpp"
#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "bertcpp/pipelines.hpp"
#include "test_util.hpp"
#include "weights/model_spec.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kTol = 1e-4;

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }
fs::path variant_dir(const std::string& name) { return data_dir() / "variants" / name; }

json read_json(const fs::path& path) { return json::parse(read_file(path)); }

void expect_same_tensor(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape, b.shape);
  for (std::size_t i = 0; i < a.data.size(); ++i) ASSERT_EQ(a.data[i], b.data[i]) << "element " << i;
}

void expect_same_entities(const std::vector<Entity>& a, const std::vector<Entity>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].entity, b[i].entity);
    EXPECT_EQ(a[i].entity_group, b[i].entity_group);
    EXPECT_EQ(a[i].word, b[i].word);
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].end, b[i].end);
    EXPECT_EQ(a[i].score, b[i].score);
  }
}

void expect_same_answers(const std::vector<Answer>& a, const std::vector<Answer>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].answer, b[i].answer);
    EXPECT_EQ(a[i].start, b[i].start);
    EXPECT_EQ(a[i].end, b[i].end);
    EXPECT_EQ(a[i].score, b[i].score);
  }
}

const std::string kText = "Angela Merkel met Emmanuel Macron in Paris and Berlin last week.";
const std::string kQuestion = "Where did they meet?";

// ---- heads attached to one model ------------------------------------------------------------------------------

// tests/data/heads/{text-classification,token-classification,question-answering} are three BERT checkpoints over
// one encoder (their encoder.safetensors is the same file): one loaded model carries all three heads.
TEST(SharedModel, ThreeHeadsHoldOneEncoderAndMatchTheStandalonePipelines) {
  const std::size_t before = internal::encoders_loaded();
  const BertModel model = BertModel::load(heads_dir("text-classification"));
  const SequenceClassifier clf = SequenceClassifier::load(model, heads_dir("text-classification"));
  const TokenClassifier ner = TokenClassifier::load(model, heads_dir("token-classification"));
  const QuestionAnswerer qa = QuestionAnswerer::load(model, heads_dir("question-answering"));
  EXPECT_EQ(internal::encoders_loaded() - before, 1u) << "attaching a head must not load another encoder";

  // The one-line loads: an encoder each, and the same numbers bit for bit.
  const SequenceClassifier clf_alone = SequenceClassifier::load(heads_dir("text-classification"));
  const TokenClassifier ner_alone = TokenClassifier::load(heads_dir("token-classification"));
  const QuestionAnswerer qa_alone = QuestionAnswerer::load(heads_dir("question-answering"));
  EXPECT_EQ(internal::encoders_loaded() - before, 4u);

  const std::vector<std::string> texts = {kText, "a gripping, funny film", "x"};
  for (const auto& text : texts) {
    const Classification a = clf.classify(text, {.top_k = 0}), b = clf_alone.classify(text, {.top_k = 0});
    ASSERT_EQ(a.logits, b.logits) << text;
    ASSERT_EQ(a.labels.size(), b.labels.size());
    for (std::size_t i = 0; i < a.labels.size(); ++i) EXPECT_EQ(a.labels[i].label, b.labels[i].label);
  }
  NerOptions simple;
  simple.aggregation = Aggregation::simple;
  expect_same_entities(ner.recognize(kText, simple), ner_alone.recognize(kText, simple));
  expect_same_tensor(ner.logits(kText), ner_alone.logits(kText));
  QaOptions three;
  three.top_k = 3;
  expect_same_answers(qa.answer(kQuestion, kText, three), qa_alone.answer(kQuestion, kText, three));

  // The heads still work once the caller's handle is gone: they keep the model alive.
  const TokenClassifier orphan = [] {
    const BertModel m = BertModel::load(heads_dir("token-classification"));
    return TokenClassifier::load(m, heads_dir("token-classification"));
  }();
  expect_same_tensor(orphan.logits(kText), ner_alone.logits(kText));
}

TEST(SharedModel, HeadsOfTheOtherVariantsAttachAndMatch) {
  const fs::path dir = data_dir() / "variant-heads";
  const BertModel electra = BertModel::load(dir / "electra-fill-mask");
  const FillMask fill = FillMask::load(electra, dir / "electra-fill-mask");
  const FillMask fill_alone = FillMask::load(dir / "electra-fill-mask");
  const std::string masked = "The capital of France is " + fill.mask_token() + ".";
  expect_same_tensor(fill.logits(masked), fill_alone.logits(masked));

  const BertModel albert = BertModel::load(dir / "albert-sentence-order");
  const SentenceOrderPredictor sop = SentenceOrderPredictor::load(albert, dir / "albert-sentence-order");
  const SentenceOrderPredictor sop_alone = SentenceOrderPredictor::load(dir / "albert-sentence-order");
  EXPECT_EQ(sop.predict("first part", "second part").logits, sop_alone.predict("first part", "second part").logits);

  const BertModel roberta = BertModel::load(dir / "roberta-sentence-embeddings");
  const SentenceEmbedder st = SentenceEmbedder::load(roberta, dir / "roberta-sentence-embeddings");
  const SentenceEmbedder st_alone = SentenceEmbedder::load(dir / "roberta-sentence-embeddings");
  expect_same_tensor(st.encode({kText, "x"}), st_alone.encode({kText, "x"}));

  const BertModel bert = BertModel::load(heads_dir("next-sentence"));
  const NextSentencePredictor nsp = NextSentencePredictor::load(bert, heads_dir("next-sentence"));
  const NextSentencePredictor nsp_alone = NextSentencePredictor::load(heads_dir("next-sentence"));
  EXPECT_EQ(nsp.predict("first part", "second part").logits, nsp_alone.predict("first part", "second part").logits);

  const BertModel discriminator = BertModel::load(dir / "electra-replaced-token-detection");
  const auto rtd = ReplacedTokenDetector::load(discriminator, dir / "electra-replaced-token-detection");
  const auto rtd_alone = ReplacedTokenDetector::load(dir / "electra-replaced-token-detection");
  const auto a = rtd.detect(kText), b = rtd_alone.detect(kText);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].logit, b[i].logit);
}

TEST(SharedModel, AHeadOfAnotherModelTypeIsRefused) {
  const BertModel bert = BertModel::load(heads_dir("text-classification"));
  try {
    (void)SequenceClassifier::load(bert, data_dir() / "variant-heads" / "electra-text-classification");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("model_type is 'electra', but the model the head is attached to is 'bert'"),
              std::string::npos)
        << e.what();
  }
  LoadOptions no_tokenizer;
  no_tokenizer.tokenizer = false;
  const BertModel bare = BertModel::load(heads_dir("text-classification"), no_tokenizer);
  EXPECT_THROW((void)TokenClassifier::load(bare, heads_dir("token-classification")), InvalidArgumentError);
}

// ---- results and logits from one encoder pass ------------------------------------------------------------------

TEST(OnePass, RecognizeWithLogitsRunsTheEncoderOncePerWindowBatch) {
  const TokenClassifier ner = TokenClassifier::load(heads_dir("token-classification"));
  NerOptions o;
  o.aggregation = Aggregation::simple;
  std::size_t before = internal::encoder_passes();
  const TokenClassifier::Recognition r = ner.recognize_with_logits(kText, o);
  EXPECT_EQ(internal::encoder_passes() - before, 1u);
  expect_same_entities(r.entities, ner.recognize(kText, o));
  expect_same_tensor(r.logits, ner.logits(kText, o));

  // A long text in windows of 16 tokens overlapping by 4: at most 8 windows per pass.
  std::string long_text;
  for (int i = 0; i < 12; ++i) long_text += kText + " ";
  o.max_length = 16;
  o.stride = 4;
  before = internal::encoder_passes();
  const TokenClassifier::Recognition windows = ner.recognize_with_logits(long_text, o);
  const auto W = static_cast<std::size_t>(windows.logits.dim(0));
  EXPECT_GT(W, 8u);
  EXPECT_EQ(internal::encoder_passes() - before, (W + 7) / 8);
  expect_same_entities(windows.entities, ner.recognize(long_text, o));
  expect_same_tensor(windows.logits, ner.logits(long_text, o));
}

TEST(OnePass, AnswerWithLogitsRunsTheEncoderOncePerWindowBatch) {
  const QuestionAnswerer qa = QuestionAnswerer::load(heads_dir("question-answering"));
  std::string context;
  for (int i = 0; i < 10; ++i) context += kText + " ";
  QaOptions o;
  o.top_k = 2;
  o.max_seq_len = 24;
  o.doc_stride = 8;
  const std::size_t before = internal::encoder_passes();
  const QuestionAnswerer::Result r = qa.answer_with_logits(kQuestion, context, o);
  const auto W = static_cast<std::size_t>(r.logits.start_logits.dim(0));
  EXPECT_GT(W, 8u);
  EXPECT_EQ(internal::encoder_passes() - before, (W + 7) / 8);
  expect_same_answers(r.answers, qa.answer(kQuestion, context, o));
  const QuestionAnswerer::Logits separate = qa.logits(kQuestion, context, o);
  expect_same_tensor(r.logits.start_logits, separate.start_logits);
  expect_same_tensor(r.logits.end_logits, separate.end_logits);
}

// `bertcpp ner --logits` / `qa --logits` (BERTCPP_REPORT_ENCODER_PASSES prints the process's count at exit): one
// pass per input line here (each text fits one window), where results + logits used to take two.
TEST(OnePass, CliNerAndQaWithLogitsRunTheEncoderOncePerWindow) {
  if (kCli == nullptr) GTEST_SKIP() << "built without the CLI";
  const auto passes = [](const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> full = {"BERTCPP_REPORT_ENCODER_PASSES=1", kCli};
    full.insert(full.end(), args.begin(), args.end());
    const ProcessResult p = run_process("env", full, input);
    EXPECT_EQ(p.status, 0) << p.err;
    const std::size_t at = p.err.find("encoder passes: ");
    EXPECT_NE(at, std::string::npos) << p.err;
    return at == std::string::npos ? -1 : std::stoi(p.err.substr(at + 16));
  };
  const std::string ner_in = json{{"text", kText}}.dump() + "\n" + json{{"text", "Paris"}}.dump() + "\n";
  EXPECT_EQ(passes({"ner", "-m", heads_dir("token-classification").string(), "--logits"}, ner_in), 2);
  EXPECT_EQ(passes({"ner", "-m", heads_dir("token-classification").string()}, ner_in), 2);
  const std::string qa_in = json{{"question", kQuestion}, {"context", kText}}.dump() + "\n";
  EXPECT_EQ(passes({"qa", "-m", heads_dir("question-answering").string(), "--logits"}, qa_in), 1);
}

// ---- the tokenizer of every file kind --------------------------------------------------------------------------

// A model directory holding one tokenizer file kind only: config.json and model.safetensors of `variant`, and the
// tokenizer files `files` of it (plus tokenizer_config.json when it has one).
struct OneKindDir {
  TempDir tmp;
  OneKindDir(const std::string& variant, const std::vector<std::string>& files) {
    const fs::path from = variant_dir(variant);
    std::vector<std::string> all = files;
    all.insert(all.end(), {"config.json", "model.safetensors", "tokenizer_config.json"});
    for (const auto& f : all) {
      if (fs::exists(from / f)) fs::create_symlink(fs::absolute(from / f), tmp.path() / f);
    }
  }
};

void expect_tokenizer_found(const std::string& variant, const std::vector<std::string>& files) {
  SCOPED_TRACE(variant + ": " + files.front());
  const OneKindDir dir(variant, files);
  const BertModel model = BertModel::load(dir.tmp.path());
  ASSERT_TRUE(model.has_tokenizer());
  const Tokenizer reference = Tokenizer::load(dir.tmp.path());
  const std::string text = "Hello world, this is a test.";
  EXPECT_EQ(model.tokenizer().encode(text).input_ids, reference.encode(text).input_ids);
  // forward(texts) runs on it and equals forward() on the same ids.
  const std::vector<std::string> texts = {text};
  Batch batch;
  batch.add(reference.encode(text), model.config());
  expect_same_tensor(model.forward(texts).last_hidden_state, model.forward(batch).last_hidden_state);
}

TEST(ModelTokenizer, FoundFromTokenizerJson) { expect_tokenizer_found("electra_e24_proj_f16", {"tokenizer.json"}); }
TEST(ModelTokenizer, FoundFromVocabTxt) { expect_tokenizer_found("electra_e24_proj_f16", {"vocab.txt"}); }
TEST(ModelTokenizer, FoundFromVocabJsonAndMerges) {
  expect_tokenizer_found("roberta_h48_f16", {"vocab.json", "merges.txt"});
}
TEST(ModelTokenizer, FoundFromSpieceModel) { expect_tokenizer_found("albert_e24_g2_i2_f16", {"spiece.model"}); }
TEST(ModelTokenizer, FoundFromSentencepieceBpeModel) {
  expect_tokenizer_found("xlmr_seqcls_bf16", {"sentencepiece.bpe.model"});
}
TEST(ModelTokenizer, NoneWithoutTokenizerFiles) {
  const OneKindDir dir("roberta_h48_f16", {"vocab.json"});  // vocab.json without merges.txt is no tokenizer
  EXPECT_FALSE(BertModel::load(dir.tmp.path()).has_tokenizer());
}

// ---- one token-type rule ---------------------------------------------------------------------------------------

TEST(TokenTypeRule, RegistryMatchesTransformersTokenizers) {
  // model_input_names of transformers 5's tokenizers (golden_pairs.json records them).
  for (const std::string name : {"albert_e24_g2_i2_f16", "electra_e24_proj_f16", "roberta_h48_f16",
                                 "mpnet_seqcls_b40_bf16"}) {
    const json g = read_json(variant_dir(name) / "golden_pairs.json");
    bool fed = false;
    for (const auto& n : g["model_input_names"]) fed = fed || n == "token_type_ids";
    const BertModel model = BertModel::load(variant_dir(name));
    EXPECT_EQ(model.config().feeds_token_type_ids, fed) << name;
    EXPECT_EQ(weights::model_spec(model.config().model_type).feeds_token_type_ids, fed) << name;
  }
}

// `bertcpp encode` with {"text", "text_pair"} records against AutoModel(**AutoTokenizer(a, b)) of transformers 5:
// ALBERT, RoBERTa and MPNet get no token types (segment 0 throughout; MPNet has no token-type table), ELECTRA
// gets 0 / 1. MPNet's pair is <s> A </s></s> B </s>.
TEST(TokenTypeRule, EncodeTextPairsMatchTransformers) {
  if (kCli == nullptr) GTEST_SKIP() << "built without the CLI";
  for (const std::string name : {"albert_e24_g2_i2_f16", "electra_e24_proj_f16", "roberta_h48_f16",
                                 "mpnet_seqcls_b40_bf16"}) {
    SCOPED_TRACE(name);
    const json g = read_json(variant_dir(name) / "golden_pairs.json");
    std::string input;
    for (const auto& c : g["cases"]) input += c["inputs"].dump() + "\n";
    const ProcessResult p = run_process(kCli, {"encode", "-m", variant_dir(name).string(), "--no-pooler"}, input);
    ASSERT_EQ(p.status, 0) << p.err;
    std::istringstream lines(p.out);
    std::size_t i = 0;
    double worst = 0;
    for (std::string line; std::getline(lines, line); ++i) {
      ASSERT_LT(i, g["cases"].size());
      const json out = json::parse(line);
      const json& expected = g["cases"][i]["last_hidden_state"];
      ASSERT_EQ(out["last_hidden_state"].size(), expected.size()) << "pair " << i;
      for (std::size_t t = 0; t < expected.size(); ++t) {
        for (std::size_t h = 0; h < expected[t].size(); ++h) {
          worst = std::max(worst, std::abs(out["last_hidden_state"][t][h].get<double>() - expected[t][h].get<double>()));
        }
      }
    }
    EXPECT_EQ(i, g["cases"].size());
    EXPECT_LE(worst, kTol);
  }
}

// The heads and forward(texts) take the same rule: an ALBERT pair through the sentence-order head is the encoder
// fed the pair's ids without token types.
TEST(TokenTypeRule, BatchAddFollowsTheRule) {
  const BertModel albert = BertModel::load(variant_dir("albert_e24_g2_i2_f16"));
  const Encoding pair = albert.tokenizer().encode("le fichier est introuvable", "aucune donnée");
  ASSERT_NE(std::count(pair.token_type_ids.begin(), pair.token_type_ids.end(), 1), 0);  // the tokenizer makes 0 / 1
  Batch batch;
  batch.add(pair, albert.config());
  EXPECT_TRUE(batch.token_type_ids.empty() || batch.token_type_ids[0].empty());
  const BertModel electra = BertModel::load(variant_dir("electra_e24_proj_f16"));
  Batch typed;
  typed.add(electra.tokenizer().encode("a", "b"), electra.config());
  ASSERT_EQ(typed.token_type_ids.size(), 1u);
  EXPECT_EQ(typed.token_type_ids[0].back(), 1);
}

// `bertcpp tokenize` and `bertcpp encode` with an empty text_pair: no pair, [CLS] text [SEP], as transformers 5.
TEST(TokenTypeRule, EmptyTextPairIsNoPairAsInTransformers) {
  if (kCli == nullptr) GTEST_SKIP() << "built without the CLI";
  const fs::path dir = variant_dir("albert_e24_g2_i2_f16");
  const json g = read_json(dir / "golden_pairs.json");
  std::string input;
  for (const auto& c : g["empty_pair"]) input += c["inputs"].dump() + "\n";
  const ProcessResult p = run_process(kCli, {"tokenize", "-m", dir.string()}, input);
  ASSERT_EQ(p.status, 0) << p.err;
  std::istringstream lines(p.out);
  std::size_t i = 0;
  for (std::string line; std::getline(lines, line); ++i) {
    ASSERT_LT(i, g["empty_pair"].size());
    EXPECT_EQ(json::parse(line)["input_ids"], g["empty_pair"][i]["input_ids"]) << "line " << i;
  }
  EXPECT_EQ(i, g["empty_pair"].size());

  // encode: the same ids give the same hidden states as the text alone.
  const std::string text = g["empty_pair"][0]["inputs"]["text"];
  const ProcessResult both = run_process(
      kCli, {"encode", "-m", dir.string(), "--no-pooler"},
      json{{"text", text}, {"text_pair", ""}}.dump() + "\n" + json{{"text", text}}.dump() + "\n");
  ASSERT_EQ(both.status, 0) << both.err;
  std::istringstream out(both.out);
  std::string first, second;
  std::getline(out, first);
  std::getline(out, second);
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace bertcpp::testing
