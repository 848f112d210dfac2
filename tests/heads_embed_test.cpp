// SentenceEmbedder against SentenceTransformer.encode: the default model (all-MiniLM-L6-v2) on the 35 sentences
// of tests/data/minilm/sentence_embeddings.json (cosine >= 0.99999 and max-abs <= 1e-4 each), tiny random models
// for cls / max / mean_sqrt_len / weightedmean / lasttoken pooling in the classic and sentence-transformers 6
// layouts and one with four Dense
// modules (tests/data/heads/sentence-embeddings-*, max-abs <= 1e-4), then configuration reading, Dense modules'
// errors, batching and odd inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/error.hpp"
#include "bertcpp/pipelines.hpp"
#include "heads/sentence_embedder_config.hpp"
#include "heads/sentence_embedder_pooling.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kTolerance = 1e-4;

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }

struct RowDiff {
  double max_abs = 0;
  double cosine = 0;
};

RowDiff compare_row(const float* actual, const json& expected) {
  double dot = 0, na = 0, ne = 0;
  RowDiff d;
  for (std::size_t h = 0; h < expected.size(); ++h) {
    const double a = actual[h], e = expected[h].get<double>();
    d.max_abs = std::max(d.max_abs, std::abs(a - e));
    dot += a * e;
    na += a * a;
    ne += e * e;
  }
  d.cosine = dot / std::sqrt(na * ne);
  return d;
}

double max_abs(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape, b.shape);
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.numel(), b.numel()); ++i) {
    worst = std::max(worst, std::abs(static_cast<double>(a.data[i]) - b.data[i]));
  }
  return worst;
}

// ---- the default model ----------------------------------------------------------------------------------------

class MiniLmEmbeddings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    golden_ = new json(json::parse(read_file(data_dir() / "minilm" / "sentence_embeddings.json")));
    embedder_ = new SentenceEmbedder(SentenceEmbedder::load(default_model_dir()));
  }
  static void TearDownTestSuite() {
    delete golden_;
    delete embedder_;
  }
  static std::vector<std::string> sentences() { return (*golden_)["sentences"].get<std::vector<std::string>>(); }
  static json* golden_;
  static SentenceEmbedder* embedder_;
};
json* MiniLmEmbeddings::golden_ = nullptr;
SentenceEmbedder* MiniLmEmbeddings::embedder_ = nullptr;

TEST_F(MiniLmEmbeddings, ConfigIsReadFromTheModules) {
  EXPECT_EQ(embedder_->config().pooling, Pooling::mean);
  EXPECT_TRUE(embedder_->config().normalize);
  EXPECT_EQ(embedder_->config().max_seq_length, 256u);
  EXPECT_EQ((*golden_)["max_seq_length"].get<std::size_t>(), 256u);
}

TEST_F(MiniLmEmbeddings, MatchSentenceTransformers) {
  const auto texts = sentences();
  ASSERT_GE(texts.size(), 32u);
  const auto& counts = (*golden_)["token_counts_untruncated"];
  EXPECT_TRUE(std::any_of(counts.begin(), counts.end(), [](const json& n) { return n.get<int>() > 256; }))
      << "the golden must hold a sentence that max_seq_length truncates";
  const Tensor emb = embedder_->encode(texts);
  ASSERT_EQ(emb.shape, (std::vector<std::int64_t>{static_cast<std::int64_t>(texts.size()), 384}));
  double worst_abs = 0, worst_cos = 1;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const RowDiff d = compare_row(emb.row(static_cast<std::int64_t>(i)), (*golden_)["embeddings"][i]);
    EXPECT_GE(d.cosine, 0.99999) << "sentence " << i << ": " << texts[i];
    EXPECT_LE(d.max_abs, kTolerance) << "sentence " << i << ": " << texts[i];
    worst_abs = std::max(worst_abs, d.max_abs);
    worst_cos = std::min(worst_cos, d.cosine);
  }
  std::cout << "[ minilm   ] " << texts.size() << " sentences: worst cosine " << worst_cos << ", max-abs " << worst_abs
            << '\n';
}

TEST_F(MiniLmEmbeddings, ResultDoesNotDependOnBatching) {
  const auto texts = sentences();
  const Tensor all = embedder_->encode(texts, {.batch_size = 64});
  for (std::size_t batch_size : {1u, 3u, 7u}) {
    const Tensor other = embedder_->encode(texts, {.batch_size = batch_size});
    EXPECT_LE(max_abs(other, all), 1e-6) << "batch_size " << batch_size;
  }
  // A sentence alone equals its row in the big batch.
  const Tensor one = embedder_->encode({texts[5]});
  for (std::int64_t h = 0; h < 384; ++h) EXPECT_NEAR(one.data[h], all.row(5)[h], 1e-6);
}

TEST_F(MiniLmEmbeddings, EmptyInputIsAnEmptyMatrix) {
  const Tensor emb = embedder_->encode(std::vector<std::string>{});
  EXPECT_EQ(emb.shape, (std::vector<std::int64_t>{0, 384}));
  EXPECT_TRUE(emb.empty());
}

