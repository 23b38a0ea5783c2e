#include "jobs/sqlite_schema.hpp"

#include <array>

namespace visor::jobs {
namespace {

// Version 2 is the schema every store had before migrations were listed
// one by one; its statements are idempotent, so a store at version 0 or 1
// gets it whole.
constexpr std::string_view kJobsPagesDocuments = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL DEFAULT '',
  filename TEXT NOT NULL,
  model TEXT NOT NULL,
  dpi INTEGER NOT NULL,
  total_pages INTEGER NOT NULL,
  status TEXT NOT NULL,
  pages_done INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  submitted_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL DEFAULT 0,
  completed_at INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, id);
CREATE TABLE IF NOT EXISTS pages (
  job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  page_index INTEGER NOT NULL,
  state TEXT NOT NULL,              -- queued | leased | done
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_token TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_expires_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  result TEXT NOT NULL DEFAULT '',
  engine TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, page_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pages_by_state ON pages (job_id, state, page_index);
CREATE TABLE IF NOT EXISTS documents (
  job_id TEXT PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
  bytes BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
  owner TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  job_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
) WITHOUT ROWID;
)sql";

// What several processes or nodes coordinate through: registered workers
// and their heartbeats, open SSE streams, rate buckets, leaderships.
constexpr std::string_view kCoordination = R"sql(
CREATE TABLE workers (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  threads INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL       -- silent this long after a heartbeat: dead
) WITHOUT ROWID;
CREATE TABLE stream_slots (
  id TEXT PRIMARY KEY,
  node_id TEXT NOT NULL,
  owner TEXT,                       -- NULL when API keys are off
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX stream_slots_by_node ON stream_slots (node_id);
CREATE INDEX stream_slots_by_owner ON stream_slots (owner, expires_at);
CREATE TABLE rate_buckets (
  key TEXT PRIMARY KEY,
  tokens REAL NOT NULL,
  updated_at INTEGER NOT NULL,
  full_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE leaders (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX pages_leased ON pages (state, lease_owner) WHERE state = 'leased';
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
    Migration{2, kJobsPagesDocuments},
    Migration{3, kCoordination},
    Migration{4, kOcrMode},
    Migration{5, kPageSelection},
    Migration{6, kWebhookOutboxMigration},
    Migration{7, kFairShareMigration},
};

}  // namespace

std::span<const Migration> sqlite_migrations() { return kMigrations; }

}  // namespace visor::jobs
