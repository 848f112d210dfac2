// The `bertcpp` command line, run as a separate process on the tiny fixture checkpoints of tests/data/encoder:
// record shapes, values against the golden transformers outputs, error records in place, exit statuses.
#include <sys/wait.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "encoder_golden_util.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

using nlohmann::json;

struct RunResult {
  int status = -1;
  std::string out, err;
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
};

// Runs `bertcpp args...` with `input` on stdin; captures stdout, stderr and the exit status.
RunResult run_cli(const std::vector<std::string>& args, const std::string& input = "") {
  const ProcessResult p = run_process(kCli, args, input);
  return RunResult{p.status, p.out, p.err};
}

// The fixture checkpoint the CLI runs on (F32 weights, with pooler, 2 layers, hidden 48).
std::filesystem::path fixture_dir() { return data_dir() / "encoder" / "bert_h48_gelu_f32"; }

struct FixtureConfig {
  std::int64_t hidden, layers, vocab, max_positions, type_vocab;
};

FixtureConfig fixture_config() {
  const json c = json::parse(read_file(fixture_dir() / "config.json"));
  return {c.at("hidden_size").get<std::int64_t>(), c.at("num_hidden_layers").get<std::int64_t>(),
          c.at("vocab_size").get<std::int64_t>(), c.at("max_position_embeddings").get<std::int64_t>(),
          c.at("type_vocab_size").get<std::int64_t>()};
}

std::string ids_line(const std::vector<int>& ids) { return json{{"input_ids", ids}}.dump() + "\n"; }

// Checks that `value` is a [rows][cols] array of numbers.
void expect_matrix_shape(const json& value, std::size_t rows, std::size_t cols, const std::string& what) {
  ASSERT_TRUE(value.is_array()) << what;
  ASSERT_EQ(value.size(), rows) << what;
  for (const auto& row : value) {
    ASSERT_TRUE(row.is_array()) << what;
    ASSERT_EQ(row.size(), cols) << what;
    for (const auto& x : row) ASSERT_TRUE(x.is_number()) << what;
  }
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kCli == nullptr) GTEST_SKIP() << "built without the CLI (BERTCPP_BUILD_EXAMPLES=OFF)";
  }
};

// The golden inputs (right-padded, with masks) through `bertcpp encode --batch-size 3`: 4 lines -> two forward
// calls; every output line matches transformers within 1e-4 at the real tokens and is zero at masked ones.
TEST_F(Cli, EncodeMatchesTransformersAndKeepsOrder) {
  const GoldenFile golden(fixture_dir() / "golden_mixed.safetensors");
  const Tensor expected_last = golden.tensor("last_hidden_state");  // [B, T, H]
  const Tensor expected_pooler = golden.tensor("pooler_output");    // [B, H]
  const std::int64_t B = golden.batch(), T = golden.seq_len(), H = expected_last.dim(2);

  std::string input;
  for (std::int64_t b = 0; b < B; ++b) {
    const auto row = [&](const std::vector<std::int64_t>& v) {
      return std::vector<std::int64_t>(v.begin() + b * T, v.begin() + (b + 1) * T);
    };
    input += json{{"input_ids", row(golden.input_ids())},
                  {"token_type_ids", row(golden.token_type_ids())},
                  {"attention_mask", row(golden.attention_mask())}}
                 .dump() +
             "\n";
  }
  const RunResult r = run_cli({"encode", "--model", fixture_dir().string(), "--batch-size", "3"}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err, "");  // stderr is not a terminal and --progress is off: silent
  const auto lines = r.lines();
  ASSERT_EQ(static_cast<std::int64_t>(lines.size()), B);

  for (std::int64_t b = 0; b < B; ++b) {
    const json record = json::parse(lines[b]);
    expect_matrix_shape(record.at("last_hidden_state"), T, H, "line " + std::to_string(b + 1));
    ASSERT_EQ(record.at("pooler_output").size(), static_cast<std::size_t>(H));
    EXPECT_FALSE(record.contains("hidden_states"));
    double worst = 0;
    for (std::int64_t t = 0; t < T; ++t) {
      const bool real = golden.attention_mask()[b * T + t] != 0;
      for (std::int64_t h = 0; h < H; ++h) {
        const double got = record["last_hidden_state"][t][h].get<double>();
        if (real) worst = std::max(worst, std::abs(got - expected_last.at({b, t, h})));
        else ASSERT_EQ(got, 0.0) << "masked token " << t << " of line " << b + 1;
      }
    }
    EXPECT_LE(worst, 1e-4) << "last_hidden_state of line " << b + 1;
    double worst_pooler = 0;
    for (std::int64_t h = 0; h < H; ++h) {
      worst_pooler = std::max(worst_pooler, std::abs(record["pooler_output"][h].get<double>() -
                                                     expected_pooler.at({b, h})));
    }
    EXPECT_LE(worst_pooler, 1e-4) << "pooler_output of line " << b + 1;
  }
}

