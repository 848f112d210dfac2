// Masked-word prediction with a *ForMaskedLM checkpoint of any variant (e.g. bert-base-uncased, roberta-base,
// albert-base-v2, distilbert-base-uncased, an ELECTRA generator).
//
//   example_fill_mask MODEL_DIR ["text with [MASK]"] [target ...]
//
// "[MASK]" in the text stands for the model's mask token (RoBERTa / XLM-R: "<mask>"). One list of candidates per
// mask in the text, best first, as transformers' fill-mask pipeline returns them.
// With targets, only those words are scored.
#include <cstdio>
#include <string>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [\"text with [MASK]\"] [target ...]\n", argv[0]);
    return 2;
  }
  std::string text = argc > 2 ? argv[2] : "Paris is the [MASK] of France.";
  bertcpp::FillMaskOptions options;
  options.top_k = 5;
  for (int i = 3; i < argc; ++i) options.targets.emplace_back(argv[i]);
  try {
    const auto fill_mask = bertcpp::FillMask::load(argv[1]);
    for (std::size_t at = text.find("[MASK]"); at != std::string::npos; at = text.find("[MASK]", at + 1)) {
      text.replace(at, 6, fill_mask.mask_token());
    }
    const auto masks = fill_mask.fill(text, options);
    for (std::size_t m = 0; m < masks.size(); ++m) {
      std::printf("mask %zu:\n", m + 1);
      for (const auto& p : masks[m]) {
        std::printf("  %.4f  %-12s  %s\n", p.score, p.token_str.c_str(), p.sequence.c_str());
      }
    }
  } catch (const bertcpp::InvalidArgumentError& e) {  // e.g. no [MASK] in the text
    std::fprintf(stderr, "bad input: %s\n", e.what());
    return 1;
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
