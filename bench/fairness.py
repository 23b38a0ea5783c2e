#!/usr/bin/env python3
"""Fair share under a flood, on either store (docs/load.md).

Key A floods: 10 copies of a decompression bomb and 10 documents of 40 dense
pages, OCR'd. Key B submits a one-page job (a page like A's) every 2 s. Three runs of
`--window` seconds each, on one server with the default settings (2
workers) but API keys:

  1. idle: B's load alone, its time from submit to completion;
  2. alone: A's flood alone, A's pages completed in the window;
  3. flood: both at once, B's times and A's pages again.

Reports B's p50/p95 against idle (target: p95 <= 2x) and A's throughput
against alone (it must not fall by more than B's share of the pages).

Usage: bench/fairness.py [--store sqlite|postgres] [--window 60] [--binary build/visor]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import pdfgen  # noqa: E402
from postgres_harness import PostgresServer  # noqa: E402
import visor_harness  # noqa: E402
from visor_harness import VisorServer  # noqa: E402

KEY_A = "flood-key-0123456789abcdef"
KEY_B = "small-key-0123456789abcdef"
# Pages of both keys alike (dense text, OCR'd at 150 DPI: about 1.2 s each
# here), so that B's one page every 2 s stays within its fair share of two
# workers and the wait for a worker is measured, not B's own backlog.
DPI = "150"


def submit(server: VisorServer, key: str, pdf: bytes, name: str) -> str:
    response = server.submit(pdf, name, {"ocr_mode": "ocr", "dpi": DPI}, timeout=120, api_key=key)
    response.raise_for_status()
    return response.json()["job_id"]


def status(server: VisorServer, key: str, job_id: str) -> dict:
    return server.status(job_id, api_key=key)


def cancel(server: VisorServer, key: str, job_ids: list[str]) -> None:
    for job_id in job_ids:
        requests.delete(server.url(f"/ocr/jobs/{job_id}"), headers={"Authorization": f"Bearer {key}"}, timeout=60)


class SmallJobs(threading.Thread):
    """Key B: a one-page job every 2 s for `window` s; records each job's
    seconds from submit to completion."""

    def __init__(self, server: VisorServer, window: float):
        super().__init__(daemon=True)
        self.server, self.window = server, window
        self.times: list[float] = []
        self.unfinished = 0

    def run(self) -> None:
        pdf = pdfgen.dense_pdf(1)  # one page like the flood's own
        pending: dict[str, float] = {}
        start = time.monotonic()
        next_submit = start
        while time.monotonic() < start + self.window or pending:
            now = time.monotonic()
            if now >= next_submit and now < start + self.window:
                pending[submit(self.server, KEY_B, pdf, "small.pdf")] = now
                next_submit += 2
            for job_id, submitted in list(pending.items()):
                if status(self.server, KEY_B, job_id)["status"] in ("completed", "failed", "cancelled"):
                    self.times.append(time.monotonic() - submitted)
                    del pending[job_id]
            if time.monotonic() > start + self.window + 300:
                self.unfinished = len(pending)
                return
            time.sleep(0.1)


def flood(server: VisorServer) -> list[str]:
    """Key A's flood; returns its job ids."""
    bomb = pdfgen.jbig2_bomb_pdf()
    long = pdfgen.dense_pdf(40)
    jobs = []
    for i in range(10):
        jobs.append(submit(server, KEY_A, bomb, f"bomb{i}.pdf"))
        jobs.append(submit(server, KEY_A, long, f"long{i}.pdf"))
    return jobs


def pages_done(server: VisorServer, jobs: list[str]) -> int:
    return sum(status(server, KEY_A, job_id)["progress"]["pages_done"] for job_id in jobs)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(store: str, window: float) -> dict:
    pg = PostgresServer(fsync=False).start() if store == "postgres" else None
    flags = ["--ocr-mode", "ocr"] + (["--store", pg.url()] if pg else [])
    server = VisorServer(*flags, workers=2, name=f"fairness-{store}", env={"VISOR_API_KEYS": f"{KEY_A},{KEY_B}"})
    try:
        server.start()
        idle = SmallJobs(server, window)
        idle.start()
        idle.join()

        alone_jobs = flood(server)
        time.sleep(window)
        alone_pages = pages_done(server, alone_jobs)
        cancel(server, KEY_A, alone_jobs)

        flood_jobs = flood(server)
        loaded = SmallJobs(server, window)
        started = time.monotonic()
        loaded.start()
        time.sleep(max(0.0, window - (time.monotonic() - started)))
        flood_pages = pages_done(server, flood_jobs)
        loaded.join()
        cancel(server, KEY_A, flood_jobs)
        return {"idle": idle.times, "loaded": loaded.times, "unfinished": loaded.unfinished,
                "alone_pages": alone_pages, "flood_pages": flood_pages}
    finally:
        server.cleanup()
        if pg:
            pg.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--binary", default=None, help="visor binary (default: build/visor, or VISOR_BINARY)")
    args = parser.parse_args()
    if args.binary:
        visor_harness.BINARY = Path(args.binary)
    r = run(args.store, args.window)
    idle_p50, idle_p95 = statistics.median(r["idle"]), percentile(r["idle"], 0.95)
    p50, p95 = statistics.median(r["loaded"]), percentile(r["loaded"], 0.95)
    b_pages = len(r["loaded"])
    alone, flooded = r["alone_pages"] / args.window, r["flood_pages"] / args.window
    b_share = b_pages / max(1, b_pages + r["flood_pages"])
    print(f"store {args.store}, window {args.window:.0f} s, 2 workers, default limits")
    print(f"B idle:     {len(r['idle'])} jobs, p50 {idle_p50:.2f} s, p95 {idle_p95:.2f} s")
    print(f"B flooded:  {len(r['loaded'])} jobs ({r['unfinished']} unfinished), p50 {p50:.2f} s, p95 {p95:.2f} s"
          f"  -> p95 {p95 / idle_p95:.2f}x idle (target <= 2x)")
    print(f"A alone:    {r['alone_pages']} pages, {alone:.2f} pages/s")
    print(f"A flooded:  {r['flood_pages']} pages, {flooded:.2f} pages/s -> {flooded / alone:.2f}x alone; "
          f"B's share of pages {b_share:.1%} (A may lose at most that)")
    ok = p95 <= 2 * idle_p95 and flooded / alone >= 1 - b_share - 0.05 and r["unfinished"] == 0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
