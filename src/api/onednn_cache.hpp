// oneDNN keeps its own process-wide cache of created primitives (1024 by default, JIT code included) on top of
// bertcpp's bounded kernels::GemmCache, which already holds every primitive the encoder reuses. With requests of
// many lengths each new token count adds GEMM primitives to both; oneDNN's copy only grew RSS (docs/reliability.md,
// "Soak": an encode soak went 138 -> 204 MiB over 3 100 requests with it, 138 -> 151 MiB and level without it).
#pragma once

namespace bertcpp::api {

// Called before the first model is built: sets oneDNN's primitive cache capacity to 0 once per process, unless the
// user chose one (ONEDNN_PRIMITIVE_CACHE_CAPACITY or DNNL_PRIMITIVE_CACHE_CAPACITY set), which is kept.
void limit_onednn_primitive_cache();

}  // namespace bertcpp::api
