"""Jobs over time: retention expiry, failed jobs, the legacy blocking POST
/ocr, concurrent jobs, a crash and restart in the middle of a job, and
configuration through VISOR_* environment variables."""

from __future__ import annotations

import datetime
import json
import os
import signal
import sqlite3
import threading
import time
import unittest

import requests

import pdfgen
from visor_harness import (ISO_Z_RE, JOB_ID_RE, ServerTestCase, VisorServer, collect_events,
                           damage_queued_document, wait_until, worker_pids, words)


def parse_iso(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class RetentionTest(ServerTestCase):
    # Long enough that the test sees each job completed before it expires,
    # even on a loaded machine.
    SERVER_FLAGS = ("--result-ttl", "5s")

    def test_results_expire_after_the_ttl_on_status_result_and_stream(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "short-lived.pdf", dpi="72")
        job_id = job["job_id"]
        done = self.server.wait_for(job_id, interval=0.05)
        self.assertEqual(done["status"], "completed")
        # Within the TTL the result is there.
        self.assertEqual(self.server.result(job_id).status_code, 200)
        completed_at = time.monotonic()

        time.sleep(6)
        status = self.server.status(job_id)
        self.assertEqual(status["status"], "expired", status)
        self.assertTrue(status["message"].startswith("Job results have expired"), status)

        response = self.server.result(job_id)
        self.assertEqual(response.status_code, 404, response.text)
        body = response.json()
        self.assertEqual(set(body), {"success", "job_id", "status", "message"}, body)
        self.assertIs(body["success"], False)
        self.assertEqual(body["job_id"], job_id)
        self.assertEqual(body["status"], "expired")
        self.assertTrue(body["message"].startswith("Job results have expired"), body)
        self.assertEqual(self.server.result(job_id, annotate="true").status_code, 404)

        _, events = collect_events(self.server.url(f"/ocr/stream/{job_id}"), timeout=30)
        names = [e.event for e in events]
        self.assertEqual(names[-2:], ["error", "close"], names)
        self.assertTrue(set(names[:-2]) <= {"status"}, names)
        error = events[-2].json()
        self.assertEqual(error["status"], "error")
        self.assertEqual(error["job_id"], job_id)
        self.assertIn("expired", error["error"].lower())
        self.assertEqual(events[-1].json(), {"message": "Stream complete"})
        for event in events[:-2]:
            self.assertEqual(event.json()["status"], "expired")
        self.assertLess(time.monotonic() - completed_at, 30)

    def test_expired_job_stays_expired_after_the_sweeper_runs(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        self.server.wait_for(job["job_id"], statuses=("completed", "expired"))
        time.sleep(10)  # two sweeper periods (2.5 s) past the TTL
        self.assertEqual(self.server.status(job["job_id"])["status"], "expired")
        self.assertEqual(self.server.result(job["job_id"]).json()["status"], "expired")


class FailedJobTest(ServerTestCase):
    """A job fails when its document cannot be opened by the worker. Uploads
    are validated at submit, so the test damages the stored document of a
    job queued behind another (one worker) directly in the SQLite store —
    the only way to provoke a failed job through the public surface plus the
    documented store layout."""

    WORKERS = 1

    def test_job_whose_document_cannot_be_opened_fails_with_an_error(self):
        blocker = self.server.submit_ok(pdfgen.dense_pdf(2), "blocker.pdf", dpi="72")
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "victim.pdf", dpi="72")
        job_id = job["job_id"]
        if not damage_queued_document(self.server.data_dir, job_id):
            self.skipTest("the job started before its document could be damaged")

        status = self.server.wait_for(job_id, timeout=120)
        self.assertEqual(status["status"], "failed", status)
        self.assertIsInstance(status.get("error"), str, status)
        self.assertTrue(status["error"], status)

        response = self.server.result(job_id)
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertIs(body["success"], False)
        self.assertEqual(body["job_id"], job_id)
        self.assertEqual(body["status"], "failed")
        self.assertIsInstance(body["error"], str)
        self.assertTrue(body["error"])

        _, events = collect_events(self.server.url(f"/ocr/stream/{job_id}"), timeout=30)
        names = [e.event for e in events]
        self.assertEqual(names[-2:], ["error", "close"], names)
        self.assertEqual(events[-2].json()["status"], "error")
        self.assertEqual(events[-2].json()["job_id"], job_id)
        self.assertTrue(events[-2].json()["error"])
        self.assertEqual(events[-1].json(), {"message": "Stream complete"})

        # One failed job does not stop the others.
        self.assertEqual(self.server.wait_for(blocker["job_id"])["status"], "completed")


class LegacyAndConcurrencyTest(ServerTestCase):

    def test_legacy_post_ocr_blocks_and_returns_the_full_result_with_deprecation(self):
        started = time.monotonic()
        response = requests.post(self.server.url("/ocr"), params={"model": "dotsocr", "dpi": "100"},
                                 files={"file": ("legacy.pdf", pdfgen.sample_pdf(1), "application/pdf")},
                                 timeout=120)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.headers.get("Deprecation"), "true")
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")
        body = response.json()
        self.assertIs(body["success"], True)
        self.assertEqual(body["status"], "completed")
        self.assertEqual(body["filename"], "legacy.pdf")
        self.assertEqual(body["total_pages"], 1)
        self.assertEqual(body["dpi"], 100)
        self.assertEqual(body["model"], "dotsocr")
        self.assertEqual(body["annotated_images"], [])
        self.assertRegex(body["completed_at"], ISO_Z_RE)
        self.assertEqual(body["results"]["page_0"]["status"], "success")
        self.assertIn("river", words(" ".join(e.get("text", "") for e in body["results"]["page_0"]["data"])))
        # It went through the queue: the job is known to the job endpoints.
        self.assertRegex(body["job_id"], JOB_ID_RE)
        self.assertEqual(self.server.status(body["job_id"])["status"], "completed")
        self.assertEqual(self.server.result(body["job_id"]).json()["results"], body["results"])

    def test_legacy_post_ocr_validates_like_submit(self):
        response = requests.post(self.server.url("/ocr"), params={"model": "xyz"},
                                 files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}, timeout=30)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"detail": "Unsupported model 'xyz'. Available models: dotsocr, lightonocr"})
        response = requests.post(self.server.url("/ocr"), params={"dpi": "700"},
                                 files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}, timeout=30)
        self.assertEqual(response.status_code, 422)
        self.assertIn("detail", response.json())
        response = requests.post(self.server.url("/ocr"), files={"file": ("a.pdf", b"")}, timeout=30)
        self.assertEqual(response.status_code, 400)
        self.assertIn("detail", response.json())

    def test_concurrent_submissions_all_complete(self):
        models = ["dotsocr", "lightonocr", "dotsocr", "lightonocr", "dotsocr"]
        responses: list = [None] * len(models)
        barrier = threading.Barrier(len(models))

        def submit(i):
            barrier.wait()
            responses[i] = requests.post(
                self.server.url("/ocr/submit"), params={"model": models[i], "dpi": "72"},
                files={"file": (f"doc{i}.pdf", pdfgen.text_only_pdf(1 + i % 2, words=f"Item{i}"), "application/pdf")},
                timeout=60)

        threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(models))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        bodies = []
        for i, response in enumerate(responses):
            self.assertIsNotNone(response)
            self.assertEqual(response.status_code, 200, response.text)
            bodies.append(response.json())
        self.assertEqual(len({b["job_id"] for b in bodies}), len(bodies))

        # Pattern 3 of the seed: fire and forget, retrieve later.
        for i, body in enumerate(bodies):
            self.assertEqual(self.server.wait_for(body["job_id"])["status"], "completed")
            result = self.server.result(body["job_id"])
            self.assertEqual(result.status_code, 200)
            data = result.json()
            self.assertEqual(data["filename"], f"doc{i}.pdf")
            self.assertEqual(data["model"], models[i])
            self.assertEqual(data["total_pages"], 1 + i % 2)
            self.assertEqual(list(data["results"]), [f"page_{p}" for p in range(1 + i % 2)])
            self.assertTrue(all(p["status"] == "success" for p in data["results"].values()), data["results"])


