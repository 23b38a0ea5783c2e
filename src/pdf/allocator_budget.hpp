#pragma once
// An allocator for one MuPDF context that never lets it hold more than a
// budget of bytes at once. An allocation over the budget fails as if memory
// had run out: MuPDF first evicts its caches and retries, then raises
// FZ_ERROR_MEMORY, which the wrapper reports as out of memory. It covers what
// MuPDF allocates itself and what it hands its allocator to (jbig2dec, for
// one); not the image decoders that use malloc directly (OpenJPEG, libjpeg),
// not Tesseract, not the C++ code around it. Unlike a process limit
// (RLIMIT_AS) it also works under AddressSanitizer, whose shadow memory rules
// RLIMIT_AS out.
//
// Thread safety: the allocation callbacks may run on any thread.

#include <mupdf/fitz.h>

#include <atomic>
#include <cstddef>

namespace visor::pdf {

class AllocatorBudget {
 public:
  explicit AllocatorBudget(std::size_t max_bytes);
  AllocatorBudget(const AllocatorBudget&) = delete;
  AllocatorBudget& operator=(const AllocatorBudget&) = delete;

  // For fz_new_context. REQUIRES: this outlives the context and its clones.
  fz_alloc_context* allocator() { return &allocator_; }
  std::size_t held() const { return held_.load(std::memory_order_relaxed); }

  // Changes the budget for what is allocated from now on (what is held
  // already stays).
  void set_max_bytes(std::size_t max_bytes) { max_bytes_.store(max_bytes, std::memory_order_relaxed); }
  // Whether an allocation was refused since the last call (MuPDF may have
  // recovered by evicting its caches).
  bool take_refusal() { return refused_.exchange(false, std::memory_order_relaxed); }

 private:
  static void* allocate(void* self, std::size_t size);
  static void* reallocate(void* self, void* block, std::size_t size);
  static void release(void* self, void* block);

  // Reserves `bytes` of the budget; false when they do not fit.
  bool reserve(std::size_t bytes);
  void give_back(std::size_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }

  std::atomic<std::size_t> max_bytes_;
  std::atomic<std::size_t> held_{0};
  std::atomic<bool> refused_{false};
  fz_alloc_context allocator_;
};

}  // namespace visor::pdf
