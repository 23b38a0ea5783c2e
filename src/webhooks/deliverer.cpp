#include "webhooks/deliverer.hpp"

#include <random>

#include "util/log.hpp"
#include "util/time.hpp"
#include "webhooks/destination.hpp"
#include "webhooks/payload.hpp"

namespace visor::webhooks {
namespace {

using std::chrono::milliseconds;

// A claim outlasts the attempt it covers by this much, so that a slow
// store write after a reply does not let another node start over.
constexpr milliseconds kLeaseMargin = std::chrono::seconds(60);
constexpr milliseconds kConnectTimeout = std::chrono::seconds(5);
constexpr std::string_view kUserAgent = "Visor-Webhooks/1";

}  // namespace

// One delivering thread: its own HTTP client and random numbers.
class Deliverer::Worker {
 public:
  Worker(jobs::JobStore& store, const DelivererOptions& options, const SecretFor& secret_for,
         util::metrics::Family<util::metrics::Counter>& outcomes)
      : store_(store), options_(options), secret_for_(secret_for), outcomes_(outcomes), random_(std::random_device{}()) {}

  void run(const std::stop_token& stop) {
    while (!stop.stop_requested()) {
      if (!deliver_one(stop)) util::sleep_unless_stopped(options_.idle_poll, stop);
    }
  }

 private:
  // Claims and attempts one due delivery; false when none was due.
  bool deliver_one(const std::stop_token& stop) {
    const std::int64_t now = util::now_ms();
    auto claimed = store_.claim_webhook_delivery(now, options_.timeout + kLeaseMargin);
    if (!claimed) {
      util::log_warn("webhook.claim_failed", {{"error", claimed.error().message}});
      return false;
    }
    if (!*claimed) return false;
    const jobs::WebhookDelivery& delivery = **claimed;
    auto payload = delivery.payload.empty() ? build_payload(delivery) : Result<std::string>(delivery.payload);
    if (!payload) {
      // The claim lapses and the delivery is tried again.
      util::log_warn("webhook.payload_failed", {{"delivery", delivery.id}, {"error", payload.error().message}});
      return true;
    }
    auto reply = client_.perform(request_for(delivery, *payload, stop));
    if (stop.stop_requested()) return true;
    const jobs::DeliveryAttempt attempt = judge_attempt(delivery, *payload, reply, util::now_ms(), options_.retry,
                                                        std::uniform_real_distribution<double>(0, 1)(random_));
    record(delivery, attempt);
    return true;
  }

  Result<std::string> build_payload(const jobs::WebhookDelivery& delivery) {
    auto job = store_.get_job(delivery.job_id);
    if (!job) return job.take_error();
    auto pages = store_.read_pages(delivery.job_id);
    if (!pages && pages.error().kind != Error::Kind::not_found) return pages.take_error();
    return delivery_payload(delivery, *job, pages ? *pages : std::vector<jobs::PageRecord>{}, options_.public_url);
  }

  net::HttpRequest request_for(const jobs::WebhookDelivery& delivery, const std::string& payload,
                               const std::stop_token& stop) const {
    net::HttpRequest request;
    request.method = "POST";
    request.url = delivery.url;
    request.body = payload;
    const std::int64_t timestamp = util::now_ms() / 1000;
    request.headers = {{"Content-Type", "application/json"},
                       {"User-Agent", std::string(kUserAgent)},
                       {"webhook-id", delivery.id},
                       {"webhook-timestamp", std::to_string(timestamp)}};
    if (const SigningSecret* secret = secret_for_(delivery.owner)) {
      request.headers.emplace_back("webhook-signature", secret->sign(delivery.id, timestamp, payload));
    }
    request.timeout = options_.timeout;
    request.connect_timeout = std::min(options_.timeout, kConnectTimeout);
    request.max_response_bytes = options_.max_response_bytes;
    if (!options_.allow_private) request.vet_address = [](const sockaddr& address) { return non_public_address(address); };
    request.stop = stop;
    return request;
  }

  void record(const jobs::WebhookDelivery& delivery, const jobs::DeliveryAttempt& attempt) {
    const std::string_view outcome = attempt.state == jobs::DeliveryState::delivered ? "delivered"
                                     : attempt.state == jobs::DeliveryState::failed  ? "failed"
                                                                                      : "retry";
    outcomes_.with({outcome}).add();
    const Status recorded = store_.record_webhook_attempt(delivery, attempt);
    const std::string attempts = std::to_string(delivery.attempts + 1);
    if (!recorded) {
      util::log_warn("webhook.attempt_not_recorded", {{"delivery", delivery.id}, {"error", recorded.error().message}});
    } else if (attempt.state == jobs::DeliveryState::delivered) {
      util::log_info("webhook.delivered", {{"delivery", delivery.id}, {"job_id", delivery.job_id},
                                           {"event", delivery.event}, {"attempts", attempts}});
    } else {
      util::log_warn(attempt.state == jobs::DeliveryState::failed ? "webhook.failed" : "webhook.retry",
                     {{"delivery", delivery.id}, {"job_id", delivery.job_id}, {"event", delivery.event},
                      {"attempts", attempts}, {"error", attempt.error}});
    }
  }

  jobs::JobStore& store_;
  const DelivererOptions& options_;
  const SecretFor& secret_for_;
  util::metrics::Family<util::metrics::Counter>& outcomes_;
  net::HttpClient client_;
  std::mt19937_64 random_;
};

Deliverer::Deliverer(jobs::JobStore& store, DelivererOptions options, SecretFor secret_for,
                     util::metrics::Registry& metrics) {
  auto& outcomes = metrics.counter("visor_webhook_attempts_total",
                                   "Webhook delivery attempts by outcome (delivered, retry, failed).", {"outcome"});
  auto shared_options = std::make_shared<const DelivererOptions>(std::move(options));
  auto shared_secrets = std::make_shared<const SecretFor>(std::move(secret_for));
  for (int i = 0; i < shared_options->concurrency; ++i) {
    threads_.emplace_back([&store, &outcomes, shared_options, shared_secrets](std::stop_token stop) {
      Worker(store, *shared_options, *shared_secrets, outcomes).run(stop);
    });
  }
}

Deliverer::~Deliverer() {
  for (auto& thread : threads_) thread.request_stop();
}

}  // namespace visor::webhooks
