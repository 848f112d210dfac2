// Tokenizer::decode: ids -> token strings (special tokens skipped when asked) -> the pipeline's decoder.
#include <string>
#include <string_view>
#include <vector>

#include "bertcpp/error.hpp"
#include "bertcpp/tokenizer.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace bertcpp {

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const Impl& impl = *impl_;
  std::vector<std::string_view> tokens;
  tokens.reserve(ids.size());
  for (std::int32_t id : ids) {
    const std::string* token = impl.id_to_token(id);
    if (!token) {
      throw InvalidArgumentError("decode: token id " + std::to_string(id) + " is out of range [0, " +
                                 std::to_string(vocab_size()) + ")");
    }
    if (skip_special_tokens) {
      auto it = impl.added_by_id.find(id);
      if (it != impl.added_by_id.end() && impl.added_tokens[it->second].special) continue;
    }
    tokens.push_back(*token);
  }
  return impl.model->decode(tokens);
}

std::string Tokenizer::convert_tokens_to_string(std::span<const std::string> tokens) const {
  const std::vector<std::string_view> views(tokens.begin(), tokens.end());
  return impl_->model->decode(views);
}

}  // namespace bertcpp
