// Tokenizer throughput, one thread: the parity corpus (tests/data/tokenizer/corpus.jsonl, 2.7k short lines in
// 30 scripts) encoded line by line, and the same corpus as one large text. Reports MB/s of UTF-8 input
// (bytes_per_second) and tokens/s (special tokens included, as HF counts len(input_ids)).
//
//   build/bench/tokenizer_bench [--benchmark_format=json]
//   python3 bench/hf_tokenizer_bench.py build/bench/tokenizer_bench   # HF tokenizers on the same input + ratio
#include <bertcpp/tokenizer.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const std::filesystem::path kDataDir = std::filesystem::path(BERTCPP_TEST_DATA_DIR) / "tokenizer";

const std::vector<std::string>& corpus_lines() {
  static const std::vector<std::string> lines = [] {
    std::ifstream in(kDataDir / "corpus.jsonl", std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + (kDataDir / "corpus.jsonl").string());
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    return out;
  }();
  return lines;
}

// All lines joined by '\n': a document of about 200 kB.
const std::string& corpus_text() {
  static const std::string text = [] {
    std::string joined;
    for (const std::string& line : corpus_lines()) joined += line + '\n';
    return joined;
  }();
  return text;
}

const bertcpp::Tokenizer& tokenizer(bool lowercase) {
  static const bertcpp::Tokenizer uncased = bertcpp::Tokenizer::from_tokenizer_json(kDataDir / "tokenizer.json");
  static const bertcpp::Tokenizer cased = [] {
    bertcpp::Tokenizer::WordPieceOptions options;
    options.do_lower_case = false;
    return bertcpp::Tokenizer::from_vocab(kDataDir / "vocab.txt", options);
  }();
  return lowercase ? uncased : cased;
}

void report(benchmark::State& state, std::size_t bytes, std::size_t tokens, std::size_t texts) {
  const auto runs = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes));
  state.counters["tokens/s"] = benchmark::Counter(runs * static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["texts/s"] = benchmark::Counter(runs * static_cast<double>(texts), benchmark::Counter::kIsRate);
  state.counters["tokens"] = static_cast<double>(tokens);
}

// Every corpus line encoded on its own ([CLS] line [SEP], offsets included), as a batch of short texts would be.
void BM_EncodeLines(benchmark::State& state) {
  const bertcpp::Tokenizer& tok = tokenizer(state.range(0) != 0);
  const std::vector<std::string>& lines = corpus_lines();
  std::size_t bytes = 0, tokens = 0;
  for (const std::string& line : lines) bytes += line.size();
  for (auto _ : state) {
    tokens = 0;
    for (const std::string& line : lines) {
      bertcpp::Encoding e = tok.encode(line);
      tokens += e.size();
      benchmark::DoNotOptimize(e.input_ids.data());
    }
  }
  report(state, bytes, tokens, lines.size());
}
BENCHMARK(BM_EncodeLines)->ArgName("uncased")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

// The whole corpus as one text, no truncation.
void BM_EncodeLargeText(benchmark::State& state) {
  const bertcpp::Tokenizer& tok = tokenizer(state.range(0) != 0);
  const std::string& text = corpus_text();
  std::size_t tokens = 0;
  for (auto _ : state) {
    bertcpp::Encoding e = tok.encode(text);
    tokens = e.size();
    benchmark::DoNotOptimize(e.input_ids.data());
  }
  report(state, text.size(), tokens, 1);
}
BENCHMARK(BM_EncodeLargeText)->ArgName("uncased")->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
