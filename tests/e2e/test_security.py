"""Strangers can't hurt it: API keys and per-key job ownership, submission
rate limits, caps on open streams, cancellation, Idempotency-Key, and the
HTTP hardening (URL and header size, slow clients, connection count)."""

from __future__ import annotations

import socket
import threading
import time
import unittest

import requests

import pdfgen
from visor_harness import JOB_ID_RE, ServerTestCase, SSEClient, collect_events, wait_until

ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef0"
KEYS_ENV = {"VISOR_API_KEYS": f"{ALICE},{BOB}"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def raw_request(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Sends raw bytes and returns everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


class ApiKeyTest(ServerTestCase):
    SERVER_ENV = KEYS_ENV
    API_KEY = ALICE

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        job = cls.server.submit_ok(pdfgen.text_only_pdf(1), "alice.pdf", dpi="72")
        cls.alice_job = job["job_id"]
        cls.server.wait_for(cls.alice_job)

    def job_routes(self, job_id: str) -> list[tuple[str, str]]:
        return [("GET", f"/ocr/status/{job_id}"), ("GET", f"/ocr/result/{job_id}"),
                ("GET", f"/ocr/stream/{job_id}"), ("GET", f"/ocr/page/{job_id}/0"),
                ("DELETE", f"/ocr/jobs/{job_id}")]

    def test_every_ocr_route_refuses_a_missing_or_wrong_key_with_401(self):
        routes = self.job_routes(self.alice_job) + [("GET", "/ocr/jobs"), ("GET", "/ocr/models")]
        for method, path in routes:
            for headers, words in (({}, ("api key is required", "bearer")),
                                   (bearer("not-a-key-but-long-enough"), ("not valid",)),
                                   ({"Authorization": f"Basic {ALICE}"}, ("required",))):
                with self.subTest(method=method, path=path, headers=headers):
                    response = requests.request(method, self.server.url(path), headers=headers, timeout=10)
                    self.assertDetail(response, 401, *words)
                    self.assertEqual(response.headers.get("WWW-Authenticate"), "Bearer")
        for path in ("/ocr/submit", "/ocr"):
            with self.subTest(path=path):
                response = requests.post(self.server.url(path), files={"file": ("a.pdf", pdfgen.text_only_pdf(1))},
                                         timeout=10)
                self.assertDetail(response, 401, "api key")

    def test_health_docs_and_web_ui_stay_open(self):
        for path in ("/healthz", "/", "/openapi.json", "/api"):
            with self.subTest(path=path):
                self.assertEqual(requests.get(self.server.url(path), timeout=10).status_code, 200)

    def test_another_keys_job_is_404_on_every_endpoint_as_if_it_did_not_exist(self):
        unknown = "fc-01JCFZ8X0000000000000000AB"
        for method, path in self.job_routes(self.alice_job):
            with self.subTest(method=method, path=path):
                theirs = requests.request(method, self.server.url(path), headers=bearer(BOB), timeout=10)
                missing = requests.request(method, self.server.url(path.replace(self.alice_job, unknown)),
                                           headers=bearer(BOB), timeout=10)
                self.assertEqual(theirs.status_code, 404, theirs.text)
                self.assertEqual(theirs.json(), {"detail": f"Job {self.alice_job} not found"})
                self.assertEqual(missing.status_code, 404)
        listed = requests.get(self.server.url("/ocr/jobs"), headers=bearer(BOB), timeout=10).json()
        self.assertNotIn(self.alice_job, [job["job_id"] for job in listed["jobs"]])
        # The owner still has it, untouched by Bob's DELETE.
        self.assertEqual(self.server.status(self.alice_job)["status"], "completed")
        self.assertIn(self.alice_job, [job["job_id"] for job in self.server.get("/ocr/jobs").json()["jobs"]])
        self.assertEqual(self.server.result(self.alice_job).status_code, 200)

    def test_stream_and_page_image_take_the_key_as_a_query_parameter(self):
        # EventSource and <img> cannot send headers.
        url = self.server.url(f"/ocr/stream/{self.alice_job}?api_key={ALICE}")
        response = requests.get(url, stream=True, timeout=30)
        self.assertEqual(response.status_code, 200)
        response.close()
        _, events = collect_events(url, timeout=30)
        self.assertEqual([e.event for e in events][-2:], ["result", "close"])
        image = requests.get(self.server.url(f"/ocr/page/{self.alice_job}/0?api_key={ALICE}&dpi=36"), timeout=30)
        self.assertEqual(image.status_code, 200)
        self.assertTrue(image.content.startswith(b"\x89PNG"))
        # Elsewhere the header is required: keys in URLs end up in logs.
        status = requests.get(self.server.url(f"/ocr/status/{self.alice_job}?api_key={ALICE}"), timeout=10)
        self.assertDetail(status, 401, "required")
        theirs = requests.get(self.server.url(f"/ocr/stream/{self.alice_job}?api_key={BOB}"), timeout=10)
        self.assertEqual(theirs.status_code, 404)

    def test_each_key_lists_only_its_own_jobs(self):
        bob_job = requests.post(self.server.url("/ocr/submit"), params={"dpi": "72"}, headers=bearer(BOB),
                                files={"file": ("bob.pdf", pdfgen.text_only_pdf(1))}, timeout=30).json()["job_id"]
        bob_list = [j["job_id"] for j in requests.get(self.server.url("/ocr/jobs"), headers=bearer(BOB),
                                                      timeout=10).json()["jobs"]]
        alice_list = [j["job_id"] for j in self.server.get("/ocr/jobs").json()["jobs"]]
        self.assertIn(bob_job, bob_list)
        self.assertNotIn(self.alice_job, bob_list)
        self.assertNotIn(bob_job, alice_list)


class RateLimitTest(ServerTestCase):
    SERVER_ENV = KEYS_ENV
    SERVER_FLAGS = ("--submit-rate", "2/min", "--submit-burst", "2")
    API_KEY = ALICE

    def test_submissions_over_the_rate_get_429_with_retry_after_per_key(self):
        pdf = pdfgen.text_only_pdf(1)
        for _ in range(2):
            self.assertEqual(self.server.submit(pdf, params={"dpi": "72"}).status_code, 200)
        refused = self.server.submit(pdf, params={"dpi": "72"})
        self.assertDetail(refused, 429, "2/min", "per api key", "retry in")
        retry_after = int(refused.headers["Retry-After"])
        self.assertTrue(1 <= retry_after <= 30, retry_after)
        # Another key has its own bucket.
        self.assertEqual(self.server.submit(pdf, params={"dpi": "72"}, headers=bearer(BOB)).status_code, 200)
        # A refused upload was not stored.
        listed = self.server.get("/ocr/jobs").json()["jobs"]
        self.assertEqual(len(listed), 2)


def long_running_pdf() -> bytes:
    # Dense pages at 300 DPI keep one worker busy for a while.
    return pdfgen.dense_pdf(12)


class StreamCapTest(ServerTestCase):
    SERVER_ENV = KEYS_ENV
    SERVER_FLAGS = ("--max-streams-per-key", "2", "--max-streams", "3")
    API_KEY = ALICE
    WORKERS = 1

    def open_stream(self, job_id: str, key: str) -> SSEClient:
        return SSEClient(self.server.url(f"/ocr/stream/{job_id}"), timeout=30, headers=bearer(key))

    def test_streams_over_the_per_key_cap_get_429_and_over_the_total_503(self):
        alice_job = self.server.submit_ok(long_running_pdf(), dpi="300")["job_id"]
        bob_job = requests.post(self.server.url("/ocr/submit"), params={"dpi": "300"}, headers=bearer(BOB),
                                files={"file": ("b.pdf", long_running_pdf())}, timeout=30).json()["job_id"]
        open_streams = [self.open_stream(alice_job, ALICE), self.open_stream(alice_job, ALICE)]
        try:
            for stream in open_streams:
                self.assertEqual(stream.response.status_code, 200)
            third = requests.get(self.server.url(f"/ocr/stream/{alice_job}"), headers=bearer(ALICE), timeout=10)
            self.assertDetail(third, 429, "2 streams open")
            self.assertIn("Retry-After", third.headers)
            open_streams.append(self.open_stream(bob_job, BOB))
            self.assertEqual(open_streams[-1].response.status_code, 200)
            fourth = requests.get(self.server.url(f"/ocr/stream/{bob_job}"), headers=bearer(BOB), timeout=10)
            self.assertDetail(fourth, 503, "3 streams open")
            # Polling still works while streams are capped.
            self.assertEqual(self.server.get(f"/ocr/status/{alice_job}").status_code, 200)
        finally:
            for stream in open_streams:
                stream.close()
            for job_id, key in ((alice_job, ALICE), (bob_job, BOB)):
                requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), headers=bearer(key), timeout=10)
        # Closed streams give their places back: the server notices that a
        # client left at its next write (a heartbeat at the latest) or ends
        # the stream itself when it sees the job cancelled.
        def stream_again() -> bool:
            return requests.get(self.server.url(f"/ocr/stream/{alice_job}"), headers=bearer(ALICE),
                                timeout=10).status_code == 200
        wait_until(stream_again, timeout=30, interval=0.2, message="closed streams kept their places")
        # Every stream ends, each with its line in the log.
        wait_until(lambda: self.server.log().count("stream.closed") == 4, timeout=30,
                   message="a stream never ended, or ended without its log line")


