#pragma once
// Admission control that knows nothing of HTTP: a token bucket per key for
// rates, and counted slots per key and in total for things held open.
//
// Thread safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace visor::util {

// A rate such as "10/s" or "600/min": `events` per `period`.
struct Rate {
  double events = 0;  // 0: unlimited
  std::chrono::milliseconds period{1000};
};

// Parses "N/s", "N/min" or "N/h" (N > 0), or "0" and "off" for unlimited.
std::optional<Rate> parse_rate(std::string_view text);
// "10/min", or "unlimited".
std::string describe_rate(const Rate& rate);

// One token bucket per key: each key may take `burst` events at once, then
// `rate` on average. Idle keys are forgotten once their bucket is full again.
class KeyedRateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // burst <= 0 means one period's worth of events (at least 1).
  KeyedRateLimiter(Rate rate, int burst);

  bool unlimited() const { return rate_.events <= 0; }
  // Takes one event for `key`: nullopt when admitted, else how long until
  // the next event would be.
  std::optional<std::chrono::milliseconds> admit(const std::string& key, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void forget_full_buckets(Clock::time_point now);

  Rate rate_;
  double burst_;
  double tokens_per_ms_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
  std::uint64_t admissions_ = 0;
};

// Counted slots: at most `per_key` held per key and `total` in all (0: no
// limit of that kind). A Slot gives its place back when destroyed.
class KeyedSlots {
 public:
  enum class Refusal { key_full, total_full };

  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept;
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();

   private:
    friend class KeyedSlots;
    Slot(KeyedSlots* owner, std::optional<std::string> key) : owner_(owner), key_(std::move(key)) {}
    void release();
    KeyedSlots* owner_ = nullptr;
    std::optional<std::string> key_;
  };

  KeyedSlots(int per_key, int total) : per_key_(per_key), total_(total) {}

  // A slot for `key` (nullopt: counted in the total only), or why there is
  // none. REQUIRES: this outlives the slot.
  struct Acquired {
    std::optional<Slot> slot;
    Refusal refusal = Refusal::total_full;
  };
  Acquired acquire(const std::optional<std::string>& key);

  int per_key_limit() const { return per_key_; }
  int total_limit() const { return total_; }
  int held() const;

 private:
  void give_back(const std::optional<std::string>& key);

  int per_key_;
  int total_;
  mutable std::mutex mutex_;
  std::map<std::string, int> held_by_key_;
  int held_ = 0;
};

}  // namespace visor::util
