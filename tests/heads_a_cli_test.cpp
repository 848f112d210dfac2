// The task subcommands `bertcpp classify`, `nsp`, `fill-mask`, `embed` end to end: the goldens of tests/data/heads
// (and the default model's sentence embeddings) through the command line, error records in place, exit statuses.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliRun {
  int status = -1;
  std::vector<json> records;  // stdout, one JSON value per line
  std::string err;
};

// `bertcpp args...` with `lines` on stdin, one per line.
CliRun run(const std::vector<std::string>& args, const std::vector<std::string>& lines) {
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

fs::path heads_dir(const std::string& name) { return data_dir() / "heads" / name; }
json golden(const std::string& name) { return json::parse(read_file(heads_dir(name) / "golden.json")); }

class HeadsCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kCli) GTEST_SKIP() << "the bertcpp CLI is not built (BERTCPP_BUILD_EXAMPLES=OFF)";
  }
};

TEST_F(HeadsCli, ClassifyMatchesThePipelineAndReportsBadLinesInPlace) {
  const json g = golden("text-classification");
  std::vector<std::string> lines;
  std::vector<const json*> cases;
  for (const json& c : g["cases"]) {
    if (!c["options"]["top_k"].is_null() || !c["options"]["function_to_apply"].is_null()) continue;
    lines.push_back(json{{"text", c["inputs"]["text"]}, {"text_pair", c["inputs"]["text_pair"]}}.dump());
    cases.push_back(&c);
  }
  ASSERT_GE(lines.size(), 4u);
  lines.insert(lines.begin() + 1, R"({"text": 42})");
  lines.insert(lines.begin() + 3, "not json");
  const CliRun r = run({"classify", "-m", heads_dir("text-classification").string(), "--top-k", "0", "--logits", "-b", "3"}, lines);
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(r.records.size(), lines.size());
  EXPECT_EQ(r.records[1]["error"], "\"text\" must be a string, found number");
  EXPECT_EQ(r.records[1]["line"], 2);
  EXPECT_EQ(r.records[3]["line"], 4);
  std::size_t next = 0;
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    if (i == 1 || i == 3) continue;
    const json& c = *cases[next++];
    const json& rec = r.records[i];
    ASSERT_EQ(rec["labels"].size(), c["expected"].size()) << rec;
    for (std::size_t j = 0; j < rec["labels"].size(); ++j) {
      EXPECT_EQ(rec["labels"][j]["label"], c["expected"][j]["label"]);
      EXPECT_NEAR(rec["labels"][j]["score"].get<double>(), c["expected"][j]["score"].get<double>(), 1e-4);
    }
    for (std::size_t j = 0; j < c["logits"].size(); ++j) {
      EXPECT_NEAR(rec["logits"][j].get<double>(), c["logits"][j].get<double>(), 1e-4);
    }
  }
}

TEST_F(HeadsCli, NspMatchesTransformers) {
  const json g = golden("next-sentence");
  std::vector<std::string> lines;
  for (const json& c : g["cases"]) lines.push_back(c["inputs"].dump());
  lines.push_back(R"({"text": "only one"})");
  const CliRun r = run({"nsp", "-m", heads_dir("next-sentence").string(), "--logits"}, lines);
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(r.records.size(), lines.size());
  for (std::size_t i = 0; i < g["cases"].size(); ++i) {
    EXPECT_NEAR(r.records[i]["is_next"].get<double>(), g["cases"][i]["expected"]["is_next"].get<double>(), 1e-4);
    EXPECT_NEAR(r.records[i]["logits"][0].get<double>(), g["cases"][i]["logits"][0].get<double>(), 1e-4);
  }
  EXPECT_EQ(r.records.back()["error"], "missing \"text_pair\"");
}

TEST_F(HeadsCli, FillMaskMatchesThePipelineWithTargets) {
  const json g = golden("fill-mask");
  const json* with_targets = nullptr;
  for (const json& c : g["cases"]) {
    if (!c["options"]["targets"].is_null() && !c["options"]["top_k"].is_null()) with_targets = &c;
  }
  ASSERT_NE(with_targets, nullptr);
  std::string targets;
  for (const auto& t : (*with_targets)["options"]["targets"]) {
    if (!targets.empty()) targets += ',';
    targets += t.get<std::string>();
  }
  const CliRun r = run({"fill-mask", "-m", heads_dir("fill-mask").string(), "--top-k",
                     std::to_string((*with_targets)["options"]["top_k"].get<int>()), "--targets", targets},
                    {json{{"text", (*with_targets)["inputs"]["text"]}}.dump(), R"({"text": "no mask"})"});
  EXPECT_EQ(r.status, 1) << r.err;
  ASSERT_EQ(r.records.size(), 2u);
  json expected = (*with_targets)["expected"];
  if (!expected[0].is_array()) expected = json::array({expected});  // the pipeline's flat list for one mask
  const json& got = r.records[0]["predictions"];
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t m = 0; m < got.size(); ++m) {
    ASSERT_EQ(got[m].size(), expected[m].size());
    for (std::size_t j = 0; j < got[m].size(); ++j) {
      EXPECT_EQ(got[m][j]["token"], expected[m][j]["token"]);
      EXPECT_EQ(got[m][j]["token_str"], expected[m][j]["token_str"]);
      EXPECT_EQ(got[m][j]["sequence"], expected[m][j]["sequence"]);
      EXPECT_NEAR(got[m][j]["score"].get<double>(), expected[m][j]["score"].get<double>(), 1e-4);
    }
  }
  EXPECT_NE(r.records[1]["error"].get<std::string>().find("no mask token '[MASK]'"), std::string::npos);
  // Targets outside the vocabulary are announced on stderr.
  if (targets.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos) {
    EXPECT_NE(r.err.find("target not in the vocabulary"), std::string::npos) << r.err;
  }
}

