"""What a shutdown and a full disk cost: SIGTERM ends open streams with a
final event and loses no job; a full store or disk answers 503 with a
reason, writes no half a job, and the server recovers when space returns."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

import pdfgen
from visor_harness import SSEClient, ServerTestCase, VisorServer


class Follower:
    """Reads a stream on a thread, keeping its events."""

    def __init__(self, url: str):
        self.events = []
        self.client = SSEClient(url, timeout=60)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for event in self.client:
                if not event.is_comment_only:
                    self.events.append(event)
        except Exception:  # the connection dropped: the events so far tell
            pass

    def names(self) -> list[str]:
        return [event.event for event in self.events]


class DrainTest(unittest.TestCase):

    def setUp(self):
        self.server = VisorServer(workers=1, name="drain")
        self.addCleanup(self.server.cleanup)
        self.server.start()

    def test_sigterm_ends_streams_with_a_final_event_and_the_job_survives(self):
        job_id = self.server.submit_ok(pdfgen.dense_pdf(6), "long.pdf", dpi="300")["job_id"]
        self.server.wait_for(job_id, statuses=("running",), interval=0.05)
        follower = Follower(self.server.url(f"/ocr/stream/{job_id}"))
        time.sleep(0.5)
        proc = self.server.proc
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        follower.thread.join(15)
        self.assertFalse(follower.thread.is_alive(), "the stream stayed open after SIGTERM")
        self.assertEqual(follower.names()[-2:], ["timeout", "close"], follower.names())
        final = follower.events[-2].json()
        self.assertEqual(final["job_id"], job_id)
        self.assertIn("shutting down", final["message"])
        self.assertEqual(proc.wait(30), 0, self.server.log())
        self.assertLess(time.monotonic() - signalled, 30)
        self.server.proc = None

        # The job was not lost: a new server finishes it.
        self.server.start()
        done = self.server.wait_for(job_id, timeout=180)
        self.assertEqual(done["status"], "completed", done)
        result = self.server.result(job_id).json()
        self.assertEqual(len(result["results"]), 6)
        self.assertTrue(all(page["status"] == "success" for page in result["results"].values()), result)


def padded_pdf(words: str, padding: int) -> bytes:
    return pdfgen.make_pdf([pdfgen.sample_page(1, title=words)], padding=padding)


class StoreSizeLimitTest(ServerTestCase):
    # Long enough that no job expires (freeing space) while the store fills,
    # even when each submission is slow.
    SERVER_FLAGS = ("--max-store-size", "1MiB", "--result-ttl", "10s")
    WORKERS = 1

    def test_a_full_store_answers_503_writes_nothing_and_recovers_as_jobs_expire(self):
        accepted = []
        refused = None
        for n in range(12):
            response = self.server.submit(padded_pdf(f"Document {n}", 150_000), params={"dpi": "72"})
            if response.status_code != 200:
                refused = response
                break
            accepted.append(response.json()["job_id"])
        self.assertIsNotNone(refused, "1 MiB took 12 documents of 150 KB")
        detail = self.assertDetail(refused, 503, "store is full", "--max-store-size")
        self.assertIn("Retry-After", refused.headers, detail)
        self.assertGreaterEqual(len(accepted), 2)
        listed = self.server.get("/ocr/jobs", params={"limit": 100}).json()["jobs"]
        self.assertEqual(sorted(job["job_id"] for job in listed), sorted(accepted))
        self.assertEqual(self.server.get("/healthz").status_code, 200)

        # Jobs already accepted still finish (results have room), expire, and
        # their space takes new documents.
        for job_id in accepted:
            self.assertEqual(self.server.wait_for(job_id, statuses=("completed", "expired"))["status"] in
                             ("completed", "expired"), True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            again = self.server.submit(padded_pdf("After expiry", 150_000), params={"dpi": "72"})
            if again.status_code == 200:
                break
            time.sleep(0.5)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(self.server.wait_for(again.json()["job_id"])["status"], "completed")


class DiskFullTest(unittest.TestCase):
    """A real full disk: the data directory on a small tmpfs (needs root)."""

    def setUp(self):
        if os.geteuid() != 0 or shutil.which("mount") is None:
            self.skipTest("mounting a tmpfs needs root")
        self.server = VisorServer(workers=1, name="diskfull")
        self.addCleanup(self.server.cleanup)
        self.mount_point = self.server.data_dir
        self.mount_point.mkdir(parents=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(self.mount_point)],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", "-l", str(self.mount_point)], capture_output=True)
        self.server.start()

    def fill_disk(self) -> "os.PathLike":
        filler = self.mount_point / "filler"
        with open(filler, "wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        return filler

    def test_disk_full_answers_503_with_a_reason_and_recovers_when_space_returns(self):
        first = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.server.wait_for(first)
        filler = self.fill_disk()
        try:
            response = self.server.submit(padded_pdf("No room", 400_000), params={"dpi": "72"})
        except Exception:
            os.unlink(filler)
            raise
        self.assertEqual(response.status_code, 503, response.text)
        self.assertIn("disk is full", response.json()["detail"])
        self.assertEqual(self.server.get("/healthz").status_code, 200)
        self.assertEqual(self.server.status(first)["status"], "completed")

        os.unlink(filler)
        listed = self.server.get("/ocr/jobs").json()["jobs"]
        self.assertEqual([job["job_id"] for job in listed], [first], "a refused job was half-written")
        again = self.server.submit_ok(padded_pdf("Room again", 400_000), dpi="72")["job_id"]
        self.assertEqual(self.server.wait_for(again)["status"], "completed")


if __name__ == "__main__":
    unittest.main()
