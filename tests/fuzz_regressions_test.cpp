// Crashes found by the fuzz targets (tests/fuzz/regressions/<target>/): besides not crashing in
// fuzz_replay.<target>, each gives the typed error that names the file.
#include <filesystem>

#include <gtest/gtest.h>

#include "bertcpp/error.hpp"
#include "test_util.hpp"
#include "tokenizer/sentencepiece/model.hpp"
#include "weights_test_writer.hpp"

namespace bertcpp {
namespace {

namespace fs = std::filesystem;

fs::path regression(const std::string& target, const std::string& name) {
  return testing::data_dir().parent_path() / "fuzz" / "regressions" / target / name;
}

// The sentencepiece library's trie builder threw a C++ exception (std::terminate in the fuzz target) on a piece
// starting with a NUL byte ("zero-length key").
TEST(FuzzRegressions, SentencePiecePieceWithANulByteIsAFormatError) {
  const fs::path input = regression("sentencepiece_model", "nul_byte_in_piece");
  ASSERT_TRUE(fs::exists(input)) << input;
  testing::TempDir tmp;
  fs::copy_file(input, tmp.path() / "spiece.model");
  for (auto variant : {tokenizer::SentencePieceVariant::albert, tokenizer::SentencePieceVariant::xlm_roberta}) {
    EXPECT_TRUE(testing::throws<FormatError>([&] { tokenizer::SentencePieceModel::load(tmp.path() / "spiece.model", variant); },
                                             {"spiece.model: piece 2 contains a NUL byte"}));
  }
}

}  // namespace
}  // namespace bertcpp