class CancelTest(ServerTestCase):
    WORKERS = 1

    def test_cancelling_a_running_job_skips_its_pages_and_ends_its_stream(self):
        job_id = self.server.submit_ok(long_running_pdf(), "long.pdf", dpi="300")["job_id"]
        self.server.wait_for(job_id, statuses=("running",), interval=0.05)
        stream = SSEClient(self.server.url(f"/ocr/stream/{job_id}"), timeout=60)
        events = []

        def follow():
            for event in stream:
                if not event.is_comment_only:
                    events.append(event)

        follower = threading.Thread(target=follow)
        follower.start()
        time.sleep(0.5)
        cancelled = requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10)
        self.assertEqual(cancelled.status_code, 200, cancelled.text)
        body = cancelled.json()
        self.assertEqual(body["status"], "cancelled")
        self.assertIn("cancelled", body["error"])
        follower.join(30)
        self.assertFalse(follower.is_alive(), "the stream did not end after the cancellation")
        self.assertEqual([e.event for e in events][-2:], ["error", "close"])
        self.assertEqual(events[-2].json()["status"], "cancelled")
        self.assertEqual(events[-2].json()["job_id"], job_id)

        status = self.server.status(job_id)
        self.assertEqual(status["status"], "cancelled")
        self.assertLess(status["progress"]["pages_done"], 12)
        result = self.server.result(job_id)
        self.assertEqual(result.status_code, 409, result.text)
        self.assertEqual(result.json()["status"], "cancelled")
        # Cancelling again is harmless; the job shows up under its status.
        self.assertEqual(requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10).status_code, 200)
        listed = self.server.get("/ocr/jobs", params={"status": "cancelled"}).json()["jobs"]
        self.assertIn(job_id, [job["job_id"] for job in listed])

        # The worker moved on: a new job does not wait for the cancelled pages.
        started = time.monotonic()
        quick = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.assertEqual(self.server.wait_for(quick, timeout=60)["status"], "completed")
        self.assertLess(time.monotonic() - started, 30)
        self.assertEqual(self.server.status(job_id)["progress"], status["progress"])

    def test_cancelling_a_finished_or_unknown_job_is_refused(self):
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.server.wait_for(job_id)
        done = requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10)
        self.assertDetail(done, 409, "completed", "nothing to cancel")
        self.assertEqual(self.server.result(job_id).status_code, 200)
        missing = requests.delete(self.server.url("/ocr/jobs/fc-01JCFZ8X0000000000000000AB"), timeout=10)
        self.assertDetail(missing, 404, "not found")
        self.assertDetail(requests.delete(self.server.url("/ocr/jobs/../etc"), timeout=10), 404)
        self.assertEqual(requests.get(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10).status_code, 405)