TEST_F(MiniLmEmbeddings, TextThatTokenizesToNothingEmbedsClsSep) {
  const Tensor emb = embedder_->encode({"", "\x01\x02\u200b", "   "});
  for (std::int64_t h = 0; h < 384; ++h) {
    EXPECT_EQ(emb.row(1)[h], emb.row(0)[h]);
    EXPECT_EQ(emb.row(2)[h], emb.row(0)[h]);
  }
  double norm = 0;
  for (std::int64_t h = 0; h < 384; ++h) norm += emb.row(0)[h] * emb.row(0)[h];
  EXPECT_NEAR(norm, 1.0, 1e-5);
}

TEST_F(MiniLmEmbeddings, LongTextIsTruncatedToMaxSeqLength) {
  // "hello" is one token: 400 of them keep the first 254 (+ [CLS] [SEP] = 256).
  std::string long_text, kept;
  for (int i = 0; i < 400; ++i) long_text += "hello ";
  for (int i = 0; i < 254; ++i) kept += "hello ";
  const Tensor emb = embedder_->encode({long_text, kept});
  // The same 256 tokens: the same embedding, to the last bits. Not bit for bit: the two rows sit at different
  // places in each GEMM, and oneDNN's AVX2 sgemm (gemm:jit) does not sum every row in the same order (the two
  // differ by ~1e-7 on an AVX2-only CPU, not at all with AVX-512); a different truncation moves it by > 1e-3.
  for (std::int64_t h = 0; h < 384; ++h) EXPECT_NEAR(emb.row(0)[h], emb.row(1)[h], 1e-6) << h;
}

TEST_F(MiniLmEmbeddings, TwoHundredThousandCharacters) {
  std::string text;
  while (text.size() < 200000) text += "The quick brown fox jumps over the lazy dog. ";
  const Tensor emb = embedder_->encode({text});
  EXPECT_EQ(emb.shape, (std::vector<std::int64_t>{1, 384}));
  EXPECT_TRUE(std::all_of(emb.data.begin(), emb.data.end(), [](float v) { return std::isfinite(v); }));
}

TEST_F(MiniLmEmbeddings, BadInputsAreTypedErrors) {
  EXPECT_THROW(embedder_->encode({"ok", "caf\xc3"}), Utf8Error);
  EXPECT_THROW(embedder_->encode({"ok"}, {.batch_size = 0}), InvalidArgumentError);
}

// ---- tiny random models, one per pooling mode -----------------------------------------------------------------

// Each row of emb against the golden case's expected row (max-abs <= kTolerance); returns the worst max-abs.
double expect_rows_match(const Tensor& emb, const json& c) {
  const auto& sentences = c["inputs"]["sentences"];
  double worst = 0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const RowDiff d = compare_row(emb.row(static_cast<std::int64_t>(i)), c["expected"][i]);
    EXPECT_LE(d.max_abs, kTolerance) << "sentence " << i << ": " << sentences[i];
    worst = std::max(worst, d.max_abs);
  }
  return worst;
}

class PoolingGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(PoolingGolden, MatchesSentenceTransformers) {
  const fs::path dir = heads_dir(std::string("sentence-embeddings-") + GetParam());
  const json golden = json::parse(read_file(dir / "golden.json"));
  const auto embedder = SentenceEmbedder::load(dir);
  ASSERT_EQ(golden["cases"].size(), 1u);
  const json& c = golden["cases"][0];
  const json& o = c["options"];
  // "pooling": one mode, or the list of modes sentence-transformers concatenates.
  const auto mode_of = [](const std::string& pooling) {
    return pooling == "cls"            ? Pooling::cls
           : pooling == "max"          ? Pooling::max
           : pooling == "mean"         ? Pooling::mean
           : pooling == "weightedmean" ? Pooling::weighted_mean
           : pooling == "lasttoken"    ? Pooling::last_token
                                       : Pooling::mean_sqrt_len;
  };
  std::vector<Pooling> expected_modes;
  if (o["pooling"].is_string()) expected_modes.push_back(mode_of(o["pooling"]));
  for (const json& p : o["pooling"].is_array() ? o["pooling"] : json::array()) expected_modes.push_back(mode_of(p));
  EXPECT_EQ(embedder.config().pooling_modes, expected_modes);
  EXPECT_EQ(embedder.config().pooling, expected_modes.front());
  EXPECT_EQ(embedder.config().normalize, o["normalize"].get<bool>());
  EXPECT_EQ(embedder.config().max_seq_length, o["max_seq_length"].get<std::size_t>());
  // The embedding width: sentence-transformers' output (the last Dense module's out_features, else hidden_size).
  const std::size_t width = c["expected"][0].size();
  EXPECT_EQ(embedder.config().dimension, width);
  if (o.contains("dimension")) {
    EXPECT_EQ(o["dimension"].get<std::size_t>(), width);
  }

  const auto sentences = c["inputs"]["sentences"].get<std::vector<std::string>>();
  const Tensor emb = embedder.encode(sentences, {.batch_size = 4});
  ASSERT_EQ(emb.dim(0), static_cast<std::int64_t>(sentences.size()));
  ASSERT_EQ(emb.dim(1), static_cast<std::int64_t>(width));
  const double worst = expect_rows_match(emb, c);
  std::cout << "[ max-abs  ] " << GetParam() << " (" << o["layout"].get<std::string>() << " layout): " << worst << '\n';
}

