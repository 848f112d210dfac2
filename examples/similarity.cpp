// Sentence similarity with the default model: embed sentences as sentence-transformers does, compare them.
//
//   example_similarity [MODEL_DIR] ["sentence" ...]
//
// all-MiniLM-L6-v2 is a sentence-transformers model: SentenceEmbedder reproduces SentenceTransformer.encode
// (mean of the token vectors, L2-normalized), so a dot product is a cosine.
#include <cstdio>
#include <string>
#include <vector>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "models/cache/all-MiniLM-L6-v2";
  std::vector<std::string> sentences(argv + std::min(argc, 2), argv + argc);
  if (sentences.empty()) {
    sentences = {"A man is eating food.", "A man is eating a piece of bread.", "The new movie is awesome.",
                 "The film was a great watch.", "Der Zug kommt um acht Uhr an.", "How do I reset my password?",
                 "I forgot my login credentials."};
  }
  try {
    // Reads modules.json, 1_Pooling/config.json and sentence_bert_config.json: mean pooling, then Normalize.
    const auto embedder = bertcpp::SentenceEmbedder::load(dir);
    const bertcpp::Tensor emb = embedder.encode(sentences);  // [sentences, hidden], L2-normalized
    const std::int64_t H = emb.dim(1);

    std::printf("%s: %zu sentences, hidden %lld\n\n", dir.c_str(), sentences.size(), static_cast<long long>(H));
    for (std::size_t i = 0; i < sentences.size(); ++i) std::printf("  [%zu] %s\n", i, sentences[i].c_str());
    std::printf("\ncosine similarity\n    ");
    for (std::size_t j = 0; j < sentences.size(); ++j) std::printf("    [%zu]", j);
    std::printf("\n");
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      std::printf("[%zu] ", i);
      for (std::size_t j = 0; j < sentences.size(); ++j) {
        double dot = 0;
        for (std::int64_t h = 0; h < H; ++h) dot += double(emb.row(i)[h]) * emb.row(j)[h];
        std::printf(" %6.3f", dot);
      }
      std::printf("\n");
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error (%s): %s\n", std::string(to_string(e.code())).c_str(), e.what());
    return 1;
  }
}
