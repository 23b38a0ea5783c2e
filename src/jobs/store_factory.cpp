#include "jobs/store_factory.hpp"

#include <filesystem>

#include "jobs/postgres_job_store.hpp"
#include "jobs/postgres_schema.hpp"
#include "jobs/sqlite_job_store.hpp"
#include "jobs/sqlite_schema.hpp"

namespace visor::jobs {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite:";

// "user:secret@host" -> "user:***@host" in the authority of a URI, and any
// password= query parameter.
std::string hide_password(std::string uri) {
  const auto scheme_end = uri.find("://");
  if (scheme_end != std::string::npos) {
    const auto authority = scheme_end + 3;
    const auto at = uri.find('@', authority);
    const auto slash = uri.find('/', authority);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const auto colon = uri.find(':', authority);
      if (colon != std::string::npos && colon < at) uri.replace(colon + 1, at - colon - 1, "***");
    }
  }
  for (auto at = uri.find("password="); at != std::string::npos; at = uri.find("password=", at + 1)) {
    const auto value = at + 9;
    const auto end = uri.find('&', value);
    uri.replace(value, (end == std::string::npos ? uri.size() : end) - value, "***");
  }
  return uri;
}

Result<std::unique_ptr<JobStore>> open_sqlite(const std::string& path, const StoreOptions& options, bool migrate) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return Error::unavailable("Cannot create the directory " + parent.string() + " of the job store: " + ec.message());
  return open_sqlite_job_store(path, options, migrate);
}

}  // namespace

Result<StoreLocation> parse_store_location(std::string_view text) {
  if (text.starts_with(kSqlitePrefix) && text.size() > kSqlitePrefix.size()) {
    return StoreLocation{StoreLocation::Kind::sqlite, std::string(text.substr(kSqlitePrefix.size()))};
  }
  if (text.starts_with("postgresql://") || text.starts_with("postgres://")) {
    return StoreLocation{StoreLocation::Kind::postgres, std::string(text)};
  }
  return Error::bad_input("--store must be sqlite:PATH or a PostgreSQL URI (postgresql://user:password@host:5432/db), "
                          "got '" + hide_password(std::string(text)) + "'");
}

std::string describe_store(const StoreLocation& location) {
  if (location.kind == StoreLocation::Kind::sqlite) return std::string(kSqlitePrefix) + location.target;
  return hide_password(location.target);
}

Result<std::unique_ptr<JobStore>> open_job_store(const StoreLocation& location, const StoreOptions& options,
                                                 OpenOptions open) {
  if (location.kind == StoreLocation::Kind::sqlite) return open_sqlite(location.target, options, open.migrate);
  return open_postgres_job_store(location.target, describe_store(location), options, open.migrate);
}

int latest_schema_version(StoreLocation::Kind kind) {
  const auto migrations = kind == StoreLocation::Kind::sqlite ? sqlite_migrations() : postgres_migrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

}  // namespace visor::jobs
