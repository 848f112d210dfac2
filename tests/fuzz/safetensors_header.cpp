// Fuzz target: a whole safetensors file (8-byte header length, JSON header, data) through SafetensorsFile::open.
// Every view it hands out must lie inside the file.
#include "fuzz_util.hpp"
#include "weights/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bertcpp;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const fuzz::MemFile file(bytes);
  try {
    const auto st = weights::SafetensorsFile::open(file.path());
    for (const auto& [name, view] : st.tensors()) {
      fuzz::require(view.nbytes <= size, "tensor larger than the file");
      // Touch the first and last byte of every view: ASan reports a view outside the mapping.
      if (view.nbytes > 0) {
        volatile std::byte first = view.data[0], last = view.data[view.nbytes - 1];
        (void)first, (void)last;
      }
      std::int64_t numel = 1;
      for (auto d : view.shape) numel *= d;
      if (weights::dtype_size(view.dtype) != 0)
        fuzz::require(static_cast<std::size_t>(numel) * weights::dtype_size(view.dtype) == view.nbytes, "numel");
    }
  } catch (const Error&) {
  }
  return 0;
}
