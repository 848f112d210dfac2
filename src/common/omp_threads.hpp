// The OpenMP thread count of one call, without touching the caller's OpenMP state afterwards.
//
// oneDNN (OpenMP runtime) sizes each primitive's parallel region by omp_get_max_threads() of the calling
// thread, so the only way to hand it a count is that thread's nthreads ICV. omp_set_num_threads() changes it
// for the calling thread only; this scope sets it for the duration of a call and restores the caller's value
// on exit (also on exceptions), so a program that uses OpenMP itself sees no change.
#pragma once

#include <omp.h>

namespace bertcpp::common {

class OmpThreadsScope {
 public:
  // threads <= 0: leave the caller's setting in force.
  explicit OmpThreadsScope(int threads) noexcept : saved_(omp_get_max_threads()), active_(threads > 0) {
    if (active_ && threads != saved_) omp_set_num_threads(threads);
    else active_ = false;
  }
  ~OmpThreadsScope() {
    if (active_) omp_set_num_threads(saved_);
  }
  OmpThreadsScope(const OmpThreadsScope&) = delete;
  OmpThreadsScope& operator=(const OmpThreadsScope&) = delete;

 private:
  int saved_;
  bool active_;
};

}  // namespace bertcpp::common
