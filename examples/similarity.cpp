// Sentence similarity with the default model: tokenize, encode, mean-pool, L2-normalize, compare.
//
//   example_similarity [MODEL_DIR] ["sentence" ...]
//
// all-MiniLM-L6-v2 is a sentence-transformers model: its sentence embedding is the mean of the token vectors
// over the attention mask, L2-normalized (1_Pooling/config.json, 2_Normalize), so a dot product is a cosine.
#include <cmath>
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
    const auto tokenizer = bertcpp::Tokenizer::load(dir);
    const auto model = bertcpp::BertModel::load(dir, {.pooler_output = false});

    bertcpp::EncodeOptions options;
    options.truncation = bertcpp::Truncation::longest_first;
    options.max_length = 256;  // sentence_bert_config.json: max_seq_length
    bertcpp::Batch batch;
    for (const auto& s : sentences) batch.add(tokenizer.encode(s, options).input_ids);
    const bertcpp::EncoderOutput out = model.forward(batch);

    // Mean over each sentence's tokens, then L2 normalization.
    const std::int64_t H = model.config().hidden_size;
    std::vector<std::vector<float>> emb(sentences.size(), std::vector<float>(H, 0.0f));
    for (std::size_t b = 0; b < sentences.size(); ++b) {
      const std::int64_t len = out.lengths[b];
      for (std::int64_t t = 0; t < len; ++t)
        for (std::int64_t h = 0; h < H; ++h) emb[b][h] += out.last_hidden_state.row(b)[t * H + h] / len;
      double norm = 0;
      for (float v : emb[b]) norm += double(v) * v;
      for (float& v : emb[b]) v = static_cast<float>(v / std::sqrt(norm));
    }

    std::printf("%s: %zu sentences, hidden %lld\n\n", dir.c_str(), sentences.size(), static_cast<long long>(H));
    for (std::size_t i = 0; i < sentences.size(); ++i) std::printf("  [%zu] %s\n", i, sentences[i].c_str());
    std::printf("\ncosine similarity\n    ");
    for (std::size_t j = 0; j < sentences.size(); ++j) std::printf("    [%zu]", j);
    std::printf("\n");
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      std::printf("[%zu] ", i);
      for (std::size_t j = 0; j < sentences.size(); ++j) {
        double dot = 0;
        for (std::int64_t h = 0; h < H; ++h) dot += double(emb[i][h]) * emb[j][h];
        std::printf(" %6.3f", dot);
      }
      std::printf("\n");
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error (%s): %s\n", std::string(to_string(e.code())).c_str(), e.what());
    return 1;
  }
}
