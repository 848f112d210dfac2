// Loads a checkpoint through the installed headers and library and prints the output shape.
#include <cstdio>

#include <bertcpp/bertcpp.hpp>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const auto model = bertcpp::BertModel::load(argv[1]);
  bertcpp::Batch batch;
  batch.add({2, 5, 7});
  const auto out = model.forward(batch);
  std::printf("last_hidden_state [%lld, %lld, %lld]\n", static_cast<long long>(out.last_hidden_state.dim(0)),
              static_cast<long long>(out.last_hidden_state.dim(1)), static_cast<long long>(out.last_hidden_state.dim(2)));
  return out.last_hidden_state.dim(2) == model.config().hidden_size ? 0 : 1;
}
