#pragma once
// Versioned schema changes, applied in order by each store to its own
// storage: a store at version N gets migrations N+1... and records the
// last one. A store newer than this binary is refused, not guessed at.

#include <span>
#include <string_view>

#include "util/result.hpp"

namespace visor::jobs {

struct Migration {
  int version = 0;       // 1, 2, ...: each one more than the one before
  std::string_view sql;  // in the store's dialect; may hold several statements
};

// Webhooks: each job's subscription and the outbox of its deliveries
// (webhook_delivery.hpp), in SQL both stores take alike (BIGINT is an
// INTEGER to SQLite). Earlier jobs have none.
inline constexpr std::string_view kWebhookOutboxMigration = R"sql(
ALTER TABLE jobs ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN webhook_pages INTEGER NOT NULL DEFAULT 0;
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  event TEXT NOT NULL,
  page_index INTEGER NOT NULL DEFAULT -1,
  url TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',   -- pending | delivered | failed
  payload TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  last_attempt_at BIGINT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  delivered_at BIGINT NOT NULL DEFAULT 0,
  lease_token TEXT NOT NULL DEFAULT '',
  lease_expires_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_job ON webhook_deliveries (job_id, created_at);
)sql";

// Fair share: the tenant each job's pages are shared out for, its
// priority among the tenant's jobs, and when a page of it was last leased
// (which tenant was served least recently); earlier jobs share one tenant
// at normal priority. The same SQL for both stores.
inline constexpr std::string_view kFairShareMigration = R"sql(
ALTER TABLE jobs ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN last_leased_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_tenant ON jobs (tenant, status);
)sql";

// The migrations of `all` (sorted by version) after `current`, in order.
// unavailable, naming both versions, when `current` is newer than the last
// of `all`: the store was written by a newer Visor.
Result<std::span<const Migration>> pending_migrations(std::span<const Migration> all, int current);

}  // namespace visor::jobs