TEST_F(HeadsCli, EmbedMatchesSentenceTransformers) {
  const json g = json::parse(read_file(data_dir() / "minilm" / "sentence_embeddings.json"));
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < 6; ++i) lines.push_back(json{{"text", g["sentences"][i]}}.dump());
  const CliRun r = run({"embed", "-m", default_model_dir().string(), "-b", "4"}, lines);
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_EQ(r.records.size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const json& e = r.records[i]["embedding"];
    ASSERT_EQ(e.size(), 384u);
    double worst = 0;
    for (std::size_t h = 0; h < 384; ++h) {
      worst = std::max(worst, std::abs(e[h].get<double>() - g["embeddings"][i][h].get<double>()));
    }
    EXPECT_LE(worst, 1e-4) << "sentence " << i;
  }
}

// --prompt-name / --prompt / the model's default prompt, and the Dense modules' width, through the command line.
TEST_F(HeadsCli, EmbedPromptsAndDenseModulesMatchSentenceTransformers) {
  const auto check = [&](const std::string& dir, const json& c, std::vector<std::string> args) {
    SCOPED_TRACE(dir + ": " + c["name"].get<std::string>());
    std::vector<std::string> lines;
    for (const auto& s : c["inputs"]["sentences"]) lines.push_back(json{{"text", s}}.dump());
    std::vector<std::string> cmd = {"embed", "-m", heads_dir(dir).string(), "-b", "3"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    const CliRun r = run(cmd, lines);
    EXPECT_EQ(r.status, 0) << r.err;
    ASSERT_EQ(r.records.size(), lines.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const json& e = r.records[i]["embedding"];
      ASSERT_EQ(e.size(), c["expected"][i].size());
      for (std::size_t h = 0; h < e.size(); ++h) EXPECT_NEAR(e[h].get<double>(), c["expected"][i][h].get<double>(), 1e-4);
    }
  };
  const json prompts = golden("sentence-embeddings-prompts");
  for (const json& c : prompts["cases"]) {
    std::vector<std::string> args;
    // encode_query / encode_document without a prompt: on the command line, --prompt-name query / document.
    const std::string method = c["options"]["method"].get<std::string>();
    if (method != "encode") args = {"--prompt-name", method == "encode_query" ? "query" : "document"};
    if (!c["options"]["prompt_name"].is_null()) args = {"--prompt-name", c["options"]["prompt_name"].get<std::string>()};
    if (!c["options"]["prompt"].is_null()) args = {"--prompt", c["options"]["prompt"].get<std::string>()};
    check("sentence-embeddings-prompts", c, args);
  }
  check("sentence-embeddings-dense", golden("sentence-embeddings-dense")["cases"][0], {});
  // --truncate-dim: the first N values of the same embeddings.
  json truncated = golden("sentence-embeddings-dense")["cases"][0];
  for (json& row : truncated["expected"]) row.erase(row.begin() + 3, row.end());
  check("sentence-embeddings-dense", truncated, {"--truncate-dim", "3"});
  const CliRun zero = run({"embed", "-m", heads_dir("sentence-embeddings-dense").string(), "--truncate-dim", "0"},
                          {R"({"text": "hi"})"});
  EXPECT_EQ(zero.status, 2) << zero.err;
  EXPECT_NE(zero.err.find("--truncate-dim"), std::string::npos) << zero.err;
  const CliRun bad = run({"embed", "-m", heads_dir("sentence-embeddings-prompts").string(), "--prompt-name", "question"},
                         {R"({"text": "hi"})"});
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(bad.records.empty());
  EXPECT_NE(bad.err.find("--prompt-name 'question' is not one of the model's prompts (document, passage, query)"),
            std::string::npos)
      << bad.err;
}

TEST_F(HeadsCli, ModelWithoutTheHeadIsASetupErrorNamingTheTensor) {
  const CliRun r = run({"classify", "-m", default_model_dir().string()}, {R"({"text": "hi"})"});
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(r.records.empty());
  EXPECT_NE(r.err.find("missing tensor 'classifier.weight' needed by the sequence-classification head"), std::string::npos)
      << r.err;
  const CliRun fm = run({"fill-mask", "-m", heads_dir("fill-mask").string(), "--targets", "\x01"}, {R"({"text": "[MASK]"})"});
  EXPECT_EQ(fm.status, 2);
  EXPECT_NE(fm.err.find("no usable target"), std::string::npos) << fm.err;
}

}  // namespace
}  // namespace bertcpp::testing
