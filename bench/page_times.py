#!/usr/bin/env python3
"""The slowest legitimate pages: submits documents to a fresh `visor serve`
(OCR'd, at a DPI, with --page-timeout raised out of the way) and reports
every page's local work time from the server's `page.done` log lines,
slowest first. `--page-timeout`'s default is set from this (docs/robustness.md).

Usage: bench/page_times.py [--dpi 600] [--pages 1-3] [--workers 2] FILE_OR_DIR...
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from visor_harness import VisorServer  # noqa: E402

PAGE_DONE = re.compile(r"page\.done job_id=(\S+) page=(\d+) attempt=\d+ ms=(\d+)")


def documents(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for path in map(Path, paths):
        out.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--dpi", default="600")
    parser.add_argument("--pages", default="1-3", help="pages of each document (the API's pages parameter)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    server = VisorServer("--ocr-mode", "ocr", "--page-timeout", "1h", "--log-level", "info",
                         workers=args.workers, name="page-times")
    names: dict[str, str] = {}
    try:
        server.start()
        jobs = []
        for path in documents(args.paths):
            data = path.read_bytes()
            response = server.submit(data, path.name, {"dpi": args.dpi, "pages": args.pages}, timeout=120)
            if response.status_code != 200:
                # Page selections past a short document's end: take it whole.
                response = server.submit(data, path.name, {"dpi": args.dpi}, timeout=120)
            if response.status_code == 200:
                job_id = response.json()["job_id"]
                names[job_id] = str(path)
                jobs.append(job_id)
        for job_id in jobs:
            server.wait_for(job_id, timeout=3600, interval=0.5)
        time.sleep(0.5)
        times = [(int(ms), names.get(job, job), int(page)) for job, page, ms in PAGE_DONE.findall(server.log())]
    finally:
        server.cleanup()
    times.sort(reverse=True)
    print(f"{len(times)} pages of {len(names)} documents at {args.dpi} DPI, {args.workers} workers; slowest first:")
    for ms, name, page in times[:args.top]:
        print(f"  {ms / 1000:7.1f} s  {name} page {page + 1}")
    if times:
        median = sorted(t[0] for t in times)[len(times) // 2]
        print(f"median {median / 1000:.1f} s, slowest {times[0][0] / 1000:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
