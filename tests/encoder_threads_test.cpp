// LoadOptions::threads applies to each forward() call only: the calling thread's OpenMP setting is the same
// afterwards, whatever it was, and the result does not depend on the thread count. (Not part of the TSan build:
// it runs OpenMP pools of several threads, whose libgomp synchronisation TSan cannot see; .ci/tsan.sh.)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <omp.h>

#include "bertcpp/model.hpp"
#include "test_util.hpp"

namespace bertcpp::testing {
namespace {

TEST(EncoderThreads, ForwardLeavesTheCallersOpenMpSettingAlone) {
  const auto dir = data_dir() / "encoder" / "seqcls_h96_gelunew_f16";
  LoadOptions one_thread;
  one_thread.threads = 1;
  const BertModel model = BertModel::load(dir, one_thread);
  const BertModel default_threads = BertModel::load(dir);
  Batch batch;
  batch.add({2, 7, 11, 5, 3, 9, 4});
  batch.add({2, 8, 3});
  const int before = omp_get_max_threads();
  omp_set_num_threads(3);
  const EncoderOutput out = model.forward(batch);
  EXPECT_EQ(omp_get_max_threads(), 3);
  const EncoderOutput reference = default_threads.forward(batch);
  EXPECT_EQ(omp_get_max_threads(), 3);
  ASSERT_EQ(out.last_hidden_state.shape, reference.last_hidden_state.shape);
  double worst = 0;
  for (std::size_t i = 0; i < out.last_hidden_state.data.size(); ++i)
    worst = std::max(worst, double(std::abs(out.last_hidden_state.data[i] - reference.last_hidden_state.data[i])));
  EXPECT_LE(worst, 1e-5);
  omp_set_num_threads(before);
}

}  // namespace
}  // namespace bertcpp::testing