// truncate_dim keeps the first values of sentence-transformers' (normalized) embedding, not renormalized.
TEST(SentenceEmbedderTruncate, KeepsThePrefixOfTheEmbedding) {
  const fs::path dir = heads_dir("sentence-embeddings-dense");  // Dense modules, then Normalize
  const json c = json::parse(read_file(dir / "golden.json"))["cases"][0];
  const auto embedder = SentenceEmbedder::load(dir);
  const auto sentences = c["inputs"]["sentences"].get<std::vector<std::string>>();
  const std::size_t width = c["expected"][0].size();
  const Tensor cut = embedder.encode(sentences, {.batch_size = 4, .truncate_dim = 5});
  ASSERT_EQ(cut.dim(0), static_cast<std::int64_t>(sentences.size()));
  ASSERT_EQ(cut.dim(1), 5);
  const Tensor whole = embedder.encode(sentences, {.batch_size = 4});
  for (std::int64_t i = 0; i < cut.dim(0); ++i) {
    EXPECT_TRUE(std::equal(cut.row(i), cut.row(i) + 5, whole.row(i))) << "sentence " << i;
    for (std::size_t h = 0; h < 5; ++h) EXPECT_NEAR(cut.row(i)[h], c["expected"][i][h].get<double>(), kTolerance);
  }
  EXPECT_EQ(embedder.encode(sentences, {.truncate_dim = width + 7}).dim(1), static_cast<std::int64_t>(width));
  EXPECT_EQ(embedder.encode(std::vector<std::string>{}, {.truncate_dim = 5}).dim(1), 5);
  expect_error<InvalidArgumentError>([&] { embedder.encode({"x"}, {.truncate_dim = 0}); },
                                     "truncate_dim must be at least 1");
}

INSTANTIATE_TEST_SUITE_P(Heads, PoolingGolden,
                         ::testing::Values("cls", "max", "mean_sqrt_len", "weightedmean", "lasttoken", "dense", "concat",
                                           "concat-legacy"));

// ---- configuration ----------------------------------------------------------------------------------------------

// A directory whose model files link to the default model's, plus the given sentence-transformers files.
void link_default_model(const fs::path& dir, bool with_tokenizer_json = true) {
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "tokenizer.json"}) {
    if (!with_tokenizer_json && std::string(f) == "tokenizer.json") continue;
    fs::create_symlink(default_model_dir() / f, dir / f);
  }
}

TEST(SentenceEmbedderConfig, PlainCheckpointIsMeanPooledAndNotNormalized) {
  TempDir dir;
  link_default_model(dir.path());
  const auto embedder = SentenceEmbedder::load(dir.path());
  EXPECT_EQ(embedder.config().pooling, Pooling::mean);
  EXPECT_FALSE(embedder.config().normalize);
  EXPECT_EQ(embedder.config().max_seq_length, 512u);  // tokenizer_config.json model_max_length

  // The mean of the encoder's token vectors, computed here from BertModel directly.
  const std::vector<std::string> texts = {"Mean pooling by hand.", "Short"};
  const Tensor emb = embedder.encode(texts);
  const auto model = BertModel::load(default_model_dir());
  const EncoderOutput out = model.forward(texts);
  for (std::int64_t b = 0; b < 2; ++b) {
    const std::int64_t n = out.lengths[static_cast<std::size_t>(b)];
    for (std::int64_t h = 0; h < 384; ++h) {
      double sum = 0;
      for (std::int64_t t = 0; t < n; ++t) sum += out.last_hidden_state.at({b, t, h});
      EXPECT_NEAR(emb.at({b, h}), sum / static_cast<double>(n), 1e-6);
    }
  }
}

TEST(SentenceEmbedderConfig, DoLowerCaseLowercasesBeforeACasedTokenizer) {
  // vocab.txt with do_lower_case false (no tokenizer.json): "HELLO" is [UNK] unless sentence_bert_config.json asks
  // for lowercasing, as sentence-transformers' Transformer(do_lower_case=True) does.
  TempDir cased, lowered;
  for (const TempDir* d : {&cased, &lowered}) {
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt"}) {
      fs::create_symlink(default_model_dir() / f, d->path() / f);
    }
    write_file(d->path() / "tokenizer_config.json", R"({"do_lower_case": false, "model_max_length": 512})");
  }
  write_file(lowered.path() / "sentence_bert_config.json", R"({"max_seq_length": 64, "do_lower_case": true})");
  const auto plain = SentenceEmbedder::load(cased.path());
  const auto lowering = SentenceEmbedder::load(lowered.path());
  EXPECT_EQ(lowering.config().max_seq_length, 64u);
  const Tensor upper = lowering.encode({"HELLO WORLD"}), lower = plain.encode({"hello world"});
  const Tensor unk = plain.encode({"HELLO WORLD"});
  EXPECT_LE(max_abs(upper, lower), 1e-6);
  EXPECT_GT(max_abs(unk, lower), 1e-2);
}

TEST(SentenceEmbedderConfig, MaxSeqLengthIsCappedAtMaxPositionEmbeddings) {
  TempDir dir;
  link_default_model(dir.path());
  write_file(dir.path() / "sentence_bert_config.json", R"({"max_seq_length": 4096})");
  EXPECT_EQ(SentenceEmbedder::load(dir.path()).config().max_seq_length, 512u);
}

// modules.json + a pooling config.json in 1_Pooling; returns the layout read from them.
heads::SentenceTransformerLayout layout_of(const TempDir& dir, const std::string& modules, const std::string& pooling) {
  write_file(dir.path() / "modules.json", modules);
  fs::create_directories(dir.path() / "1_Pooling");
  write_file(dir.path() / "1_Pooling" / "config.json", pooling);
  return heads::read_sentence_transformer_layout(dir.path());
}