class CancelRunningPageTest(ServerTestCase):
    # Leases are renewed every second, so a worker learns of a cancellation
    # within about one second.
    SERVER_FLAGS = ("--lease-timeout", "3s")
    WORKERS = 1

    def test_a_page_being_rendered_is_abandoned_when_its_job_is_cancelled(self):
        # Minutes of rendering: without abandonment the worker would stay on
        # it until --page-timeout (10 minutes).
        job_id = self.server.submit_ok(pdfgen.slow_render_pdf(), "slow.pdf", dpi="200")["job_id"]
        self.server.wait_for(job_id, statuses=("running",), interval=0.05)
        time.sleep(0.5)
        self.assertEqual(requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10).status_code, 200)
        started = time.monotonic()
        quick = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.assertEqual(self.server.wait_for(quick, timeout=60)["status"], "completed")
        self.assertLess(time.monotonic() - started, 15, "the worker stayed on the cancelled page")
        self.assertIn("page.abandoned", self.server.log())
        self.assertNotIn("worker.page_overran", self.server.log())
        self.assertEqual(self.server.status(job_id)["status"], "cancelled")


class IdempotencyTest(ServerTestCase):

    def test_the_same_key_and_body_return_the_same_job(self):
        pdf = pdfgen.text_only_pdf(1, "Idem")
        headers = {"Idempotency-Key": "order-4711"}
        first = self.server.submit(pdf, "a.pdf", {"dpi": "72"}, headers=headers)
        again = self.server.submit(pdf, "a.pdf", {"dpi": "72"}, headers=headers)
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(first.json()["job_id"], again.json()["job_id"])
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertNotIn("Idempotent-Replayed", first.headers)
        ids = [job["job_id"] for job in self.server.get("/ocr/jobs", params={"limit": 100}).json()["jobs"]]
        self.assertEqual(ids.count(first.json()["job_id"]), 1)
        # Without the header every submission is a new job.
        other = self.server.submit_ok(pdf, "a.pdf", dpi="72")
        self.assertNotEqual(other["job_id"], first.json()["job_id"])

    def test_the_same_key_with_another_body_or_parameters_is_422(self):
        headers = {"Idempotency-Key": "order-4712"}
        self.assertEqual(self.server.submit(pdfgen.text_only_pdf(1, "One"), params={"dpi": "72"},
                                            headers=headers).status_code, 200)
        for pdf, dpi in ((pdfgen.text_only_pdf(1, "Two"), "72"), (pdfgen.text_only_pdf(1, "One"), "100")):
            with self.subTest(dpi=dpi):
                response = self.server.submit(pdf, params={"dpi": dpi}, headers=headers)
                self.assertDetail(response, 422, "idempotency-key", "different request")

    def test_concurrent_retries_with_one_key_create_one_job(self):
        pdf = pdfgen.text_only_pdf(1, "Race")
        results = []

        def submit():
            results.append(self.server.submit(pdf, params={"dpi": "72"}, headers={"Idempotency-Key": "race-1"}))

        threads = [threading.Thread(target=submit) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertTrue(all(r.status_code == 200 for r in results), [r.text for r in results])
        self.assertEqual(len({r.json()["job_id"] for r in results}), 1)

    def test_malformed_keys_are_refused(self):
        for key in ("x" * 256, "has space"):
            with self.subTest(key=key[:20]):
                response = self.server.submit(pdfgen.text_only_pdf(1), headers={"Idempotency-Key": key})
                self.assertDetail(response, 422, "idempotency-key")


class HardeningTest(ServerTestCase):
    SERVER_FLAGS = ("--header-timeout", "2s", "--max-connections", "8")

    def test_long_urls_and_large_headers_are_refused(self):
        url_reply = raw_request(self.server.port, b"GET /ocr/status/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(url_reply.startswith(b"HTTP/1.1 414"), url_reply[:80])
        header_reply = raw_request(self.server.port,
                                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n")
        self.assertTrue(header_reply.startswith(b"HTTP/1.1 431"), header_reply[:80])

    def test_a_client_that_never_finishes_its_headers_is_cut_off(self):
        # Slowloris: a byte now and then never completes a request.
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=15) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")
            closed = False
            while time.monotonic() - started < 12:
                try:
                    sock.sendall(b"X-Drip: 1\r\n")
                    time.sleep(0.5)
                    sock.settimeout(0.01)
                    if sock.recv(1) == b"":
                        closed = True
                        break
                except socket.timeout:
                    continue
                except OSError:
                    closed = True
                    break
        self.assertTrue(closed, "the server kept a dripping connection open")
        self.assertLess(time.monotonic() - started, 8)

    def test_connections_over_the_limit_get_503_and_the_server_recovers(self):
        idle = [socket.create_connection(("127.0.0.1", self.server.port)) for _ in range(8)]
        try:
            time.sleep(0.3)
            reply = raw_request(self.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertTrue(reply.startswith(b"HTTP/1.1 503"), reply[:80])
            self.assertIn(b"connections open", reply)
        finally:
            for sock in idle:
                sock.close()
        # The count drops as the server reads each connection's end.
        wait_until(lambda: self.server.get("/healthz").status_code == 200, timeout=10,
                   message="the server did not recover once the idle connections closed")


if __name__ == "__main__":
    unittest.main()
