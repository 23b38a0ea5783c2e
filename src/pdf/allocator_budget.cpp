#include "pdf/allocator_budget.hpp"

#include <malloc.h>

#include <cstdlib>

namespace visor::pdf {
namespace {

// The bytes a block really takes: what is counted while it lives, so that
// freeing it (which is told no size) gives back exactly what it took.
std::size_t block_size(void* block) { return ::malloc_usable_size(block); }

AllocatorBudget& budget(void* self) { return *static_cast<AllocatorBudget*>(self); }

}  // namespace

AllocatorBudget::AllocatorBudget(std::size_t max_bytes)
    : max_bytes_(max_bytes), allocator_{this, &allocate, &reallocate, &release} {}

bool AllocatorBudget::reserve(std::size_t bytes) {
  const std::size_t max_bytes = max_bytes_.load(std::memory_order_relaxed);
  std::size_t held = held_.load(std::memory_order_relaxed);
  do {
    if (held > max_bytes || bytes > max_bytes - held) {
      refused_.store(true, std::memory_order_relaxed);
      return false;
    }
  } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
  return true;
}

void* AllocatorBudget::allocate(void* self, std::size_t size) {
  AllocatorBudget& b = budget(self);
  if (!b.reserve(size)) return nullptr;
  void* block = std::malloc(size);
  if (block == nullptr) {
    b.give_back(size);
    return nullptr;
  }
  b.held_.fetch_add(block_size(block) - size, std::memory_order_relaxed);
  return block;
}

void* AllocatorBudget::reallocate(void* self, void* block, std::size_t size) {
  if (block == nullptr) return allocate(self, size);
  if (size == 0) {
    release(self, block);
    return nullptr;
  }
  AllocatorBudget& b = budget(self);
  const std::size_t old_size = block_size(block);
  const std::size_t growth = size > old_size ? size - old_size : 0;
  if (!b.reserve(growth)) return nullptr;  // the block stays as it was
  void* moved = std::realloc(block, size);
  if (moved == nullptr) {
    b.give_back(growth);
    return nullptr;
  }
  // Added before subtracted: the count never dips below what is held.
  b.held_.fetch_add(block_size(moved), std::memory_order_relaxed);
  b.give_back(old_size + growth);
  return moved;
}

void AllocatorBudget::release(void* self, void* block) {
  if (block == nullptr) return;
  budget(self).give_back(block_size(block));
  std::free(block);
}

}  // namespace visor::pdf
