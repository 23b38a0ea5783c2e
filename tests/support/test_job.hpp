#pragma once
// A job for store and worker tests: `pages` pages of `document`, submitted
// at `now_ms`, model dotsocr; tests set whatever else they need on it.

#include <memory>
#include <string>

#include "jobs/job.hpp"

namespace visor::test {

inline jobs::NewJob new_job(int pages, std::int64_t now_ms,
                            std::shared_ptr<const std::string> document = std::make_shared<const std::string>("%PDF")) {
  jobs::NewJob job;
  job.id = jobs::new_job_id(now_ms);
  job.filename = "a.pdf";
  job.model = "dotsocr";
  job.total_pages = pages;
  job.submitted_at = now_ms;
  job.document = std::move(document);
  return job;
}

}  // namespace visor::test
