// Fuzz target: the sentence-transformers module configs. The input holds modules.json, 1_Pooling/config.json,
// sentence_bert_config.json, 2_Dense/config.json and config_sentence_transformers.json, separated by
// "\n--8<--\n"; read_sentence_transformer_layout reads them from a scratch directory (in /dev/shm when it exists).
#include <fstream>

#include "fuzz_util.hpp"
#include "heads/sentence_embedder_config.hpp"

namespace {

// A per-process scratch directory, removed when the process exits normally.
struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    namespace fs = std::filesystem;
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    path = base / ("bertcpp_fuzz_st_" + std::to_string(::getpid()));
    fs::create_directories(path / "1_Pooling");
    fs::create_directories(path / "2_Dense");
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path;
}

void write(const std::filesystem::path& file, std::string_view bytes, bool present) {
  if (!present) {
    std::filesystem::remove(file);
    return;
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const auto parts = fuzz::split_parts(std::string_view(reinterpret_cast<const char*>(data), size), 5);
  const auto dir = scratch_dir();
  // An empty part means "file absent": both branches of each reader are reached.
  write(dir / "modules.json", parts[0], !parts[0].empty());
  write(dir / "1_Pooling" / "config.json", parts[1], !parts[1].empty());
  write(dir / "sentence_bert_config.json", parts[2], !parts[2].empty());
  write(dir / "2_Dense" / "config.json", parts[3], !parts[3].empty());
  write(dir / "config_sentence_transformers.json", parts[4], !parts[4].empty());
  try {
    (void)heads::read_sentence_transformer_layout(dir);
  } catch (const Error&) {
  }
  return 0;
}
