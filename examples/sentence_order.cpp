// Sentence-order prediction with an ALBERT pretraining checkpoint (AlbertForPreTraining, e.g. albert-base-v2):
// are two segments in their original order, or swapped?
//
//   example_sentence_order MODEL_DIR ["segment A" "segment B"]
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [\"segment A\" \"segment B\"]\n", argv[0]);
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> pairs = {
      {"She opened the umbrella.", "It had started to rain."},
      {"It had started to rain.", "She opened the umbrella."}};
  if (argc > 3) pairs = {{argv[2], argv[3]}};
  try {
    const auto sop = bertcpp::SentenceOrderPredictor::load(argv[1]);
    for (const auto& [a, b] : pairs) {
      const bertcpp::SentenceOrder r = sop.predict(a, b);
      std::printf("p(in order) = %.4f   %s | %s\n", r.in_order, a.c_str(), b.c_str());
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
