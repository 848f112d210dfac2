// Extractive question answering with a *ForQuestionAnswering checkpoint of any supported variant.
//
//   example_qa <checkpoint-dir> "Where do I live?" "My name is Wolfgang and I live in Berlin."
//
// Prints the three best answers: score, character range in the context, and the answer text.
#include <iostream>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: " << argv[0] << " <checkpoint-dir> <question> <context>\n";
    return 2;
  }
  try {
    const auto qa = bertcpp::QuestionAnswerer::load(argv[1]);

    bertcpp::QaOptions options;
    options.top_k = 3;
    options.handle_impossible_answer = true;  // the empty answer may win when nothing fits

    // Long contexts are split into windows of max_seq_len tokens overlapping by doc_stride.
    for (const bertcpp::Answer& a : qa.answer(argv[2], argv[3], options)) {
      if (a.answer.empty()) {
        std::cout << a.score << "\t(no answer)\n";
      } else {
        std::cout << a.score << "\t[" << a.start << ", " << a.end << ")\t" << a.answer << "\n";
      }
    }
  } catch (const bertcpp::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
