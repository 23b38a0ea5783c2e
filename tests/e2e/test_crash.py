"""kill -9 of the server and of its worker processes at random moments
during a steady load loses no accepted job: every job a submit answered 200
reaches `completed`, never answers 404 on the way, and has the same page
results as an undisturbed run of the same documents (crash_run.py has the
details).

The seed is printed; VISOR_CRASH_SEED=N replays the same documents and kill
schedule (the same kinds at the same intervals; the machine decides what
each kill hits). VISOR_CRASH_SECONDS sets the length of the disturbed phase
(default 30). bench/crash_load.py runs it longer and reports.
"""

from __future__ import annotations

import json
import os
import random
import sys
import unittest

from crash_run import CrashRun, crash_documents, reference_results
from visor_harness import VisorServer, require_binary

# Short leases, so pages of workers killed together with their server come
# back within seconds; renewals (every third of it) stay far from late.
FLAGS = ("--lease-timeout", "6s")
WORKERS = 2


class CrashTest(unittest.TestCase):
    def setUp(self):
        require_binary()
        self.seed = int(os.environ.get("VISOR_CRASH_SEED") or random.SystemRandom().randrange(1, 10**6))
        self.duration = float(os.environ.get("VISOR_CRASH_SECONDS") or 30)
        sys.stderr.write(f"\ncrash test seed {self.seed} (VISOR_CRASH_SEED={self.seed} replays it)\n")

    def test_kill_9_of_server_and_workers_under_load_loses_no_accepted_job_and_changes_no_result(self):
        documents = crash_documents(12, random.Random(self.seed))
        reference = reference_results(documents, WORKERS, FLAGS)
        # The documents are told apart by their results, so a job that got
        # another document's pages cannot pass.
        self.assertEqual(len({json.dumps(r["results"], sort_keys=True) for r in reference.values()}),
                         len(documents))

        server = VisorServer(*FLAGS, workers=WORKERS, name="crash").start()
        self.addCleanup(server.cleanup)
        run = CrashRun(server, documents, reference, self.seed, self.duration,
                       log=lambda line: sys.stderr.write(line + "\n"))
        report = run.run(drain_timeout=120)
        summary = report.summary()
        sys.stderr.write(f"crash test report: {json.dumps(summary)}\n")

        failure = f"seed {self.seed}: {json.dumps(summary)}\n{server.log()}"
        self.assertGreater(report.accepted, 0, failure)
        # The run disturbed something: at least one kill of the server.
        self.assertGreater(report.kills["server"] + report.kills["all"], 0, failure)
        self.assertEqual(report.seen_404, [], failure)
        self.assertEqual(report.not_completed, {}, failure)
        self.assertEqual(report.refused, {}, failure)
        self.assertEqual(report.wrong, {}, failure)
        self.assertEqual(report.page_errors, 0, failure)
        # Jobs of unanswered submits exist or not, but none is left behind.
        self.assertGreaterEqual(report.store_jobs, report.accepted, failure)
        self.assertLessEqual(report.store_jobs, report.accepted + report.unanswered, failure)
        self.assertEqual(report.store_unfinished, 0, failure)


if __name__ == "__main__":
    unittest.main()