// --hidden-states adds [L+1][T][H]; --no-pooler drops pooler_output; token_type_ids / mask are optional; the
// default precision (shortest round trip) reads back as exactly the float --precision 9 writes.
TEST_F(Cli, EncodeFlagsShapeTheRecord) {
  const FixtureConfig c = fixture_config();
  const std::string input = ids_line({2, 7, 9, 3}) + ids_line({5});
  const RunResult r = run_cli({"encode", "-m", fixture_dir().string(), "--hidden-states", "--no-pooler"}, input);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 2u);
  const std::size_t lengths[] = {4, 1};
  for (std::size_t i = 0; i < 2; ++i) {
    const json record = json::parse(lines[i]);
    EXPECT_FALSE(record.contains("pooler_output"));
    expect_matrix_shape(record.at("last_hidden_state"), lengths[i], c.hidden, "last_hidden_state");
    const json& hs = record.at("hidden_states");
    ASSERT_EQ(hs.size(), static_cast<std::size_t>(c.layers + 1));
    for (const auto& layer : hs) expect_matrix_shape(layer, lengths[i], c.hidden, "hidden_states");
    EXPECT_EQ(hs.back(), record["last_hidden_state"]);  // the last layer's output is last_hidden_state
  }

  const RunResult p9 = run_cli({"encode", "-m", fixture_dir().string(), "--precision", "9"}, input);
  const RunResult shortest = run_cli({"encode", "-m", fixture_dir().string()}, input);
  ASSERT_EQ(p9.status, 0) << p9.err;
  ASSERT_EQ(shortest.status, 0) << shortest.err;
  const json a = json::parse(p9.lines()[0]), b = json::parse(shortest.lines()[0]);
  for (std::int64_t h = 0; h < c.hidden; ++h) {
    EXPECT_EQ(static_cast<float>(a["last_hidden_state"][0][h].get<double>()),
              static_cast<float>(b["last_hidden_state"][0][h].get<double>()));
  }
}

// --precision 3 writes at most 3 significant digits per number.
TEST_F(Cli, PrecisionLimitsDigits) {
  const RunResult r = run_cli({"encode", "-m", fixture_dir().string(), "--precision", "3"}, ids_line({1, 2, 3}));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::regex number(R"(-?(\d+)(?:\.(\d+))?(?:e[+-]?\d+)?)");
  std::size_t numbers = 0;
  const std::string& text = r.out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it) {
    std::string digits = (*it)[1].str() + (*it)[2].str();
    digits.erase(0, digits.find_first_not_of('0'));
    EXPECT_LE(digits.size(), 3u) << it->str();
    ++numbers;
  }
  EXPECT_GT(numbers, 3u * 48u);
}

