// Next-sentence prediction: does sentence B follow sentence A? (BertForPreTraining / BertForNextSentencePrediction,
// e.g. bert-base-uncased.)
//
//   example_nsp MODEL_DIR ["sentence A" "sentence B"]
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [\"sentence A\" \"sentence B\"]\n", argv[0]);
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"She opened the umbrella.", "It had started to rain."},
      {"She opened the umbrella.", "Penguins live in the southern hemisphere."}};
  if (argc > 3) pairs = {{argv[2], argv[3]}};
  try {
    const auto nsp = bertcpp::NextSentencePredictor::load(argv[1]);
    for (const auto& [a, b] : pairs) {
      const bertcpp::NextSentence r = nsp.predict(a, b);
      std::printf("p(is next) = %.4f   %s | %s\n", r.is_next, a.c_str(), b.c_str());
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
