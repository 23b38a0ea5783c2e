#include "jobs/postgres_schema.hpp"

#include <array>

namespace visor::jobs {
namespace {

// A migration is history: it spells status names as they were when it was
// written, and is never edited once released; later changes are new
// migrations.
//
// Times are Unix milliseconds (BIGINT), as in the SQLite store. Each job
// row counts its queued and leased pages, so a claim finds a runnable job
// from one partial index instead of counting pages; every change of a
// page's state adjusts them under the job row's lock.
constexpr std::string_view kInitialSchema = R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL DEFAULT '',
  filename TEXT NOT NULL,
  model TEXT NOT NULL,
  dpi INTEGER NOT NULL,
  total_pages INTEGER NOT NULL,
  status TEXT NOT NULL,
  pages_done INTEGER NOT NULL DEFAULT 0,
  pages_queued INTEGER NOT NULL DEFAULT 0,
  pages_leased INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  submitted_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL DEFAULT 0,
  completed_at BIGINT NOT NULL DEFAULT 0,
  expires_at BIGINT NOT NULL DEFAULT 0,
  watched_until BIGINT NOT NULL DEFAULT 0  -- progress is announced (NOTIFY) until then
);
CREATE INDEX jobs_by_status ON jobs (status, id);
CREATE INDEX jobs_by_owner ON jobs (owner, id);
CREATE INDEX jobs_runnable ON jobs (pages_leased, id)
  WHERE status IN ('pending', 'running') AND pages_queued > 0;
CREATE INDEX jobs_by_expiry ON jobs (expires_at) WHERE status IN ('completed', 'failed', 'cancelled');

CREATE TABLE pages (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  page_index INTEGER NOT NULL,
  state TEXT NOT NULL,              -- queued | leased | done
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_token TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  engine TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, page_index)
);
CREATE INDEX pages_queued ON pages (job_id, page_index) WHERE state = 'queued';
CREATE INDEX pages_leased_by_expiry ON pages (lease_expires_at) WHERE state = 'leased';
CREATE INDEX pages_leased_by_owner ON pages (lease_owner) WHERE state = 'leased';

-- PDFs are compressed already: stored out of line, not compressed again.
CREATE TABLE documents (
  job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  bytes BYTEA NOT NULL
);
ALTER TABLE documents ALTER COLUMN bytes SET STORAGE EXTERNAL;

CREATE TABLE idempotency (
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_by_age ON idempotency (created_at);

CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  threads INTEGER NOT NULL,
  started_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  timeout_ms BIGINT NOT NULL        -- silent this long after a heartbeat: dead
);

CREATE TABLE stream_slots (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  owner TEXT,                       -- NULL when API keys are off
  expires_at BIGINT NOT NULL
);
CREATE INDEX stream_slots_by_node ON stream_slots (node_id);
CREATE INDEX stream_slots_by_expiry ON stream_slots (expires_at);

CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens DOUBLE PRECISION NOT NULL,
  updated_at BIGINT NOT NULL,
  full_at BIGINT NOT NULL
);

CREATE TABLE leaders (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
)sql";

// How a job's pages are read (ocr_mode). Jobs accepted before it existed
// were OCR'd, and keep being OCR'd.
constexpr std::string_view kOcrMode = R"sql(
ALTER TABLE jobs ADD COLUMN ocr_mode TEXT NOT NULL DEFAULT 'ocr';
)sql";

// Which pages a job processes (jobs.pages, canonical 1-based ranges; empty
// for all) and how many the document has. Earlier jobs processed all.
constexpr std::string_view kPageSelection = R"sql(
ALTER TABLE jobs ADD COLUMN pages TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN document_pages INTEGER NOT NULL DEFAULT 0;
)sql";

constexpr std::array kMigrations{
    Migration{1, kInitialSchema},
    Migration{2, kOcrMode},
    Migration{3, kPageSelection},
    Migration{4, kWebhookOutboxMigration},
    Migration{5, kFairShareMigration},
};

}  // namespace

std::span<const Migration> postgres_migrations() { return kMigrations; }

}  // namespace visor::jobs