const std::string kTransformerPooling = R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}])";

TEST(SentenceEmbedderLayout, PoolingModesInBothSpellings) {
  TempDir dir;
  using Modes = std::vector<Pooling>;
  const auto modes = [&](const std::string& pooling) { return layout_of(dir, kTransformerPooling, pooling).pooling_modes; };
  EXPECT_EQ(modes(R"({"pooling_mode": "max"})"), Modes{Pooling::max});
  EXPECT_EQ(modes(R"({"pooling_mode": ["cls"]})"), Modes{Pooling::cls});
  EXPECT_EQ(modes(R"({"pooling_mode_mean_sqrt_len_tokens": true})"), Modes{Pooling::mean_sqrt_len});
  EXPECT_EQ(modes(R"({"pooling_mode": "weightedmean"})"), Modes{Pooling::weighted_mean});
  EXPECT_EQ(modes(R"({"pooling_mode_lasttoken": true})"), Modes{Pooling::last_token});
  // Several: the list in its own order (repeats kept), the legacy booleans in sentence-transformers' fixed order.
  EXPECT_EQ(modes(R"({"pooling_mode": ["mean", "cls", "mean"]})"), (Modes{Pooling::mean, Pooling::cls, Pooling::mean}));
  EXPECT_EQ(modes(R"({"pooling_mode_mean_tokens": true, "pooling_mode_lasttoken": true, "pooling_mode_cls_token": true})"),
            (Modes{Pooling::cls, Pooling::mean, Pooling::last_token}));
  // No mode set at all: sentence-transformers falls back to mean.
  const auto fallback = layout_of(dir, kTransformerPooling, R"({"word_embedding_dimension": 384})");
  EXPECT_EQ(fallback.pooling_modes, Modes{Pooling::mean});
  EXPECT_EQ(fallback.embedding_dimension, 384u);
  EXPECT_FALSE(fallback.normalize);
  EXPECT_TRUE(fallback.has_modules_json);
}

TEST(SentenceEmbedderLayout, TransformerInASubfolder) {
  TempDir dir;
  fs::create_directories(dir.path() / "0_Transformer");
  write_file(dir.path() / "0_Transformer" / "sentence_bert_config.json", R"({"max_seq_length": 100})");
  const auto layout = layout_of(dir, R"([
    {"idx": 0, "name": "0", "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])",
                                R"({"pooling_mode": "mean"})");
  EXPECT_EQ(layout.transformer_dir, dir.path() / "0_Transformer");
  EXPECT_EQ(layout.max_seq_length, 100u);
  EXPECT_TRUE(layout.normalize);
}

template <typename E>
void expect_layout_error(const std::string& modules, const std::string& pooling, const std::string& fragment) {
  TempDir dir;
  try {
    layout_of(dir, modules, pooling);
    ADD_FAILURE() << "expected an error containing " << fragment;
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(SentenceEmbedderLayout, ErrorsNameTheFileAndWhatIsWrong) {
  std::string many = R"({"pooling_mode": ["cls")";
  for (int i = 0; i < 16; ++i) many += R"(, "mean")";
  expect_layout_error<UnsupportedError>(kTransformerPooling, many + "]}",
                                        "1_Pooling/config.json: 17 pooling modes; bertcpp concatenates at most 16");
  expect_layout_error<ConfigError>(kTransformerPooling, R"({"pooling_mode": []})",
                                   "1_Pooling/config.json: field 'pooling_mode' is an empty list");
  expect_layout_error<ConfigError>(kTransformerPooling, R"({"pooling_mode": "median"})", "unknown pooling mode 'median'");
  expect_layout_error<ConfigError>(kTransformerPooling, R"({"pooling_mode_cls_token": "yes"})",
                                   "1_Pooling/config.json: field 'pooling_mode_cls_token'");
  expect_layout_error<FormatError>(kTransformerPooling, R"({"pooling_mode": )", "1_Pooling/config.json: invalid JSON");
  expect_layout_error<FormatError>("[{", "{}", "modules.json: invalid JSON");
  expect_layout_error<UnsupportedError>(R"([
    {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    {"idx": 2, "name": "2", "path": "2_LayerNorm", "type": "sentence_transformers.models.LayerNorm"}])",
                                        R"({"pooling_mode": "mean"})", "module type 'sentence_transformers.models.LayerNorm'");
  expect_layout_error<UnsupportedError>(
      R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])", "{}",
      "no Pooling module");
  expect_layout_error<ConfigError>(R"({"modules": []})", "{}", "modules.json: expected a list of modules");
}

TEST(SentenceEmbedderLayout, PoolingWidthMustMatchTheModel) {
  TempDir dir;
  link_default_model(dir.path());
  layout_of(dir, kTransformerPooling, R"({"embedding_dimension": 768, "pooling_mode": "mean"})");
  try {
    SentenceEmbedder::load(dir.path());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("embedding_dimension 768 does not match the model's hidden_size 384"),
              std::string::npos)
        << e.what();
  }
}

// ---- prompts (config_sentence_transformers.json) ---------------------------------------------------------------

class PromptGolden : public ::testing::TestWithParam<const char*> {};

