// Issue 14, reproduction 10: a config.json with fewer layers than its checkpoint used to run silently.
// transformers loads such a checkpoint and warns that some weights were not used; BertModel::load records the same
// finding (load_warnings(), LoadOptions::on_warning) and the CLI prints it once on stderr. A checkpoint that
// matches its config gives no warning.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"
#include "weights/checkpoint.hpp"
#include "weights/layout.hpp"
#include "weights/safetensors.hpp"
#include "weights/unused_tensors.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp {
namespace {

using testing::kCli;

namespace fs = std::filesystem;
using nlohmann::json;
using testing::TempDir;

// A 2-layer BERT (model.safetensors holds encoder.layer.0 and encoder.layer.1, no prefix).
fs::path encoder_fixture() { return testing::data_dir() / "encoder" / "bert_h48_gelu_f32"; }

bool contains(const std::string& text, const std::string& fragment) { return text.find(fragment) != std::string::npos; }

std::size_t occurrences(const std::string& text, const std::string& fragment) {
  std::size_t n = 0;
  for (std::size_t at = text.find(fragment); at != std::string::npos; at = text.find(fragment, at + 1)) ++n;
  return n;
}

// `from` with its config.json rewritten by `edit` and every other entry symlinked.
void copy_with_config(const fs::path& from, const fs::path& to, const std::function<void(json&)>& edit) {
  for (const auto& entry : fs::directory_iterator(from))
    if (entry.path().filename() != "config.json") fs::create_symlink(fs::canonical(entry.path()), to / entry.path().filename());
  json config = json::parse(testing::read_file(from / "config.json"));
  edit(config);
  testing::write_file(to / "config.json", config.dump(2));
}

// The names of layer `layer`'s 16 tensors in a BERT checkpoint, with `prefix`.
std::vector<std::string> bert_layer_tensors(const std::string& prefix, int layer) {
  std::vector<std::string> names;
  const std::string scope = prefix + "encoder.layer." + std::to_string(layer) + ".";
  for (const char* module : {"attention.self.query", "attention.self.key", "attention.self.value",
                             "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
                             "output.dense", "output.LayerNorm"})
    for (const char* part : {".weight", ".bias"}) names.push_back(scope + module + part);
  return names;
}

TEST(UnusedWeights, FewerLayersInTheConfigThanInTheCheckpointWarnNamingTheUnusedTensors) {
  TempDir tmp;
  copy_with_config(encoder_fixture(), tmp.path(), [](json& c) { c["num_hidden_layers"] = 1; });
  std::vector<std::string> reported;
  LoadOptions options;
  options.on_warning = [&reported](const std::string& warning) { reported.push_back(warning); };
  const BertModel model = BertModel::load(tmp.path(), options);

  ASSERT_EQ(model.load_warnings().size(), 1u);
  EXPECT_EQ(reported, model.load_warnings());  // the callback sees each warning once
  const std::string& warning = model.load_warnings()[0];
  EXPECT_TRUE(warning.starts_with("model.safetensors: 1 stored layer beyond config.json num_hidden_layers 1 not "
                                  "used (16 tensors): "))
      << warning;
  for (const std::string& name : bert_layer_tensors("", 1)) EXPECT_TRUE(contains(warning, "'" + name + "'")) << name;
  for (const std::string& name : bert_layer_tensors("", 0)) EXPECT_FALSE(contains(warning, "'" + name + "'")) << name;
  // The model still runs, with the one layer the config names (as transformers does).
  Batch batch;
  batch.add({2, 7, 3});
  EXPECT_EQ(model.forward(batch).last_hidden_state.shape, (std::vector<std::int64_t>{1, 3, 48}));
}

TEST(UnusedWeights, ACheckpointThatMatchesItsConfigGivesNoWarning) {
  // Every checkpoint fixture of the repository loads without a warning: all model types (BERT, RoBERTa, XLM-R,
  // ALBERT with shared groups, ELECTRA with and without projection, DistilBERT), *For<Task> prefixes with their
  // head tensors outside the encoder, sharded checkpoints, legacy gamma/beta names, old position_ids buffers.
  std::size_t checked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(testing::data_dir())) {
    const fs::path dir = entry.path();
    if (!entry.is_directory() || !fs::exists(dir / "config.json")) continue;
    if (!fs::exists(dir / "model.safetensors") && !fs::exists(dir / "model.safetensors.index.json")) continue;
    // A sentence-transformers Dense module's folder has the same two files but is not a model (no model_type).
    if (!nlohmann::json::parse(testing::read_file(dir / "config.json")).contains("model_type")) continue;
    LoadOptions options;
    options.tokenizer = false;
    const BertModel model = BertModel::load(dir, options);
    EXPECT_TRUE(model.load_warnings().empty()) << dir << ": " << model.load_warnings().front();
    ++checked;
  }
  EXPECT_GE(checked, 15u);
  const fs::path model = testing::default_model_dir();
  if (fs::exists(model / "model.safetensors")) {
    LoadOptions options;
    options.tokenizer = false;
    EXPECT_TRUE(BertModel::load(model, options).load_warnings().empty());  // it stores embeddings.position_ids
  }
}

