// Small helpers every benchmark uses: timing on this thread's CPU clock, rounding for JSON output,
// peak resident memory.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cmath>

namespace chatter::bench {

// This thread's CPU time in seconds (not inflated when other processes take the core).
inline double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

inline double rounded(double x, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

// Peak resident memory of this process in MB.
inline double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace chatter::bench
