// Fuzz target: config.json text through the depth-limited reader, parse_config and checkpoint_layout.
#include "common/json_io.hpp"
#include "fuzz_util.hpp"
#include "weights/config.hpp"
#include "weights/layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  try {
    const auto json = common::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
    const ModelConfig config = weights::parse_config(json, "config.json");
    fuzz::require(config.hidden_size > 0 && config.num_hidden_layers > 0, "validated sizes");
    (void)weights::checkpoint_layout(config);
    (void)common::brief_json(json);
  } catch (const Error&) {
  }
  return 0;
}