// Each bad line becomes {"error", "line"} in its place; the good lines around it are encoded; exit status 1.
TEST_F(Cli, BadLinesBecomeErrorRecordsInPlace) {
  const FixtureConfig c = fixture_config();
  const std::string too_long = json{{"input_ids", std::vector<int>(c.max_positions + 1, 5)}}.dump();
  struct Case {
    std::string line;
    std::string fragment;  // expected in "error"; empty: a valid line
  };
  const std::vector<Case> cases = {
      {R"({"input_ids": [1, 2, 3]})", ""},
      {R"(this is not json)", "not valid JSON"},
      {R"({"token_type_ids": [0, 0]})", "missing \"input_ids\""},
      {R"({"input_ids": "1 2 3"})", "\"input_ids\" must be an array of integers, found string"},
      {R"({"input_ids": [1, 2.5]})", "input_ids[1] is 2.5, expected an integer"},
      {R"({"input_ids": [1, )" + std::to_string(c.vocab) + "]}",
       "input_ids[1] = " + std::to_string(c.vocab) + " is outside the vocabulary [0, " + std::to_string(c.vocab) + ")"},
      {R"({"input_ids": [-1]})", "input_ids[0] = -1 is outside the vocabulary"},
      {R"({"input_ids": []})", "\"input_ids\" is empty"},
      {too_long, "more than the model accepts (max_sequence_length " + std::to_string(c.max_positions) + ")"},
      {R"({"input_ids": [1, 2], "token_type_ids": [0]})", "\"token_type_ids\" has 1 values, expected 2"},
      {R"({"input_ids": [1, 2], "token_type_ids": [0, )" + std::to_string(c.type_vocab) + "]}",
       "token_type_ids[1] = " + std::to_string(c.type_vocab) + " is outside [0, " + std::to_string(c.type_vocab) +
           ") (type_vocab_size)"},
      {R"({"input_ids": [1, 2], "attention_mask": [1, 2]})", "attention_mask[1] = 2 is not 0 or 1"},
      {R"([1, 2, 3])", "expected a JSON object with \"input_ids\", found array"},
      {"", "not valid JSON"},
      {R"({"input_ids": [4, 5], "token_type_ids": null, "attention_mask": [1, 0]})", ""},
  };
  std::string input;
  for (const auto& k : cases) input += k.line + "\n";
  // Batch size 4: bad lines sit inside batches, not only between them.
  const RunResult r = run_cli({"encode", "--model", fixture_dir().string(), "--batch-size", "4"}, input);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("rejected"), std::string::npos) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), cases.size()) << r.out;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const json record = json::parse(lines[i]);
    if (cases[i].fragment.empty()) {
      EXPECT_FALSE(record.contains("error")) << lines[i];
      EXPECT_TRUE(record.contains("last_hidden_state")) << "line " << i + 1;
    } else {
      ASSERT_TRUE(record.contains("error")) << "line " << i + 1 << ": " << cases[i].line;
      EXPECT_NE(record["error"].get<std::string>().find(cases[i].fragment), std::string::npos)
          << "line " << i + 1 << ": " << record["error"];
      EXPECT_EQ(record.at("line").get<std::size_t>(), i + 1);
      EXPECT_FALSE(record.contains("last_hidden_state"));
    }
  }
  // The masked second token of the last line is a zero row.
  const json last = json::parse(lines.back());
  for (const auto& x : last["last_hidden_state"][1]) EXPECT_EQ(x.get<double>(), 0.0);
}

// A batch that forward() rejects as a whole (every token masked out) is retried line by line, so only the
// offending line gets the error.
TEST_F(Cli, ForwardRejectionIsAttributedToItsLine) {
  const std::string input = ids_line({1, 2}) + R"({"input_ids": [3, 4], "attention_mask": [0, 0]})" "\n" +
                            ids_line({5, 6, 7});
  const RunResult r = run_cli({"encode", "--model", fixture_dir().string(), "--batch-size", "8"}, input);
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u) << r.out << r.err;
  EXPECT_TRUE(json::parse(lines[0]).contains("last_hidden_state"));
  EXPECT_TRUE(json::parse(lines[2]).contains("last_hidden_state"));
  const json middle = json::parse(lines[1]);
  if (middle.contains("error")) {
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(middle.at("line").get<int>(), 2);
  } else {  // the engine accepts an all-masked sequence: then every row of it is zero
    EXPECT_EQ(r.status, 0);
    for (const auto& row : middle.at("last_hidden_state")) {
      for (const auto& x : row) EXPECT_EQ(x.get<double>(), 0.0);
    }
  }
}

TEST_F(Cli, InputAndOutputFiles) {
  TempDir tmp;
  write_file(tmp.path() / "in.jsonl", ids_line({1, 2, 3}) + ids_line({4, 5}));
  const auto out = tmp.path() / "out.jsonl";
  const RunResult r = run_cli({"encode", "-m", fixture_dir().string(), "--input", (tmp.path() / "in.jsonl").string(),
                               "--output", out.string(), "--progress"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("2 lines, 0 errors"), std::string::npos) << r.err;  // --progress: final count on stderr
  std::istringstream written(read_file(out));
  std::vector<std::string> lines;
  for (std::string line; std::getline(written, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[1]).at("last_hidden_state").size(), 2u);

  const RunResult missing = run_cli({"encode", "-m", fixture_dir().string(), "--input", (tmp.path() / "nope").string()});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("cannot open for reading"), std::string::npos) << missing.err;
  EXPECT_EQ(missing.out, "");
}

