#pragma once
// Process-wide interrupt flag, set by the SIGINT/SIGTERM handler the CLI frame installs.
// Library loops poll it between chunks and stop cleanly.
#include <atomic>

namespace sds {

inline std::atomic<int> interrupt_signal{0};
inline bool interrupted() noexcept { return interrupt_signal.load(std::memory_order_relaxed) != 0; }

}  // namespace sds
