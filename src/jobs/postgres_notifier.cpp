#include "jobs/postgres_notifier.hpp"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cstdint>

#include "jobs/postgres.hpp"
#include "util/log.hpp"

namespace visor::jobs::pg {
namespace {

// Reconnection back-off, doubling from the first to the last.
constexpr int kFirstRetryMs = 100;
constexpr int kLastRetryMs = 2000;

}  // namespace

Notifier::Notifier(std::string uri, std::string description)
    : uri_(std::move(uri)), description_(std::move(description)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

Notifier::~Notifier() {
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

Subscription Notifier::subscribe(StoreListener& listener) {
  const std::lock_guard lock(mutex_);
  listeners_.insert(&listener);
  if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  return Subscription([this, &listener] {
    const std::lock_guard unsubscribing(mutex_);
    listeners_.erase(&listener);
  });
}

bool Notifier::pause(int ms) {
  pollfd wake{wake_.get(), POLLIN, 0};
  ::poll(&wake, 1, ms);
  return !stopping_;
}

void Notifier::run() {
  int retry_ms = kFirstRetryMs;
  while (!stopping_) {
    listen_until_lost();
    if (!pause(retry_ms)) return;
    retry_ms = std::min(retry_ms * 2, kLastRetryMs);
  }
}

void Notifier::listen_until_lost() {
  auto conn = Connection::open(uri_, description_);
  if (!conn) return;
  const Status listening =
      conn->exec("LISTEN " + std::string(kWorkChannel) + "; LISTEN " + std::string(kJobChannel));
  if (!listening) {
    util::log_warn("store.listen_failed", {{"error", listening.error().message}});
    return;
  }
  // Whatever was sent before LISTEN took effect is lost to us.
  tell_missed_changes();
  for (;;) {
    pollfd fds[2] = {{conn->socket(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (stopping_) return;
    auto notifications = conn->take_notifications();
    if (!notifications) {
      util::log_warn("store.notifications_lost", {{"error", notifications.error().message}});
      return;
    }
    for (const Notification& notification : *notifications) dispatch(notification.channel, notification.payload);
  }
}

void Notifier::dispatch(std::string_view channel, std::string_view payload) {
  const std::lock_guard lock(mutex_);
  if (channel == kWorkChannel) {
    for (StoreListener* listener : listeners_) listener->work_queued();
  } else if (channel == kJobChannel) {
    const bool stopped = payload.ends_with(kJobStoppedSuffix);
    const std::string_view job_id = stopped ? payload.substr(0, payload.size() - kJobStoppedSuffix.size()) : payload;
    for (StoreListener* listener : listeners_) listener->job_changed(job_id, stopped);
  }
}

void Notifier::tell_missed_changes() {
  const std::lock_guard lock(mutex_);
  for (StoreListener* listener : listeners_) listener->missed_changes();
}

}  // namespace visor::jobs::pg
