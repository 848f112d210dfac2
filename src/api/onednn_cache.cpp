#include "api/onednn_cache.hpp"

#include <cstdlib>
#include <mutex>

#include <oneapi/dnnl/dnnl.hpp>

namespace bertcpp::api {

void limit_onednn_primitive_cache() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") != nullptr || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") != nullptr)
      return;
    dnnl::set_primitive_cache_capacity(0);
  });
}

}  // namespace bertcpp::api
