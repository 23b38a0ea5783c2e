#pragma once
// LISTEN/NOTIFY for the PostgreSQL store: one connection per process that
// listens on the store's channels and hands each notification to the
// subscribed listeners. It reconnects by itself; since notifications sent
// while it was away are lost, every (re)connection tells the listeners
// missed_changes().
//
// Channels and payloads (sent by the store's statements, delivered at
// commit): "visor_work" (empty payload) when pages become runnable;
// "visor_job" with "<job id>" when a job progressed or completed,
// "<job id> stopped" when it was cancelled or failed.

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "jobs/job_store.hpp"
#include "util/fd.hpp"

namespace visor::jobs::pg {

inline constexpr std::string_view kWorkChannel = "visor_work";
inline constexpr std::string_view kJobChannel = "visor_job";
inline constexpr std::string_view kJobStoppedSuffix = " stopped";

class Notifier {
 public:
  Notifier(std::string uri, std::string description);
  // Stops listening and joins the thread.
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Starts the listening thread on the first subscription.
  Subscription subscribe(StoreListener& listener);

 private:
  void run();
  void listen_until_lost();
  void dispatch(std::string_view channel, std::string_view payload);
  void tell_missed_changes();
  // Sleeps up to `ms`, or less when stopping. False when stopping.
  bool pause(int ms);

  std::string uri_;
  std::string description_;
  util::Fd wake_;  // an eventfd that interrupts the thread's waits
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // held while listeners are called, so unsubscribing waits for them
  std::set<StoreListener*> listeners_;
  std::thread thread_;
};

}  // namespace visor::jobs::pg
