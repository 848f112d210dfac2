// Sentence embeddings and semantic search, as SentenceTransformer.encode computes them.
//
//   example_embed [MODEL_DIR] ["query"]
//
// The model directory's modules.json decides pooling and normalization (all-MiniLM-L6-v2: mean, L2-normalized), so
// the dot product of two rows is their cosine similarity.
#include <cstdio>
#include <string>
#include <vector>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "models/cache/all-MiniLM-L6-v2";
  const std::string query = argc > 2 ? argv[2] : "How do I change my password?";
  const std::vector<std::string> documents = {
      "To reset your password, open Settings and choose Security.", "Our office is closed on public holidays.",
      "The new phone has a larger battery.", "Forgot your login? Use the 'reset credentials' link.",
      "Der Zug nach Berlin fährt um acht Uhr ab."};
  try {
    const auto embedder = bertcpp::SentenceEmbedder::load(dir);
    const bertcpp::Tensor docs = embedder.encode(documents);  // [5, hidden]
    const bertcpp::Tensor q = embedder.encode({query});         // [1, hidden]

    std::printf("query: %s\n\n", query.c_str());
    for (std::size_t i = 0; i < documents.size(); ++i) {
      float score = 0;
      for (std::int64_t h = 0; h < q.dim(1); ++h) score += q.row(0)[h] * docs.row(static_cast<std::int64_t>(i))[h];
      std::printf("%6.3f  %s\n", score, documents[i].c_str());
    }
  } catch (const bertcpp::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