// Every encode() call of the golden: the default prompt, a prompt_name, an explicit prompt, "" (default off); with
// the prompt's tokens left out of mean pooling (include_prompt false) and kept (cls pooling).
TEST_P(PromptGolden, MatchesSentenceTransformers) {
  const fs::path dir = heads_dir(std::string("sentence-embeddings-") + GetParam());
  const json golden = json::parse(read_file(dir / "golden.json"));
  const auto embedder = SentenceEmbedder::load(dir);
  ASSERT_GE(golden["cases"].size(), 3u);
  double worst = 0;
  for (const json& c : golden["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& o = c["options"];
    EXPECT_EQ(embedder.config().include_prompt, o["include_prompt"].get<bool>());
    EmbedOptions options{.batch_size = 3};
    if (!o["prompt_name"].is_null()) options.prompt_name = o["prompt_name"].get<std::string>();
    if (!o["prompt"].is_null()) options.prompt = o["prompt"].get<std::string>();
    const auto sentences = c["inputs"]["sentences"].get<std::vector<std::string>>();
    const std::string method = o["method"].get<std::string>();
    const Tensor emb = method == "encode_query"      ? embedder.encode_query(sentences, options)
                       : method == "encode_document" ? embedder.encode_document(sentences, options)
                                                     : embedder.encode(sentences, options);
    ASSERT_EQ(emb.dim(1), static_cast<std::int64_t>(c["expected"][0].size()));
    worst = std::max(worst, expect_rows_match(emb, c));
  }
  std::cout << "[ max-abs  ] " << GetParam() << ": " << worst << '\n';
}

INSTANTIATE_TEST_SUITE_P(Heads, PromptGolden, ::testing::Values("prompts", "prompts-included"));

TEST(SentenceEmbedderPrompts, ConfigIsReadAndUnknownNamesAreErrors) {
  const auto embedder = SentenceEmbedder::load(heads_dir("sentence-embeddings-prompts"));
  const SentenceEmbedderConfig& config = embedder.config();
  EXPECT_EQ(config.prompts.at("query"), "query: ");
  EXPECT_EQ(config.prompts.at("passage"), "passage: ");
  EXPECT_EQ(config.default_prompt_name, "query");
  EXPECT_FALSE(config.include_prompt);
  // The default prompt makes a difference (else the golden could not tell), and "" turns it off.
  const Tensor with_default = embedder.encode({"Where is the station?"});
  const Tensor off = embedder.encode({"Where is the station?"}, {.prompt = ""});
  const Tensor named = embedder.encode({"Where is the station?"}, {.prompt_name = "query"});
  EXPECT_GT(max_abs(with_default, off), 1e-3);
  EXPECT_EQ(max_abs(with_default, named), 0.0);
  expect_error<InvalidArgumentError>([&] { embedder.encode({"x"}, {.prompt_name = "question"}); },
                                     "prompt_name 'question' is not one of the model's prompts (document, passage, query)");
  EXPECT_THROW(embedder.encode({"x"}, {.prompt = "caf\xc3"}), Utf8Error);
  // No config_sentence_transformers.json: only the empty "query" and "document" prompts sentence-transformers
  // always has; naming them (or encode_query / encode_document) adds nothing to the text.
  const auto plain = SentenceEmbedder::load(heads_dir("sentence-embeddings-cls"));
  EXPECT_EQ(plain.config().prompts, (std::map<std::string, std::string>{{"document", ""}, {"query", ""}}));
  const Tensor none = plain.encode({"Where is the station?"});
  EXPECT_EQ(max_abs(plain.encode({"Where is the station?"}, {.prompt_name = "query"}), none), 0.0);
  EXPECT_EQ(max_abs(plain.encode_query({"Where is the station?"}), none), 0.0);
  EXPECT_EQ(max_abs(plain.encode_document({"Where is the station?"}), none), 0.0);
  // An explicit prompt or prompt_name wins over encode_query's "query".
  EXPECT_EQ(max_abs(embedder.encode_query({"Where is the station?"}, {.prompt_name = "passage"}),
                    embedder.encode({"Where is the station?"}, {.prompt_name = "passage"})),
            0.0);
  EXPECT_EQ(max_abs(embedder.encode_document({"Where is the station?"}, {.prompt = ""}), off), 0.0);
}

TEST(SentenceEmbedderPrompts, BadPromptConfigsNameTheField) {
  const auto expect_config_error = [](const std::string& prompts_json, const std::string& fragment) {
    TempDir dir;
    write_file(dir.path() / "config_sentence_transformers.json", prompts_json);
    expect_error<ConfigError>([&] { layout_of(dir, kTransformerPooling, R"({"pooling_mode": "mean"})"); }, fragment);
  };
  expect_config_error(R"({"prompts": {"query": "q: "}, "default_prompt_name": "passage"})",
                      "config_sentence_transformers.json: default_prompt_name 'passage' is not one of its prompts");
  expect_config_error(R"({"prompts": ["query: "]})", "field 'prompts' must be an object");
  expect_config_error(R"({"prompts": {"query": 3}})", "field 'prompts.query' must be a string");
  TempDir dir;
  write_file(dir.path() / "config_sentence_transformers.json", R"({"prompts": {"q": "q: "}, "default_prompt_name": null})");
  const auto layout = layout_of(dir, kTransformerPooling, R"({"pooling_mode": "mean", "include_prompt": false})");
  EXPECT_EQ(layout.prompts.at("q"), "q: ");
  EXPECT_FALSE(layout.default_prompt_name.has_value());
  EXPECT_FALSE(layout.include_prompt);
}

// ---- Dense modules ------------------------------------------------------------------------------------------------

const std::string kWithDense = R"([
  {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
  {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
  {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
  {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.base.modules.dense.Dense"},
  {"idx": 4, "name": "4", "path": "4_Normalize", "type": "sentence_transformers.models.Normalize"}])";

// kWithDense's layout with the two Dense configs given.
heads::SentenceTransformerLayout dense_layout_of(const TempDir& dir, const std::string& first, const std::string& second) {
  for (const auto& [name, config] : {std::pair{"2_Dense", first}, std::pair{"3_Dense", second}}) {
    fs::create_directories(dir.path() / name);
    write_file(dir.path() / name / "config.json", config);
  }
  return layout_of(dir, kWithDense, R"({"pooling_mode": "cls"})");
}

TEST(SentenceEmbedderLayout, DenseModulesInOrder) {
  TempDir dir;
  // The classic spelling (sentence-transformers 2: no activation key means Tanh) and the 6.x one.
  const auto layout = dense_layout_of(dir, R"({"in_features": 384, "out_features": 256})",
                                      R"({"in_features": 256, "out_features": 64, "bias": false,
                                          "activation_function": "torch.nn.modules.linear.Identity",
                                          "module_input_name": "sentence_embedding", "use_residual": true})");
  ASSERT_EQ(layout.dense.size(), 2u);
  EXPECT_EQ(layout.dense[0].dir, dir.path() / "2_Dense");
  EXPECT_EQ(layout.dense[0].in_features, 384u);
  EXPECT_EQ(layout.dense[0].out_features, 256u);
  EXPECT_TRUE(layout.dense[0].bias);
  EXPECT_EQ(layout.dense[0].activation, heads::DenseActivation::tanh);
  EXPECT_FALSE(layout.dense[0].use_residual);
  EXPECT_EQ(layout.dense[1].out_features, 64u);
  EXPECT_FALSE(layout.dense[1].bias);
  EXPECT_EQ(layout.dense[1].activation, heads::DenseActivation::identity);
  EXPECT_TRUE(layout.dense[1].use_residual);
  EXPECT_TRUE(layout.normalize);
}

template <typename E>
void expect_dense_error(const std::string& second, const std::string& fragment) {
  TempDir dir;
  expect_error<E>([&] { dense_layout_of(dir, R"({"in_features": 384, "out_features": 8})", second); }, fragment);
}

TEST(SentenceEmbedderLayout, DenseErrorsNameTheFileAndField) {
  expect_dense_error<UnsupportedError>(
      R"({"in_features": 8, "out_features": 8, "activation_function": "torch.nn.modules.activation.Softmax"})",
      "3_Dense/config.json: activation_function 'torch.nn.modules.activation.Softmax' is not supported");
  // A class outside torch (sentence-transformers imports it only with trust_remote_code).
  expect_dense_error<UnsupportedError>(R"({"in_features": 8, "out_features": 8, "activation_function": "my_pkg.Tanh"})",
                                       "activation_function 'my_pkg.Tanh' is not supported");
  expect_dense_error<UnsupportedError>(R"({"in_features": 8, "out_features": 8, "module_input_name": "token_embeddings"})",
                                       "module_input_name 'token_embeddings' is not supported");
  expect_dense_error<ConfigError>(R"({"out_features": 8})", "3_Dense/config.json: field 'in_features' is missing");
  expect_dense_error<ConfigError>(R"({"in_features": 0, "out_features": 8})", "3_Dense/config.json: field 'in_features'");
  expect_dense_error<ConfigError>(R"({"in_features": 8, "out_features": 8, "bias": "yes"})", "field 'bias'");
  // A Dense module after Normalize is not the order bertcpp runs.
  TempDir dir;
  fs::create_directories(dir.path() / "3_Dense");
  write_file(dir.path() / "3_Dense" / "config.json", R"({"in_features": 384, "out_features": 8})");
  expect_error<UnsupportedError>([&] {
    layout_of(dir, R"([
      {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
      {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
      {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
      {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}])",
              "{}");
  }, "module 3: 'sentence_transformers.models.Dense' out of place");
}

// The Dense fixture (tests/data/heads/sentence-embeddings-dense) in a temporary directory: its entries linked,
// except `replaced`, a Dense folder given as real files (config.json and model.safetensors copied, `config`
// written instead of the config when not empty, the weights left out when `weights` is false).
void dense_fixture(const TempDir& dir, const std::string& replaced, const std::string& config, bool weights = true) {
  const fs::path source = heads_dir("sentence-embeddings-dense");
  for (const auto& entry : fs::directory_iterator(source)) {
    const fs::path name = entry.path().filename();
    if (name == replaced) continue;
    fs::create_symlink(fs::canonical(entry.path()), dir.path() / name);
  }
  fs::create_directories(dir.path() / replaced);
  if (config.empty()) fs::copy_file(source / replaced / "config.json", dir.path() / replaced / "config.json");
  else write_file(dir.path() / replaced / "config.json", config);
  if (weights) fs::copy_file(source / replaced / "model.safetensors", dir.path() / replaced / "model.safetensors");
}

template <typename E>
void expect_dense_load_error(const std::string& replaced, const std::string& config, bool weights,
                             const std::string& fragment) {
  TempDir dir;
  dense_fixture(dir, replaced, config, weights);
  expect_error<E>([&] { SentenceEmbedder::load(dir.path()); }, fragment);
}

TEST(SentenceEmbedderDense, LoadErrorsNameTheModuleAndTensor) {
  // The fixture: hidden 32 -> 2_Dense 40 (tanh, bias) -> 3_Dense 24 (no bias) -> 4_Dense 24 (residual) -> 5_Dense 16.
  expect_dense_load_error<ConfigError>(
      "2_Dense", R"({"in_features": 48, "out_features": 40})", true,
      "2_Dense/config.json: in_features 48 does not match the model's hidden_size 32");
  expect_dense_load_error<ConfigError>(
      "3_Dense", R"({"in_features": 24, "out_features": 24, "bias": false})", true,
      "3_Dense/config.json: in_features 24 does not match the previous Dense module's out_features 40");
  // The config asks for a bias the weights do not have.
  expect_dense_load_error<FormatError>(
      "3_Dense", R"({"in_features": 40, "out_features": 24, "bias": true})", true, "linear.bias");
  // Sizes that do not match the stored weight.
  expect_dense_load_error<FormatError>(
      "5_Dense", R"({"in_features": 24, "out_features": 12, "use_residual": true,
                     "activation_function": "torch.nn.modules.activation.ReLU"})", true,
      "'linear.weight' has shape [16,24], expected [12,24]");
  // No weights at all, or only a pickle.
  expect_dense_load_error<IoError>("4_Dense", "", false, "4_Dense");
  TempDir pickled;
  dense_fixture(pickled, "4_Dense", "", false);
  write_file(pickled.path() / "4_Dense" / "pytorch_model.bin", "not read");
  expect_error<UnsupportedError>([&] { SentenceEmbedder::load(pickled.path()); },
                                 "4_Dense: the Dense weights are in pytorch_model.bin only");
}

TEST(SentenceEmbedderDense, ForwardOnKnownWeights) {
  // W [2, 3], b [2]; x [3].
  heads::DenseLayer layer;
  layer.in = 3;
  layer.out = 2;
  layer.weight = {1, 2, 3, -1, 0, 1};
  layer.bias = {0.5f, -0.5f};
  const float x[] = {1, 0.5f, -1};
  float y[2];
  // W x + b = [1 + 1 - 3 + 0.5, -1 + 0 - 1 - 0.5] = [-0.5, -2.5]
  layer.activation = heads::DenseActivation::identity;
  heads::dense_forward(layer, x, y);
  EXPECT_FLOAT_EQ(y[0], -0.5f);
  EXPECT_FLOAT_EQ(y[1], -2.5f);
  layer.activation = heads::DenseActivation::tanh;
  heads::dense_forward(layer, x, y);
  EXPECT_FLOAT_EQ(y[0], std::tanh(-0.5f));
  layer.activation = heads::DenseActivation::relu;
  heads::dense_forward(layer, x, y);
  EXPECT_EQ(y[0], 0.0f);
  layer.activation = heads::DenseActivation::gelu;
  heads::dense_forward(layer, x, y);
  EXPECT_NEAR(y[1], -2.5 * 0.5 * (1 + std::erf(-2.5 / std::sqrt(2.0))), 1e-7);
  layer.activation = heads::DenseActivation::sigmoid;
  heads::dense_forward(layer, x, y);
  EXPECT_NEAR(y[0], 1 / (1 + std::exp(0.5)), 1e-7);
  layer.activation = heads::DenseActivation::silu;
  heads::dense_forward(layer, x, y);
  EXPECT_NEAR(y[1], -2.5 / (1 + std::exp(2.5)), 1e-7);
  // Residual: the input projected by R [2, 3] and added after the activation.
  layer.activation = heads::DenseActivation::identity;
  layer.use_residual = true;
  layer.residual = {0, 0, 1, 1, 0, 0};  // picks x[2], x[0]
  heads::dense_forward(layer, x, y);
  EXPECT_FLOAT_EQ(y[0], -1.5f);
  EXPECT_FLOAT_EQ(y[1], -1.5f);
  // Without bias.
  layer.use_residual = false;
  layer.bias.clear();
  heads::dense_forward(layer, x, y);
  EXPECT_FLOAT_EQ(y[0], -1.0f);
}

// ---- pooling arithmetic -------------------------------------------------------------------------------------------

TEST(SentenceEmbedderPooling, EachModeOnAKnownMatrix) {
  // tokens [3, 2]
  const float tokens[] = {1, -2, 3, 4, -5, 0.5f};
  float out[2];
  heads::pool_tokens(Pooling::cls, tokens, 3, 2, out);
  EXPECT_EQ(out[0], 1);
  EXPECT_EQ(out[1], -2);
  heads::pool_tokens(Pooling::max, tokens, 3, 2, out);
  EXPECT_EQ(out[0], 3);
  EXPECT_EQ(out[1], 4);
  heads::pool_tokens(Pooling::mean, tokens, 3, 2, out);
  EXPECT_FLOAT_EQ(out[0], -1.0f / 3);
  EXPECT_FLOAT_EQ(out[1], 2.5f / 3);
  heads::pool_tokens(Pooling::mean_sqrt_len, tokens, 3, 2, out);
  EXPECT_FLOAT_EQ(out[0], static_cast<float>(-1.0 / std::sqrt(3.0)));
  EXPECT_FLOAT_EQ(out[1], static_cast<float>(2.5 / std::sqrt(3.0)));
  heads::pool_tokens(Pooling::weighted_mean, tokens, 3, 2, out);  // weights 1, 2, 3
  EXPECT_FLOAT_EQ(out[0], (1 * 1 + 2 * 3 + 3 * -5) / 6.0f);
  EXPECT_FLOAT_EQ(out[1], (1 * -2 + 2 * 4 + 3 * 0.5f) / 6.0f);
  heads::pool_tokens(Pooling::last_token, tokens, 3, 2, out);
  EXPECT_EQ(out[0], -5);
  EXPECT_EQ(out[1], 0.5f);
  float v[] = {3, 4};
  heads::l2_normalize(v, 2);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  float zero[] = {0, 0};
  heads::l2_normalize(zero, 2);  // torch's eps: stays zero, no NaN
  EXPECT_EQ(zero[0], 0.0f);
}

}  // namespace
// similarity(): sentence-transformers' four functions against plain double arithmetic, the model's choice from
// config_sentence_transformers.json, and shape errors.
TEST(SentenceEmbedderSimilarity, FunctionsMatchTheirDefinitions) {
  const Tensor a = [] {
    Tensor t({2, 3});
    t.data = {1.0f, 2.0f, 2.0f, 0.0f, -3.0f, 4.0f};
    return t;
  }();
  const Tensor b = [] {
    Tensor t({3, 3});
    t.data = {2.0f, 0.0f, 0.0f, 1.0f, 2.0f, 2.0f, 0.0f, 0.0f, 0.0f};
    return t;
  }();
  // Rows of a: norms 3 and 5; rows of b: norms 2, 3 and 0 (cosine: divided by 1e-12 -> 0).
  const std::vector<std::pair<std::string, std::vector<float>>> cases = {
      {"cosine", {2.0f / 6.0f, 1.0f, 0.0f, 0.0f, 2.0f / 15.0f, 0.0f}},
      {"dot", {2.0f, 9.0f, 0.0f, 0.0f, 2.0f, 0.0f}},
      {"euclidean", {-std::sqrt(9.0f), 0.0f, -3.0f, -std::sqrt(4.0f + 9.0f + 16.0f), -std::sqrt(1.0f + 25.0f + 4.0f), -5.0f}},
      {"manhattan", {-5.0f, 0.0f, -5.0f, -9.0f, -8.0f, -7.0f}},
  };
  for (const auto& [name, expected] : cases) {
    SCOPED_TRACE(name);
    TempDir dir;
    link_default_model(dir.path());
    write_file(dir.path() / "modules.json", kTransformerPooling);
    fs::create_directories(dir.path() / "1_Pooling");
    write_file(dir.path() / "1_Pooling" / "config.json", R"({"pooling_mode": "mean"})");
    write_file(dir.path() / "config_sentence_transformers.json",
               R"({"similarity_fn_name": ")" + (name == "dot" ? std::string("dot_product") : name) + R"("})");
    const auto embedder = SentenceEmbedder::load(dir.path());
    const Tensor s = embedder.similarity(a, b);
    ASSERT_EQ(s.shape, (std::vector<std::int64_t>{2, 3}));
    for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(s.data[i], expected[i], 1e-6) << "entry " << i;
    // Pairwise: row i with row i, the diagonal of the matrix.
    Tensor b2({2, 3});
    b2.data.assign(b.data.begin(), b.data.begin() + 6);
    const Tensor pair = embedder.similarity_pairwise(a, b2);
    ASSERT_EQ(pair.shape, (std::vector<std::int64_t>{2}));
    EXPECT_NEAR(pair.data[0], expected[0], 1e-6);
    EXPECT_NEAR(pair.data[1], expected[4], 1e-6);
  }
  const auto plain = SentenceEmbedder::load(heads_dir("sentence-embeddings-cls"));
  EXPECT_EQ(plain.config().similarity, Similarity::cosine);  // none named
  Tensor wrong({2, 4});
  expect_error<InvalidArgumentError>([&] { plain.similarity(a, wrong); },
                                     "expected two [rows, D] tensors of the same D, got [2, 3] and [2, 4]");
  wrong.data.resize(3);
  expect_error<InvalidArgumentError>([&] { plain.similarity(wrong, wrong); }, "(3 and 3 values)");
  expect_error<InvalidArgumentError>([&] { plain.similarity_pairwise(a, b); },
                                     "similarity_pairwise: expected two [rows, D] tensors of the same shape, got [2, 3] and [3, 3]");
  wrong.shape = {std::int64_t{1} << 40, std::int64_t{1} << 40};  // the product overflows 64 bits
  expect_error<InvalidArgumentError>([&] { plain.similarity(wrong, wrong); }, "(3 and 3 values)");
  TempDir dir;
  write_file(dir.path() / "config_sentence_transformers.json", R"({"similarity_fn_name": "maxsim"})");
  expect_error<UnsupportedError>([&] { layout_of(dir, kTransformerPooling, R"({"pooling_mode": "mean"})"); },
                                 "config_sentence_transformers.json: similarity_fn_name 'maxsim' is not one bertcpp "
                                 "computes (cosine, dot, euclidean, manhattan)");
}

}  // namespace bertcpp::testing
