// Replaced-token detection with an ELECTRA discriminator (ElectraForPreTraining, e.g.
// google/electra-small-discriminator): which tokens of a text look substituted?
//
//   example_replaced_tokens MODEL_DIR ["text"]
#include <cstdio>
#include <string>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [\"text\"]\n", argv[0]);
    return 2;
  }
  const std::string text = argc > 2 ? argv[2] : "The quick brown fox ate over the lazy dog.";
  try {
    const auto detector = bertcpp::ReplacedTokenDetector::load(argv[1]);
    for (const bertcpp::TokenJudgement& t : detector.detect(text)) {
      if (t.special) continue;
      std::printf("%-14s [%3zu,%3zu)  p(replaced) = %.3f%s\n", t.token.c_str(), t.start, t.end, t.probability,
                  t.replaced ? "  <- replaced" : "");
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