TEST(UnusedWeights, TensorsUnknownToTheModelTypeAreNamedApartFromExtraLayers) {
  // The fixture's tensors plus one stray tensor inside a used layer, one more layer, and a head tensor outside
  // the "bert." prefix (a task head's, never reported by the encoder).
  const weights::SafetensorsFile original = weights::SafetensorsFile::open(encoder_fixture() / "model.safetensors");
  std::vector<testing::StTensor> tensors;
  for (const auto& [name, view] : original.tensors())
    tensors.push_back({"bert." + name, view.dtype_name, view.shape,
                       std::string(reinterpret_cast<const char*>(view.data), view.nbytes)});
  const std::string four_floats = testing::f32_bytes({1, 2, 3, 4});
  tensors.push_back({"bert.encoder.layer.0.attention.self.rotary.weight", "F32", {4}, four_floats});
  tensors.push_back({"bert.encoder.layer.7.output.dense.bias", "F32", {4}, four_floats});
  tensors.push_back({"classifier.weight", "F32", {4}, four_floats});
  TempDir tmp;
  testing::write_file(tmp.path() / "model.safetensors", testing::st_file(tensors));
  fs::copy_file(encoder_fixture() / "config.json", tmp.path() / "config.json");

  LoadOptions options;
  options.tokenizer = false;
  const BertModel model = BertModel::load(tmp.path(), options);
  ASSERT_EQ(model.load_warnings().size(), 2u);
  EXPECT_EQ(model.load_warnings()[0],
            "model.safetensors: 1 stored layer beyond config.json num_hidden_layers 2 not used (1 tensor): "
            "'bert.encoder.layer.7.output.dense.bias'");
  EXPECT_EQ(model.load_warnings()[1],
            "model.safetensors: 1 tensor under 'bert.' not used by a bert encoder: "
            "'bert.encoder.layer.0.attention.self.rotary.weight'");

  // The same through the weights layer, as sorted names.
  weights::Checkpoint checkpoint = weights::Checkpoint::open(tmp.path());
  const ModelConfig config = model.config();
  const weights::CheckpointLayout layout = weights::checkpoint_layout(config);
  checkpoint.select_prefix({"bert.", ""}, layout.word_embeddings);
  EXPECT_EQ(weights::unused_encoder_tensors(checkpoint, layout),
            (std::vector<std::string>{"bert.encoder.layer.0.attention.self.rotary.weight",
                                      "bert.encoder.layer.7.output.dense.bias"}));
}

TEST(UnusedWeights, ManyUnusedTensorsAreListedUpToALimit) {
  TempDir tmp;
  const weights::SafetensorsFile original = weights::SafetensorsFile::open(encoder_fixture() / "model.safetensors");
  std::vector<testing::StTensor> tensors;
  for (const auto& [name, view] : original.tensors())
    tensors.push_back({name, view.dtype_name, view.shape, std::string(reinterpret_cast<const char*>(view.data), view.nbytes)});
  for (int i = 0; i < 70; ++i)
    tensors.push_back({"stray." + std::to_string(100 + i), "F32", {1}, testing::f32_bytes({0})});
  testing::write_file(tmp.path() / "model.safetensors", testing::st_file(tensors));
  fs::copy_file(encoder_fixture() / "config.json", tmp.path() / "config.json");
  LoadOptions options;
  options.tokenizer = false;
  const BertModel model = BertModel::load(tmp.path(), options);
  ASSERT_EQ(model.load_warnings().size(), 1u);
  const std::string& warning = model.load_warnings()[0];
  EXPECT_TRUE(warning.starts_with("model.safetensors: 70 tensors not used by a bert encoder: "
                                  "'stray.100', 'stray.101'"))
      << warning;
  EXPECT_TRUE(warning.ends_with("'stray.163', ... and 6 more")) << warning;
}