class RestartTest(unittest.TestCase):
    """kill -9 in the middle of a job; a restart on the same data directory
    finishes every accepted job."""

    def setUp(self):
        self.server = VisorServer("--lease-timeout", "3s", workers=1, name="restart")
        self.addCleanup(self.server.cleanup)

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        out = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            print(f"\n=== server log for {self.id()} ===\n{self.server.log()}")
        return out

    def test_job_interrupted_by_kill_9_completes_after_restart(self):
        server = self.server.start()
        pages = 4
        job = server.submit_ok(pdfgen.dense_pdf(pages), "restart.pdf", dpi="72")
        queued = server.submit_ok(pdfgen.text_only_pdf(1, words="Queued"), "queued.pdf", dpi="72")
        job_id = job["job_id"]
        deadline = time.monotonic() + 120
        while True:
            status = server.status(job_id)
            if status["status"] == "running" and 1 <= status["progress"]["pages_done"] < pages:
                break
            self.assertNotEqual(status["status"], "completed", "the job finished before the kill")
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.05)
        server.kill()
        killed_at = status["progress"]["pages_done"]

        server.start()
        # The state survived: the job is known with its progress (a worker
        # of the killed server may finish its last page meanwhile).
        after = server.status(job_id)
        self.assertIn(after["status"], ("pending", "running", "completed"))
        self.assertGreaterEqual(after["progress"]["pages_done"], killed_at)

        final = server.wait_for(job_id, timeout=180)
        self.assertEqual(final["status"], "completed", final)
        self.assertEqual(final["progress"], {"pages_done": pages, "total_pages": pages})
        result = server.result(job_id)
        self.assertEqual(result.status_code, 200, result.text)
        results = result.json()["results"]
        self.assertEqual(list(results), [f"page_{i}" for i in range(pages)])
        for i, page in enumerate(results.values()):
            with self.subTest(page=i):
                self.assertEqual(page["status"], "success", page)
                text = " ".join(e.get("text", "") for e in page["data"]).lower()
                self.assertRegex(text, rf"page\s*{i + 1}\b", f"page_{i} does not hold page {i + 1}")

        self.assertEqual(server.wait_for(queued["job_id"], timeout=60)["status"], "completed")

    def test_server_restarts_on_its_port_while_a_worker_of_the_killed_server_finishes_its_page(self):
        # Workers end with their server (SIGTERM), after finishing the page
        # they hold. A replacement worker, started after the server began
        # listening, is the one that could have inherited its socket.
        server = self.server.start()
        first = wait_until(lambda: worker_pids(server.proc.pid), timeout=30)[0]
        os.kill(first, signal.SIGKILL)
        replacement = wait_until(lambda: [p for p in worker_pids(server.proc.pid) if p != first], timeout=30)[0]
        job = server.submit_ok(pdfgen.dense_pdf(2), "slow.pdf", dpi="300")
        owner = f":{replacement}/"
        db_path = server.data_dir / "visor.db"

        def replacement_holds_a_page() -> bool:
            with sqlite3.connect(db_path, timeout=10) as db:
                owners = [row[0] for row in db.execute("SELECT lease_owner FROM pages WHERE state = 'leased'")]
            return any(owner in o for o in owners)

        wait_until(replacement_holds_a_page, timeout=60)
        server.kill()
        self.assertTrue(os.path.exists(f"/proc/{replacement}/fd"),
                        "the worker finished its page before the server was killed: nothing was tested")
        server.start()  # raises when the port is still held
        final = server.wait_for(job["job_id"], timeout=180)
        self.assertEqual(final["status"], "completed", final)
        pages = server.result(job["job_id"]).json()["results"]
        self.assertEqual([p["status"] for p in pages.values()], ["success", "success"], pages)


class EnvironmentConfigTest(unittest.TestCase):
    """Each flag has a VISOR_<NAME> environment equivalent."""

    def test_visor_max_pages_environment_variable_limits_pages(self):
        server = VisorServer(name="env", env={"VISOR_MAX_PAGES": "1", "VISOR_RESULT_TTL": "1h"})
        self.addCleanup(server.cleanup)
        server.start()
        response = server.submit(pdfgen.text_only_pdf(2))
        self.assertEqual(response.status_code, 400, response.text)
        self.assertIn("page", response.json()["detail"].lower())
        self.assertEqual(server.submit(pdfgen.text_only_pdf(1), params={"dpi": "72"}).status_code, 200)

    def test_flag_overrides_environment_variable(self):
        server = VisorServer("--max-pages", "3", name="env-flag", env={"VISOR_MAX_PAGES": "1"})
        self.addCleanup(server.cleanup)
        server.start()
        response = server.submit(pdfgen.text_only_pdf(2), params={"dpi": "72"})
        self.assertEqual(response.status_code, 200, response.text)

if __name__ == "__main__":
    unittest.main()
