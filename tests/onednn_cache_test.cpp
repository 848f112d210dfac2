// Issue 14, reproduction 7 ("a cache that only grows"): bertcpp's GEMM cache is a bounded LRU
// (KernelsGemmCache.*), and oneDNN's own process-wide primitive cache, which kept a second copy of every GEMM
// primitive (1024 by default), is turned off at the first load unless the user chose a capacity.
#include <cstdlib>

#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "bertcpp/bertcpp.hpp"
#include "test_util.hpp"

namespace bertcpp {
namespace {

TEST(OneDnnPrimitiveCache, IsOffAfterALoadUnlessTheUserSetIt) {
  if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") != nullptr || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY") != nullptr)
    GTEST_SKIP() << "the environment sets oneDNN's primitive cache capacity; bertcpp keeps the user's choice";
  LoadOptions options;
  options.tokenizer = false;
  const BertModel model = BertModel::load(testing::data_dir() / "encoder" / "bert_h48_gelu_f32", options);
  EXPECT_EQ(dnnl::get_primitive_cache_capacity(), 0);
  // Primitives are still reused, through bertcpp's own cache: two forwards of one shape give the same result.
  Batch batch;
  batch.add({2, 7, 3});
  EXPECT_EQ(model.forward(batch).last_hidden_state.data, model.forward(batch).last_hidden_state.data);
}

}  // namespace
}  // namespace bertcpp
