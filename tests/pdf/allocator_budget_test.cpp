#include "pdf/allocator_budget.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace visor::pdf {
namespace {

constexpr std::size_t kMiB = 1 << 20;

struct Calls {
  fz_alloc_context* a;
  void* malloc(std::size_t n) const { return a->malloc(a->user, n); }
  void* realloc(void* p, std::size_t n) const { return a->realloc(a->user, p, n); }
  void free(void* p) const { a->free(a->user, p); }
};

TEST(AllocatorBudgetTest, RefusesWhatWouldGoOverTheBudgetAndTakesItOnceMemoryIsFreed) {
  AllocatorBudget budget(kMiB);
  const Calls calls{budget.allocator()};
  void* first = calls.malloc(kMiB / 2);
  ASSERT_NE(first, nullptr);
  EXPECT_GE(budget.held(), kMiB / 2);
  EXPECT_EQ(calls.malloc(kMiB * 6 / 10), nullptr);
  calls.free(first);
  EXPECT_EQ(budget.held(), 0u);
  void* second = calls.malloc(kMiB * 6 / 10);
  EXPECT_NE(second, nullptr);
  calls.free(second);
  EXPECT_EQ(calls.malloc(kMiB + 1), nullptr);
  EXPECT_EQ(budget.held(), 0u);
}

TEST(AllocatorBudgetTest, AGrowthOverTheBudgetFailsAndLeavesTheBlockAsItWas) {
  AllocatorBudget budget(kMiB);
  const Calls calls{budget.allocator()};
  auto* block = static_cast<char*>(calls.malloc(1000));
  ASSERT_NE(block, nullptr);
  std::memset(block, 'x', 1000);
  EXPECT_EQ(calls.realloc(block, 2 * kMiB), nullptr);
  EXPECT_EQ(block[999], 'x');
  auto* grown = static_cast<char*>(calls.realloc(block, kMiB / 2));
  ASSERT_NE(grown, nullptr);
  EXPECT_EQ(grown[999], 'x');
  EXPECT_GE(budget.held(), kMiB / 2);
  auto* shrunk = static_cast<char*>(calls.realloc(grown, 100));
  ASSERT_NE(shrunk, nullptr);
  EXPECT_LT(budget.held(), kMiB / 2);
  calls.free(shrunk);
  EXPECT_EQ(budget.held(), 0u);
}

TEST(AllocatorBudgetTest, ReallocOfNothingAllocatesAndOfZeroBytesFrees) {
  AllocatorBudget budget(kMiB);
  const Calls calls{budget.allocator()};
  void* block = calls.realloc(nullptr, 4096);
  ASSERT_NE(block, nullptr);
  EXPECT_GE(budget.held(), 4096u);
  EXPECT_EQ(calls.realloc(block, 0), nullptr);
  EXPECT_EQ(budget.held(), 0u);
}

}  // namespace
}  // namespace visor::pdf
