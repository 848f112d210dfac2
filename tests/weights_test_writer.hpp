// A tiny safetensors writer for the weights tests: builds good and deliberately broken files on the fly.
// Independent of the reader under test (it encodes F16 / BF16 from explicit bit patterns, not via Eigen).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.hpp"

namespace bertcpp::testing {

struct StTensor {
  std::string name;
  std::string dtype;               // as written in the header: "F32", "F16", ...
  std::vector<std::int64_t> shape;
  std::string bytes;               // the raw little-endian data
};

inline std::string le_u64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// Length prefix + header text + data, with no validation at all (for malformed files).
inline std::string st_raw(const std::string& header, const std::string& data = {}) {
  return le_u64(header.size()) + header + data;
}

// A well-formed file: tensors laid out back to back in the given order. `header_pad` spaces are appended to
// the header (as the format allows) so that the data block starts at an arbitrary, e.g. odd, file offset.
inline std::string st_file(const std::vector<StTensor>& tensors, std::size_t header_pad = 0,
                           const nlohmann::json& metadata = nullptr) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  if (!metadata.is_null()) header["__metadata__"] = metadata;
  return st_raw(header.dump() + std::string(header_pad, ' '), data);
}

inline std::string f32_bytes(const std::vector<float>& values) {
  std::string s;
  for (float v : values) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) s += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return s;
}

inline std::string u16_bytes(const std::vector<std::uint16_t>& values) {
  std::string s;
  for (auto v : values) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>(v >> 8);
  }
  return s;
}

// BF16 is the upper half of an fp32: exact for values whose low 16 mantissa bits are zero.
inline std::string bf16_bytes(const std::vector<float>& values) {
  std::vector<std::uint16_t> bits;
  for (float v : values) bits.push_back(static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v) >> 16));
  return u16_bytes(bits);
}

// Writes dir/config.json (a small valid BERT config unless `config` is given).
inline nlohmann::json small_config() {
  return {{"model_type", "bert"},          {"vocab_size", 10},          {"hidden_size", 4},
          {"num_hidden_layers", 1},        {"num_attention_heads", 2},  {"intermediate_size", 8},
          {"max_position_embeddings", 16}, {"type_vocab_size", 2},      {"hidden_act", "gelu"}};
}

inline void write_config(const std::filesystem::path& dir, const nlohmann::json& config = small_config()) {
  write_file(dir / "config.json", config.dump(2));
}

// Success when `f` throws exactly an E (or a subclass) whose message contains every fragment.
//   EXPECT_TRUE(throws<FormatError>([&] { SafetensorsFile::open(p); }, {"model.safetensors", "'w'"}));
template <typename E>
::testing::AssertionResult throws(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& fragment : fragments)
      if (what.find(fragment) == std::string::npos)
        return ::testing::AssertionFailure() << "message \"" << what << "\" lacks \"" << fragment << "\"";
    return ::testing::AssertionSuccess() << what;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a different type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace bertcpp::testing