TEST(UnusedWeights, AlbertGroupsPastNumHiddenGroupsAreReported) {
  // ALBERT stores layer groups, not layers: with num_hidden_groups lowered from 2 to 1 the second group's
  // tensors are unused (every layer then runs group 0).
  const fs::path albert = testing::data_dir() / "variants" / "albert_e24_g2_i2_f16";
  ASSERT_EQ(json::parse(testing::read_file(albert / "config.json")).at("num_hidden_groups"), 2);
  TempDir tmp;
  copy_with_config(albert, tmp.path(), [](json& c) { c["num_hidden_groups"] = 1; });
  LoadOptions options;
  options.tokenizer = false;
  const BertModel model = BertModel::load(tmp.path(), options);
  ASSERT_EQ(model.load_warnings().size(), 1u);
  const std::string& warning = model.load_warnings()[0];
  EXPECT_TRUE(contains(warning, "1 stored layer group beyond config.json num_hidden_groups 1 not used ("))
      << warning;
  EXPECT_TRUE(contains(warning, "encoder.albert_layer_groups.1.albert_layers.0.ffn.weight'")) << warning;
  EXPECT_FALSE(contains(warning, "encoder.albert_layer_groups.0.")) << warning;
}

TEST(UnusedWeights, TheCliPrintsEachWarningOnceOnStderr) {
  if (kCli == nullptr) GTEST_SKIP() << "built without the CLI (BERTCPP_BUILD_EXAMPLES=OFF)";
  TempDir tmp;
  copy_with_config(encoder_fixture(), tmp.path(), [](json& c) { c["num_hidden_layers"] = 1; });
  const testing::ProcessResult cut = testing::run_process(kCli, {"encode", "-m", tmp.path().string()}, "{\"input_ids\":[2,7,3]}\n");
  EXPECT_EQ(cut.status, 0) << cut.err;
  EXPECT_EQ(occurrences(cut.err, "bertcpp encode: warning: model.safetensors: 1 stored layer beyond config.json num_hidden_layers 1"), 1u)
      << cut.err;
  EXPECT_TRUE(contains(cut.err, "'encoder.layer.1.output.LayerNorm.weight'")) << cut.err;
  EXPECT_TRUE(contains(cut.out, "last_hidden_state")) << cut.out;

  const testing::ProcessResult exact =
      testing::run_process(kCli, {"encode", "-m", encoder_fixture().string()}, "{\"input_ids\":[2,7,3]}\n");
  EXPECT_EQ(exact.status, 0) << exact.err;
  EXPECT_FALSE(contains(exact.err, "warning")) << exact.err;

  // A task pipeline (sentence embeddings over a sharded checkpoint) passes the warning on once too.
  TempDir embed;
  const fs::path embed_fixture = testing::data_dir() / "heads" / "sentence-embeddings-cls";
  const int layers = json::parse(testing::read_file(embed_fixture / "config.json")).at("num_hidden_layers");
  ASSERT_GE(layers, 2);
  copy_with_config(embed_fixture, embed.path(), [&](json& c) { c["num_hidden_layers"] = layers - 1; });
  const testing::ProcessResult e = testing::run_process(kCli, {"embed", "-m", embed.path().string()}, "{\"text\":\"a b\"}\n");
  EXPECT_EQ(e.status, 0) << e.err;
  EXPECT_EQ(occurrences(e.err, "bertcpp embed: warning: "), 1u) << e.err;
  EXPECT_TRUE(contains(e.err, "encoder.layer." + std::to_string(layers - 1) + ".attention.self.query.weight'"))
      << e.err;
}

}  // namespace
}  // namespace bertcpp
