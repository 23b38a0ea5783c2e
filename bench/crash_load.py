#!/usr/bin/env python3
"""The crash test of tests/e2e/test_crash.py for as long as asked: steady
submits while `visor serve` and its workers are killed with SIGKILL at
random moments, then a drain, then every accepted job checked against an
undisturbed run of the same documents (tests/e2e/crash_run.py says what
counts). Prints one JSON report; exits 1 when a job was lost or wrong.

Usage: bench/crash_load.py [--duration 600] [--seed N] [--workers 2]
                           [--lease-timeout 30s] [--documents 24]
                           [--submitters 2] [--submit-interval 1.2]
                           [--kill-interval 1,4] [--binary build/visor]

Without --lease-timeout the server's default (30 s) applies, which is what
pages of workers killed together with their server wait for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=600, help="seconds of kills under load")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lease-timeout", default=None)
    parser.add_argument("--documents", type=int, default=24)
    parser.add_argument("--submitters", type=int, default=2)
    parser.add_argument("--submit-interval", type=float, default=1.2, help="mean seconds between one submitter's submits")
    parser.add_argument("--kill-interval", default="1,4", help="min,max seconds between kills")
    parser.add_argument("--kill-weights", default="0.5,0.35,0.15", help="worker,server,all")
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--binary", default=str(ROOT / "build" / "visor"))
    args = parser.parse_args()

    os.environ["VISOR_BINARY"] = args.binary
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from crash_run import CrashRun, crash_documents, reference_results  # noqa: E402
    from visor_harness import VisorServer  # noqa: E402

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10**6)
    print(f"seed {seed}", file=sys.stderr, flush=True)
    flags = ("--lease-timeout", args.lease_timeout) if args.lease_timeout else ()
    documents = crash_documents(args.documents, random.Random(seed))
    started = time.monotonic()
    reference = reference_results(documents, args.workers, flags)
    print(f"reference run: {len(documents)} documents, {sum(d.pages for d in documents)} pages, "
          f"{time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    server = VisorServer(*flags, workers=args.workers, name="crash-load").start()
    try:
        low, high = (float(x) for x in args.kill_interval.split(","))
        weights = tuple(float(x) for x in args.kill_weights.split(","))
        run = CrashRun(server, documents, reference, seed, args.duration, submitters=args.submitters,
                       submit_interval=args.submit_interval, kill_interval=(low, high), kill_weights=weights,
                       log=lambda line: print(line, file=sys.stderr, flush=True))
        report = run.run(drain_timeout=args.drain_timeout)
        summary = report.summary()
        summary["workers"] = args.workers
        summary["lease_timeout"] = args.lease_timeout or "30s (default)"
        summary["documents"] = len(documents)
        print(json.dumps(summary, indent=1))
        for job_id, what in list(report.wrong.items())[:10]:
            print(f"wrong {job_id}: {what}", file=sys.stderr)
        for job_id, status in list(report.not_completed.items())[:10]:
            print(f"not completed {job_id}: {status}", file=sys.stderr)
        if not report.ok() or report.page_errors:
            print(server.log(), file=sys.stderr)
            return 1
        return 0
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
