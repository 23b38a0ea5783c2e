"""Limits on what one untrusted document may cost (issue 5): the API reads
uploads only in bounded child processes, so a crash there is one clear error;
pages over the pixel limit, over the time limit or out of the worker's memory
are page errors naming the flag that raises the limit; malformed limit flags
are refused at start, naming the flag."""

from __future__ import annotations

import subprocess
import time
import unittest

import pdfgen
from schema_check import Contract
from visor_harness import BINARY, ServerTestCase, VisorServer, corpus_file, require_binary

CRASH_HOOK = "VISOR_TEST_CRASH_DOCUMENT_TOOL"
CRASH_DETAIL = "The PDF could not be read: the parser crashed (signal 11, Segmentation fault)"


def check_contract(server: VisorServer, method: str, template: str, response) -> None:
    """The reply is one docs/openapi.json documents (status and body)."""
    Contract(server.get("/openapi.json").json()).check(method, template, response)


def page_result(server: VisorServer, job_id: str, page: int = 0) -> dict:
    response = server.result(job_id)
    assert response.status_code == 200, response.text
    return response.json()["results"][f"page_{page}"]


class UploadReaderIsolationTest(unittest.TestCase):
    """Every read of an upload by the API (submit, page image, annotated
    result) happens in a child process: when that child crashes, the client
    gets a 400 that says so and the server goes on serving."""

    def setUp(self):
        self.server = VisorServer(workers=1, name="isolation-api").start()
        self.addCleanup(self.server.cleanup)

    def restart_with_crashing_reader(self):
        self.server.stop()
        self.server.env[CRASH_HOOK] = "1"
        self.server.start()

    def test_a_crash_reading_an_upload_at_submit_is_a_400_naming_the_signal(self):
        self.restart_with_crashing_reader()
        for _ in range(3):
            response = self.server.submit(pdfgen.text_only_pdf(1), "crash.pdf", {"dpi": "72"})
            self.assertEqual(response.status_code, 400, response.text)
            self.assertEqual(response.json(), {"detail": CRASH_DETAIL})
        check_contract(self.server, "post", "/ocr/submit", response)
        self.assertIsNone(self.server.proc.poll(), "the API process died")
        self.assertEqual(self.server.get("/ocr/models").status_code, 200)
        self.assertEqual(self.server.get("/ocr/jobs").json()["jobs"], [], "a rejected upload created a job")
        self.assertIn("document_tool.failed", self.server.log())

    def fork_servers(self) -> list[int]:
        """Pids of the server's `visor document fork-server` children."""
        found = subprocess.run(["pgrep", "-P", str(self.server.proc.pid), "-f", "document fork-server"],
                               capture_output=True, text=True).stdout.split()
        return [int(pid) for pid in found]

    def test_uploads_are_read_through_one_fork_server_which_is_replaced_when_killed(self):
        self.server.submit_ok(pdfgen.text_only_pdf(1), "one.pdf", dpi="72")
        first = self.fork_servers()
        self.assertEqual(len(first), 1, "the API starts one fork server for its upload readers")
        self.server.submit_ok(pdfgen.text_only_pdf(1), "two.pdf", dpi="72")
        self.assertEqual(self.fork_servers(), first, "the fork server serves every upload")
        # A stop signal sent to every process (systemd, a terminal) leaves it
        # to the API, which drains first.
        subprocess.run(["kill", "-TERM", str(first[0])], check=True)
        subprocess.run(["kill", "-INT", str(first[0])], check=True)
        time.sleep(0.3)
        self.assertEqual(self.fork_servers(), first, "SIGTERM or SIGINT ended the fork server")
        subprocess.run(["kill", "-9", str(first[0])], check=True)
        # At once: the API notices the dead fork server when it asks it.
        self.server.submit_ok(pdfgen.text_only_pdf(1), "three.pdf", dpi="72")
        second = self.fork_servers()
        self.assertEqual(len(second), 1)
        self.assertNotEqual(second, first)
        self.assertIsNone(self.server.proc.poll(), "the API process died")

    def test_page_images_and_annotated_results_are_read_in_the_child_too(self):
        job = self.server.submit_ok(pdfgen.sample_pdf(1), "sample.pdf", dpi="72")
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertEqual(self.server.get(f"/ocr/page/{job['job_id']}/0").status_code, 200)
        self.restart_with_crashing_reader()
        for template, path in (("/ocr/page/{job_id}/{page}", f"/ocr/page/{job['job_id']}/0"),
                               ("/ocr/result/{job_id}", f"/ocr/result/{job['job_id']}?annotate=true")):
            with self.subTest(path=path):
                response = self.server.get(path)
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(response.json(), {"detail": CRASH_DETAIL})
                check_contract(self.server, "get", template, response)
        # Reads that need no document still work.
        self.assertEqual(self.server.result(job["job_id"]).status_code, 200)


class PixelLimitTest(ServerTestCase):
    SERVER_FLAGS = ("--max-page-pixels", "1M")
    WORKERS = 1

    def test_a_page_over_the_pixel_limit_is_a_page_error_naming_size_dpi_pixels_and_the_flag(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "letter.pdf", dpi="200")
        self.assertEqual(self.server.wait_for(job["job_id"], timeout=60)["status"], "completed")
        self.assertEqual(page_result(self.server, job["job_id"]), {
            "status": "error",
            "error": "Page 1 is 8.5 × 11 in; at 200 DPI that is 3.7 million pixels, over the limit of "
                     "1 million per page; raise --max-page-pixels to allow more"})

    def test_the_same_page_at_a_dpi_under_the_limit_is_recognised(self):
        # 850 × 1100 = 0.94 million pixels at 100 DPI.
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "letter.pdf", dpi="100")
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertEqual(page_result(self.server, job["job_id"])["status"], "success")

    def test_a_page_image_over_the_pixel_limit_is_413_naming_the_flag(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "letter.pdf", dpi="200")
        response = self.server.get(f"/ocr/page/{job['job_id']}/0")
        detail = self.assertDetail(response, 413)
        self.assertIn("over the limit of 1 million per page", detail)
        self.assertIn("--max-page-pixels", detail)
        check_contract(self.server, "get", "/ocr/page/{job_id}/{page}", response)
        small = self.server.get(f"/ocr/page/{job['job_id']}/0", params={"dpi": "100"})
        self.assertEqual(small.status_code, 200, small.text)
        self.assertEqual(small.headers["Content-Type"], "image/png")


