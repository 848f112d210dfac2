// Named entities in a text with a *ForTokenClassification checkpoint of any supported variant.
//
//   example_ner <checkpoint-dir> "Angela Merkel met Emmanuel Macron in Paris."
//
// Prints one line per entity: its group (PER, LOC, ...), score, the character range and the text it covers.
#include <iostream>
#include <string>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " <checkpoint-dir> <text>\n";
    return 2;
  }
  try {
    const auto ner = bertcpp::TokenClassifier::load(argv[1]);
    const std::string text = argv[2];

    bertcpp::NerOptions options;
    options.aggregation = bertcpp::Aggregation::first;  // one label per word, words grouped into entities
    options.stride = 8;  // texts longer than the model window: windows sharing 8 tokens, entities merged

    for (const bertcpp::Entity& e : ner.recognize(text, options)) {
      // byte_start / byte_end index the UTF-8 string; start / end count code points, as Python does.
      std::cout << e.entity_group << "\t" << e.score << "\t[" << e.start << ", " << e.end << ")\t"
                << text.substr(e.byte_start, e.byte_end - e.byte_start) << "\n";
    }
  } catch (const bertcpp::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
