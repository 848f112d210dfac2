// 64-byte aligned storage for activations. Alignment is not only about speed: vectorized reductions peel
// a different number of leading elements at a different alignment, so buffers whose alignment varied from
// one allocation to the next would make results differ in the last bits between calls.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace bertcpp::common {

inline constexpr std::size_t kAlignment = 64;

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() noexcept = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kAlignment}));
  }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{kAlignment}); }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const noexcept { return true; }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

// AlignedAllocator whose resize() leaves new elements default-initialized (uninitialized for arithmetic types):
// for buffers written whole right after, such as prepacked weights, where zero-filling first is a wasted pass
// over hundreds of MB at load (measured: the memset and its page faults were ~10% of BERT-base's load).
template <typename T>
struct UninitializedAlignedAllocator : AlignedAllocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAlignedAllocator<U>;
  };
  UninitializedAlignedAllocator() noexcept = default;
  template <typename U>
  UninitializedAlignedAllocator(const UninitializedAlignedAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <typename T>
using PackedVector = std::vector<T, UninitializedAlignedAllocator<T>>;

// Rounds a count of floats up so that consecutive blocks of it stay 64-byte aligned.
inline constexpr std::size_t round_up_floats(std::size_t n) {
  constexpr std::size_t per_line = kAlignment / sizeof(float);
  return (n + per_line - 1) / per_line * per_line;
}

}  // namespace bertcpp::common
