// `bertcpp sop`: sentence pairs in, ALBERT's probability that they are in their original order out (docs/cli.md).
#include "bertcpp/pipelines.hpp"
#include "sentence_pair.hpp"

namespace bertcpp::cli {

Subcommand add_sop(CLI::App& parent) {
  const SentencePairCommand command{
      "sop",
      "Sentence-order prediction (ALBERT sop_classifier): {\"text\", \"text_pair\"} per line, p(in order) out",
      "ALBERT directory with an SOP head (AlbertForPreTraining)",
      "in_order",
      "index 0: original order, 1: swapped",
      "{\"in_order\": 0.93, \"logits\": [1.6, -1.0]}"};
  return add_sentence_pair_command<SentenceOrderPredictor>(parent, command,
                                                           [](const SentenceOrder& r) { return r.in_order; });
}

}  // namespace bertcpp::cli