class PageTimeoutTest(ServerTestCase):
    # 4 GiB and no page budget let the JBIG2 bomb allocate what it asks for
    # (about 2.4 GB), which keeps MuPDF busy for minutes in one decode: the
    # watchdog's case. (With the default --page-memory the bomb is a page
    # error at once: test_fairness.py.)
    SERVER_FLAGS = ("--page-timeout", "2s", "--worker-memory", "4GiB", "--page-memory", "unlimited")
    WORKERS = 1
    MESSAGE = "Page 1 took longer than the per-page limit of 2 seconds (--page-timeout)"

    def assert_next_job_completes(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertEqual(page_result(self.server, job["job_id"])["status"], "success")

    def test_a_page_that_renders_too_long_stops_at_the_limit_and_the_worker_goes_on(self):
        log_before = len(self.server.log())
        started = time.monotonic()
        job = self.server.submit_ok(pdfgen.slow_render_pdf(), "slow.pdf", dpi="200")
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(page_result(self.server, job["job_id"]), {"status": "error", "error": self.MESSAGE})
        # MuPDF stopped at its deadline: nothing had to end the worker.
        time.sleep(0.3)  # the supervisor notices a death within 100 ms
        log = self.server.log()[log_before:]
        self.assertNotIn("worker.page_overran", log)
        self.assertNotIn("worker.died", log)
        self.assert_next_job_completes()

    def test_a_page_stuck_in_one_long_decode_ends_its_worker_and_is_a_page_error(self):
        path = corpus_file("pdfs/malformed/pdfjs__bomb_giant.pdf")
        started = time.monotonic()
        job = self.server.submit_ok(path.read_bytes(), path.name, dpi="72")
        self.server.wait_for(job["job_id"], timeout=60)
        # The limit, the watchdog's 5 s of grace, and some slack; today's
        # behaviour without the limit is minutes.
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(page_result(self.server, job["job_id"]), {"status": "error", "error": self.MESSAGE})
        self.assertIn("worker.page_overran", self.server.log())
        self.assert_next_job_completes()


class WorkerMemoryTest(ServerTestCase):
    SERVER_FLAGS = ("--worker-memory", "600MiB", "--max-page-pixels", "1G")
    WORKERS = 1

    def test_a_page_larger_than_the_workers_memory_is_a_page_error_saying_out_of_memory(self):
        # 200 × 200 inches at 150 DPI: 900 million pixels, 900 MB in gray.
        pdf = pdfgen.make_pdf([[pdfgen.Line("Huge", 72, 700, 24)]], page_size=(14400, 14400))
        job = self.server.submit_ok(pdf, "huge.pdf", dpi="150")
        self.server.wait_for(job["job_id"], timeout=60)
        page = page_result(self.server, job["job_id"])
        self.assertEqual(page["status"], "error")
        self.assertTrue(page["error"].startswith("Out of memory ("), page["error"])
        self.assertTrue(page["error"].endswith("; raise --worker-memory to allow more"), page["error"])
        self.assertNotIn("worker.died", self.server.log())

    def test_ordinary_pages_fit_in_that_memory(self):
        job = self.server.submit_ok(pdfgen.sample_pdf(1), dpi="200")
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertEqual(page_result(self.server, job["job_id"])["status"], "success")


class LimitFlagsTest(unittest.TestCase):
    def setUp(self):
        require_binary()

    def start_fails(self, *args: str) -> str:
        """Runs the command, which must exit 2 at once; returns its stderr."""
        done = subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 2, done.stderr)
        return done.stderr.strip()

    def test_malformed_limits_are_refused_naming_the_flag(self):
        cases = {
            ("serve", "--max-page-pixels", "huge"):
                "visor serve: --max-page-pixels must be a pixel count from 1 to 10G (e.g. 200M), got 'huge'",
            ("serve", "--page-timeout", "0"):
                "visor serve: --page-timeout: Invalid duration (use e.g. 30s, 10m, 12h, 7d) '0'",
            ("serve", "--worker-memory", "lots"):
                "visor serve: --worker-memory must be a size (e.g. 8GiB), auto or unlimited, got 'lots'",
            ("serve", "--document-memory", "1MiB"):
                "visor serve: --document-memory must be at least 512 MiB, got '1MiB'",
            ("worker", "--page-timeout", "forever"):
                "visor worker: --page-timeout: Invalid duration (use e.g. 30s, 10m, 12h, 7d) 'forever'",
        }
        for args, message in cases.items():
            with self.subTest(args=args):
                self.assertEqual(self.start_fails(*args), message)

    def test_too_little_memory_per_worker_process_names_both_flags(self):
        self.assertEqual(self.start_fails("serve", "--workers", "8", "--worker-memory", "1GiB"),
                         "visor serve: --worker-memory 1 GiB split across 8 worker processes leaves 128 MiB each; "
                         "a worker process needs at least 512 MiB: raise --worker-memory or lower --workers")


if __name__ == "__main__":
    unittest.main()
