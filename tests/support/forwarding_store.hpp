#pragma once
// A JobStore that forwards every call to another one, for tests that
// override a single behaviour to inject a fault (as leveldb's EnvWrapper).

#include "jobs/job_store.hpp"

namespace visor::test {

class ForwardingStore : public jobs::JobStore {
 public:
  // REQUIRES: `target` outlives this.
  explicit ForwardingStore(jobs::JobStore& target) : target_(target) {}

  Status create_job(const jobs::NewJob& job) override { return target_.create_job(job); }
  Result<std::optional<std::string>> find_idempotent_job(std::string_view owner, std::string_view key,
                                                         std::string_view fingerprint, std::int64_t now_ms) override {
    return target_.find_idempotent_job(owner, key, fingerprint, now_ms);
  }
  Status cancel_job(std::string_view job_id, std::string_view reason, std::int64_t now_ms) override {
    return target_.cancel_job(job_id, reason, now_ms);
  }
  Result<jobs::Job> get_job(std::string_view job_id) override { return target_.get_job(job_id); }
  Result<std::shared_ptr<const std::string>> read_document(std::string_view job_id) override {
    return target_.read_document(job_id);
  }
  Result<std::vector<jobs::PageRecord>> read_pages(std::string_view job_id) override {
    return target_.read_pages(job_id);
  }
  Result<std::optional<jobs::PageTask>> lease_page(const jobs::LeaseRequest& request) override {
    return target_.lease_page(request);
  }
  Status renew_lease(const jobs::PageTask& task, std::int64_t now_ms, std::chrono::milliseconds duration) override {
    return target_.renew_lease(task, now_ms, duration);
  }
  Status complete_page(const jobs::PageTask& task, std::string_view result_json, std::string_view engine,
                       std::int64_t now_ms) override {
    return target_.complete_page(task, result_json, engine, now_ms);
  }
  Status fail_page(const jobs::PageTask& task, std::string_view error, std::int64_t now_ms) override {
    return target_.fail_page(task, error, now_ms);
  }
  Result<int> release_worker_leases(std::string_view prefix, std::string_view reason, std::int64_t now_ms) override {
    return target_.release_worker_leases(prefix, reason, now_ms);
  }
  Result<int> return_worker_leases(std::string_view prefix) override { return target_.return_worker_leases(prefix); }
  Result<std::vector<std::string>> lease_holders() override { return target_.lease_holders(); }
  Status fail_job(std::string_view job_id, std::string_view error, std::int64_t now_ms) override {
    return target_.fail_job(job_id, error, now_ms);
  }
  Result<int> expire_jobs(std::int64_t now_ms) override { return target_.expire_jobs(now_ms); }
  Result<jobs::JobList> list_jobs(const jobs::ListQuery& query) override { return target_.list_jobs(query); }
  Result<jobs::StoreStats> stats(std::int64_t now_ms) override { return target_.stats(now_ms); }
  Status ping() override { return target_.ping(); }
  Result<std::optional<jobs::WebhookDelivery>> claim_webhook_delivery(std::int64_t now_ms,
                                                                      std::chrono::milliseconds lease) override {
    return target_.claim_webhook_delivery(now_ms, lease);
  }
  Status record_webhook_attempt(const jobs::WebhookDelivery& claimed, const jobs::DeliveryAttempt& attempt) override {
    return target_.record_webhook_attempt(claimed, attempt);
  }
  Result<std::vector<jobs::WebhookDelivery>> list_webhook_deliveries(std::string_view job_id) override {
    return target_.list_webhook_deliveries(job_id);
  }
  Status register_worker(const jobs::WorkerRecord& worker, std::int64_t now_ms) override {
    return target_.register_worker(worker, now_ms);
  }
  Status heartbeat(std::string_view worker_id, std::int64_t now_ms) override {
    return target_.heartbeat(worker_id, now_ms);
  }
  Status deregister_worker(std::string_view worker_id) override { return target_.deregister_worker(worker_id); }
  Result<std::vector<jobs::WorkerRecord>> remove_silent_workers(std::int64_t now_ms) override {
    return target_.remove_silent_workers(now_ms);
  }
  Result<std::optional<std::chrono::milliseconds>> take_token(std::string_view key, const util::TokenBucketRule& rule,
                                                             std::int64_t now_ms) override {
    return target_.take_token(key, rule, now_ms);
  }
  Result<jobs::SlotAdmission> open_stream_slot(const jobs::StreamSlotRequest& request) override {
    return target_.open_stream_slot(request);
  }
  Status close_stream_slot(std::string_view slot_id) override { return target_.close_stream_slot(slot_id); }
  Status renew_stream_slots(std::string_view node_id, std::int64_t now_ms, std::chrono::milliseconds ttl) override {
    return target_.renew_stream_slots(node_id, now_ms, ttl);
  }
  Result<bool> hold_leadership(std::string_view name, std::string_view holder, std::int64_t now_ms,
                               std::chrono::milliseconds ttl) override {
    return target_.hold_leadership(name, holder, now_ms, ttl);
  }
  Status forget_idle_state(std::int64_t now_ms) override { return target_.forget_idle_state(now_ms); }
  bool notifies() const override { return target_.notifies(); }
  jobs::Subscription subscribe(jobs::StoreListener& listener) override { return target_.subscribe(listener); }
  Result<int> schema_version() override { return target_.schema_version(); }
  Status watch_progress(const std::vector<std::string>& job_ids, std::int64_t until_ms) override {
    return target_.watch_progress(job_ids, until_ms);
  }

 protected:
  jobs::JobStore& target_;
};

// The shared store as another process sees it, except that it never
// delivers a notification: as when they are lost across a reconnect.
class DeafStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  jobs::Subscription subscribe(jobs::StoreListener&) override { return {}; }
};

}  // namespace visor::test