TEST_F(Cli, BadModelDirectoryExitsTwo) {
  const RunResult absent = run_cli({"encode", "--model", "/nonexistent/bertcpp-model"}, ids_line({1}));
  EXPECT_EQ(absent.status, 2);
  EXPECT_NE(absent.err.find("cannot load model '/nonexistent/bertcpp-model'"), std::string::npos) << absent.err;
  EXPECT_EQ(absent.out, "");

  TempDir dir;
  write_file(dir.path() / "config.json", "{\"hidden_size\": ");
  const RunResult malformed = run_cli({"encode", "--model", dir.path().string()}, ids_line({1}));
  EXPECT_EQ(malformed.status, 2);
  EXPECT_NE(malformed.err.find("config.json"), std::string::npos) << malformed.err;
  EXPECT_EQ(malformed.out, "");
}

TEST_F(Cli, UsageErrorsAndHelp) {
  const RunResult no_model = run_cli({"encode"});
  EXPECT_EQ(no_model.status, 2);
  EXPECT_NE(no_model.err.find("--model"), std::string::npos) << no_model.err;

  const RunResult bad_batch = run_cli({"encode", "-m", fixture_dir().string(), "--batch-size", "0"});
  EXPECT_EQ(bad_batch.status, 2);

  const RunResult no_command = run_cli({});
  EXPECT_EQ(no_command.status, 2);

  const RunResult help = run_cli({"encode", "--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* flag : {"--model", "--input", "--output", "--threads", "--batch-size", "--no-pooler",
                           "--precision", "--hidden-states", "--progress", "last_hidden_state", "pooler_output",
                           "\"error\"", "Exit status"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
  const RunResult top = run_cli({"--help"});
  EXPECT_EQ(top.status, 0);
  EXPECT_NE(top.out.find("encode"), std::string::npos);
  EXPECT_NE(top.out.find("bench"), std::string::npos);
}

TEST_F(Cli, BenchPrintsTiming) {
  const RunResult r = run_cli({"bench", "-m", fixture_dir().string(), "--batch", "3", "--seq", "5", "--iters",
                               "3", "--warmup", "1", "--threads", "1"});
  ASSERT_EQ(r.status, 0) << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report.at("batch").get<int>(), 3);
  EXPECT_EQ(report.at("seq_len").get<int>(), 5);
  EXPECT_EQ(report.at("tokens").get<int>(), 15);
  EXPECT_EQ(report.at("threads").get<int>(), 1);
  EXPECT_EQ(report.at("iters").get<int>(), 3);
  const json& ms = report.at("latency_ms");
  EXPECT_GT(ms.at("min").get<double>(), 0.0);
  EXPECT_LE(ms.at("min").get<double>(), ms.at("median").get<double>());
  EXPECT_LE(ms.at("median").get<double>(), ms.at("max").get<double>());
  EXPECT_NEAR(report.at("tokens_per_s").get<double>(), 15.0 / (ms.at("median").get<double>() / 1e3), 1e-6 * 15e6);

  TempDir tmp;
  write_file(tmp.path() / "in.jsonl", ids_line({1, 2, 3, 4}) + ids_line({5, 6}));
  const RunResult from_file = run_cli({"bench", "-m", fixture_dir().string(), "--input",
                                       (tmp.path() / "in.jsonl").string(), "--iters", "1"});
  ASSERT_EQ(from_file.status, 0) << from_file.err;
  const json file_report = json::parse(from_file.out);
  EXPECT_EQ(file_report.at("batch").get<int>(), 2);
  EXPECT_EQ(file_report.at("seq_len").get<int>(), 4);
  EXPECT_EQ(file_report.at("tokens").get<int>(), 6);

  // Without a user choice the CLI runs with a short OpenMP spin (GOMP_SPINCOUNT=3000, so two processes on the
  // same cores do not starve each other); a user's OMP_WAIT_POLICY or GOMP_SPINCOUNT is kept as it is.
  const std::vector<std::string> bench_args = {kCli, "bench", "-m", fixture_dir().string(), "--seq", "4", "--iters", "1"};
  std::vector<std::string> unset = {"-u", "OMP_WAIT_POLICY", "-u", "GOMP_SPINCOUNT"};
  unset.insert(unset.end(), bench_args.begin(), bench_args.end());
  const ProcessResult spin_default = run_process("/usr/bin/env", unset, "");
  ASSERT_EQ(spin_default.status, 0) << spin_default.err;
  EXPECT_EQ(json::parse(spin_default.out).at("openmp").at("GOMP_SPINCOUNT"), "3000");
  EXPECT_TRUE(json::parse(spin_default.out).at("openmp").at("OMP_WAIT_POLICY").is_null());
  std::vector<std::string> passive = {"-u", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY=passive"};
  passive.insert(passive.end(), bench_args.begin(), bench_args.end());
  const ProcessResult user_policy = run_process("/usr/bin/env", passive, "");
  ASSERT_EQ(user_policy.status, 0) << user_policy.err;
  EXPECT_EQ(json::parse(user_policy.out).at("openmp").at("OMP_WAIT_POLICY"), "passive");
  EXPECT_TRUE(json::parse(user_policy.out).at("openmp").at("GOMP_SPINCOUNT").is_null());

  const FixtureConfig c = fixture_config();
  const RunResult too_long = run_cli({"bench", "-m", fixture_dir().string(), "--seq",
                                      std::to_string(c.max_positions + 1)});
  EXPECT_EQ(too_long.status, 2);
  EXPECT_NE(too_long.err.find("max_sequence_length " + std::to_string(c.max_positions)), std::string::npos) << too_long.err;
}

// `bertcpp tokenize`: plain lines and {"text", "text_pair"} records give the library's encodings, with the
// transformers field names; invalid UTF-8 is an error record naming the byte offset.
TEST_F(Cli, TokenizeWritesEveryFieldAndErrorRecords) {
  const std::string model = (data_dir() / "tokenizer").string();
  const RunResult r = run_cli({"tokenize", "-m", model},
                              "Hello, world!\n{\"text\": \"Who?\", \"text_pair\": \"Paris.\"}\nok \xff\n");
  EXPECT_EQ(r.status, 1) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u);
  const json hello = json::parse(lines[0]);
  EXPECT_EQ(hello.at("input_ids"), json({101, 7592, 1010, 2088, 999, 102}));
  EXPECT_EQ(hello.at("tokens"), json({"[CLS]", "hello", ",", "world", "!", "[SEP]"}));
  EXPECT_EQ(hello.at("offset_mapping"), json::parse("[[0,0],[0,5],[5,6],[7,12],[12,13],[0,0]]"));
  EXPECT_EQ(hello.at("word_ids"), json::parse("[null,0,1,2,3,null]"));
  const json pair = json::parse(lines[1]);
  EXPECT_EQ(pair.at("token_type_ids"), json({0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(pair.at("special_tokens_mask"), json({1, 0, 0, 1, 0, 0, 1}));
  const json bad = json::parse(lines[2]);
  EXPECT_EQ(bad.at("line").get<int>(), 3);
  EXPECT_NE(bad.at("error").get<std::string>().find("invalid UTF-8 at byte 3"), std::string::npos) << lines[2];
}

TEST_F(Cli, TokenizeWindowsWithStride) {
  const std::string model = (data_dir() / "tokenizer").string();
  const RunResult r = run_cli({"tokenize", "-m", model, "--truncation", "longest_first", "--max-length", "6",
                               "--stride", "2"},
                              "one two three four five six seven\n");
  ASSERT_EQ(r.status, 0) << r.err;
  const json enc = json::parse(r.lines().at(0));
  EXPECT_EQ(enc.at("input_ids").size(), 6u);
  ASSERT_TRUE(enc.contains("overflowing"));
  EXPECT_GE(enc.at("overflowing").size(), 1u);
}

// `bertcpp encode` with text records uses the model directory's tokenizer: same numbers as the token ids.
TEST_F(Cli, EncodeAcceptsText) {
  const std::string model = default_model_dir().string();
  const RunResult text = run_cli({"encode", "-m", model, "--no-pooler"}, "{\"text\": \"Hello, world!\"}\n");
  const RunResult ids = run_cli({"encode", "-m", model, "--no-pooler"},
                                "{\"input_ids\": [101, 7592, 1010, 2088, 999, 102]}\n");
  ASSERT_EQ(text.status, 0) << text.err;
  ASSERT_EQ(ids.status, 0) << ids.err;
  EXPECT_EQ(text.out, ids.out);
  // A checkpoint without tokenizer files answers text records with an error record.
  const RunResult none = run_cli({"encode", "-m", fixture_dir().string()}, "{\"text\": \"hi\"}\n");
  EXPECT_EQ(none.status, 1);
  EXPECT_NE(none.out.find("no tokenizer"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace bertcpp::testing
