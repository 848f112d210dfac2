// `bertcpp nsp`: sentence pairs in, the probability that the second follows the first out (docs/cli.md).
#include "bertcpp/pipelines.hpp"
#include "sentence_pair.hpp"

namespace bertcpp::cli {

Subcommand add_nsp(CLI::App& parent) {
  const SentencePairCommand command{
      "nsp",
      "Next-sentence prediction (cls.seq_relationship): {\"text\", \"text_pair\"} per line, p(is next) out",
      "Checkpoint directory with an NSP head (BertForPreTraining / BertForNextSentencePrediction)",
      "is_next",
      "index 0: is next",
      "{\"is_next\": 0.97, \"logits\": [2.1, -1.3]}"};
  return add_sentence_pair_command<NextSentencePredictor>(parent, command,
                                                          [](const NextSentence& r) { return r.is_next; });
}

}  // namespace bertcpp::cli
