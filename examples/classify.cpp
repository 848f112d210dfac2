// Text classification (sentiment, topic, NLI...) with a *ForSequenceClassification checkpoint of any supported variant.
//
//   example_classify MODEL_DIR "text" ["second text of a pair"]
//
// Scores are what transformers' text-classification pipeline reports: softmax over the labels, or sigmoid for a
// single-label or multi-label model (config.json problem_type).
#include <cstdio>
#include <string>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR \"text\" [\"text pair\"]\n", argv[0]);
    return 2;
  }
  try {
    const auto classifier = bertcpp::SequenceClassifier::load(argv[1]);
    bertcpp::ClassifyOptions options;
    options.top_k = 0;  // every label, best first
    const bertcpp::Classification result =
        argc > 3 ? classifier.classify(argv[2], argv[3], options) : classifier.classify(argv[2], options);
    for (const auto& [label, score] : result.labels) std::printf("%-20s %.4f\n", label.c_str(), score);
    std::printf("logits:");
    for (float v : result.logits) std::printf(" %.4f", v);
    std::printf("\n");
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
