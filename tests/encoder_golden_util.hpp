// Reading the golden fixtures written by models/make_encoder_fixtures.py and comparing encoder outputs with
// them. Shared by encoder_golden_test.cpp, encoder_real_model_test.cpp and encoder_concurrency_test.cpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/error.hpp"
#include "bertcpp/model.hpp"
#include "bertcpp/tensor.hpp"
#include "weights/safetensors.hpp"

namespace bertcpp::testing {

// One golden_<case>.safetensors: the padded inputs [B, T] (I64) and the F32 outputs of transformers.
class GoldenFile {
 public:
  explicit GoldenFile(const std::filesystem::path& path)
      : file_(weights::SafetensorsFile::open(path)),
        input_ids_(read_i64("input_ids")),
        token_type_ids_(read_i64("token_type_ids")),
        attention_mask_(read_i64("attention_mask")) {
    const auto& shape = file_.find("input_ids")->shape;
    if (shape.size() != 2) throw FormatError(path.string() + ": input_ids is not [B, T]");
    batch_ = shape[0];
    seq_len_ = shape[1];
    for (const char* name : {"token_type_ids", "attention_mask"}) {
      if (file_.find(name)->shape != shape) throw FormatError(path.string() + ": " + name + " differs in shape");
    }
  }

  std::int64_t batch() const { return batch_; }
  std::int64_t seq_len() const { return seq_len_; }
  const std::vector<std::int64_t>& input_ids() const { return input_ids_; }        // [B, T]
  const std::vector<std::int64_t>& token_type_ids() const { return token_type_ids_; }  // [B, T]
  const std::vector<std::int64_t>& attention_mask() const { return attention_mask_; }  // [B, T], 0/1

  bool has(std::string_view name) const { return file_.find(name) != nullptr; }

  // The padded inputs as the engine takes them.
  Batch padded_batch() const {
    return Batch::from_padded(batch_, seq_len_, input_ids_.data(), token_type_ids_.data(),
                              attention_mask_.data());
  }

  // Sequence b without its masked-out tokens (right padding only), as add() takes it: ids, type ids.
  std::vector<std::int32_t> real_tokens(const std::vector<std::int64_t>& values, std::int64_t b) const {
    std::vector<std::int32_t> out;
    for (std::int64_t t = 0; t < seq_len_; ++t) {
      if (attention_mask_[b * seq_len_ + t] != 0) out.push_back(static_cast<std::int32_t>(values[b * seq_len_ + t]));
    }
    return out;
  }

  // An F32 tensor, e.g. "last_hidden_state" [B, T, H].
  Tensor tensor(std::string_view name) const {
    const weights::TensorView& view = get(name, weights::DType::F32);
    Tensor out(view.shape);
    std::memcpy(out.data.data(), view.data, out.numel() * sizeof(float));
    return out;
  }

 private:
  const weights::TensorView& get(std::string_view name, weights::DType dtype) const {
    const weights::TensorView* view = file_.find(name);
    if (view == nullptr) throw FormatError(file_.path().string() + ": no tensor '" + std::string(name) + "'");
    if (view->dtype != dtype) {
      throw FormatError(file_.path().string() + ": tensor '" + std::string(name) + "' has dtype " +
                        view->dtype_name);
    }
    return *view;
  }

  std::vector<std::int64_t> read_i64(std::string_view name) const {
    const weights::TensorView& view = get(name, weights::DType::I64);
    std::vector<std::int64_t> out(static_cast<std::size_t>(view.numel()));
    std::memcpy(out.data(), view.data, out.size() * sizeof(std::int64_t));
    return out;
  }

  weights::SafetensorsFile file_;
  std::vector<std::int64_t> input_ids_, token_type_ids_, attention_mask_;
  std::int64_t batch_ = 0, seq_len_ = 0;
};

// Max-abs difference of actual and expected ([B, T, H], same shape) over the positions whose mask ([B, T]) is
// 1, and the largest |actual| over the positions whose mask is 0 (the engine documents zeros there).
// A NaN anywhere counts as an infinite difference.
struct MaskedDiff {
  double max_abs = 0.0;             // over mask-1 positions
  double max_abs_at_masked = 0.0;   // |actual| over mask-0 positions
  std::int64_t compared_rows = 0;
};

inline double abs_or_inf(double x) { return std::isnan(x) ? std::numeric_limits<double>::infinity() : std::abs(x); }

inline MaskedDiff compare_masked(const Tensor& actual, const Tensor& expected, const std::vector<std::int64_t>& mask) {
  MaskedDiff diff;
  const std::int64_t rows = expected.dim(0) * expected.dim(1);
  const std::int64_t width = expected.dim(2);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* a = actual.data.data() + r * width;
    const float* e = expected.data.data() + r * width;
    if (mask[static_cast<std::size_t>(r)] != 0) {
      ++diff.compared_rows;
      for (std::int64_t h = 0; h < width; ++h) {
        diff.max_abs = std::max(diff.max_abs, abs_or_inf(double(a[h]) - double(e[h])));
      }
    } else {
      for (std::int64_t h = 0; h < width; ++h) diff.max_abs_at_masked = std::max(diff.max_abs_at_masked, abs_or_inf(a[h]));
    }
  }
  return diff;
}

// Max-abs difference over every element of two tensors of the same shape.
inline double max_abs_diff(const Tensor& actual, const Tensor& expected) {
  double m = 0.0;
  for (std::size_t i = 0; i < expected.numel(); ++i) {
    m = std::max(m, abs_or_inf(double(actual.data[i]) - double(expected.data[i])));
  }
  return m;
}

// The tolerance of every fp32 comparison against transformers (never loosened to make a test pass).
inline constexpr double kGoldenTolerance = 1e-4;

}  // namespace bertcpp::testing
