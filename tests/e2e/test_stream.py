"""GET /ocr/stream/{job_id}: headers, the event sequence, heartbeats, the
result and close events, streams on finished jobs, timeouts, unknown ids."""

from __future__ import annotations

import json
import os
import socket
import time
import unittest

import requests

import pdfgen
from visor_harness import SSEClient, ServerTestCase, collect_events

UNKNOWN_ID = "fc-01JCFZ8X0000000000000000AB"
STATUSES = ("pending", "running", "completed")
HEARTBEAT_LIMIT = 2.0
JITTER = 1.25  # scheduling slack on a busy 2-core machine (both cores OCRing)


class StreamTest(ServerTestCase):

    def check_status_event(self, event, job_id):
        data = event.json()
        self.assertEqual(data["job_id"], job_id)
        self.assertIn(data["status"], STATUSES, data)
        self.assertIs(type(data["elapsed"]), int, data)
        self.assertGreaterEqual(data["elapsed"], 0)
        self.assertEqual(set(data["progress"]), {"pages_done", "total_pages"}, data)
        return data

    def test_stream_headers_are_event_stream_no_cache_no_buffering_cors(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        with SSEClient(self.server.url(f"/ocr/stream/{job['job_id']}")) as client:
            headers = client.response.headers
            self.assertEqual(client.response.status_code, 200)
            self.assertTrue(headers.get("Content-Type", "").startswith("text/event-stream"), headers)
            self.assertEqual(headers.get("Cache-Control"), "no-cache")
            self.assertEqual(headers.get("X-Accel-Buffering"), "no")
            self.assertEqual(headers.get("Access-Control-Allow-Origin"), "*")
            first = next(iter(client))
            self.assertEqual(first.event, "status")
        self.server.wait_for(job["job_id"])

    def test_stream_follows_a_job_to_result_and_close(self):
        # A sample page, then dense pages that keep the job running a few seconds.
        pdf = pdfgen.make_pdf([pdfgen.sample_page(1)] + [pdfgen.dense_page(i) for i in (2, 3, 4)])
        job = self.server.submit_ok(pdf, "stream.pdf", dpi="72")
        job_id = job["job_id"]
        opened = time.monotonic()
        response, events = collect_events(self.server.url(f"/ocr/stream/{job_id}"))
        names = [e.event for e in events]
        self.assertGreaterEqual(len(events), 3, names)
        self.assertEqual(names[0], "status", names)
        self.assertEqual(names[-2:], ["result", "close"], names)
        self.assertEqual(set(names[:-2]), {"status"}, names)

        statuses = [self.check_status_event(e, job_id) for e in events[:-2]]
        order = [STATUSES.index(s["status"]) for s in statuses]
        self.assertEqual(order, sorted(order), "status never goes back")
        self.assertEqual(statuses[-1]["status"], "completed")
        elapsed = [s["elapsed"] for s in statuses]
        self.assertEqual(elapsed, sorted(elapsed), "elapsed never goes back")
        done = [s["progress"]["pages_done"] for s in statuses]
        self.assertEqual(done, sorted(done))
        self.assertEqual(statuses[-1]["progress"], {"pages_done": 4, "total_pages": 4})

        # Heartbeats: never more than 2 s without an event.
        times = [opened] + [e.at for e in events]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLessEqual(max(gaps), HEARTBEAT_LIMIT + JITTER, f"gaps between events: {gaps}")
        if times[-1] - times[0] > 3:
            self.assertGreaterEqual(len(statuses), 2, "a long stream repeats status events")

        result = events[-2].json()
        self.assertEqual(result["job_id"], job_id)
        self.assertEqual(result["status"], "completed")
        self.assertEqual(result["total_pages"], 4)
        self.assertEqual(result["model"], "dotsocr")
        self.assertEqual(list(result["results"]), ["page_0", "page_1", "page_2", "page_3"])
        self.assertEqual(result["results"]["page_0"]["status"], "success")
        self.assertIsInstance(result["results"]["page_0"]["data"], list)
        self.assertEqual(result["metadata"]["filename"], "stream.pdf")
        self.assertEqual(result["metadata"]["dpi"], 72)
        self.assertEqual(events[-1].json(), {"message": "Stream complete"})

        # The stream's results are the ones GET /ocr/result returns.
        full = self.server.result(job_id).json()
        self.assertEqual(result["results"], full["results"])

    def test_stream_of_a_completed_job_gives_status_result_close_at_once(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), "done.pdf", dpi="72", model="lightonocr")
        self.server.wait_for(job["job_id"])
        started = time.monotonic()
        _, events = collect_events(self.server.url(f"/ocr/stream/{job['job_id']}"), timeout=30)
        self.assertLess(time.monotonic() - started, 5.0, "the stream of a finished job ends at once")
        self.assertEqual([e.event for e in events], ["status", "result", "close"])
        self.assertEqual(events[0].json()["status"], "completed")
        result = events[1].json()
        self.assertEqual(result["model"], "lightonocr")
        self.assertIsInstance(result["results"]["page_0"]["data"], str)
        self.assertEqual(result["metadata"]["filename"], "done.pdf")
        self.assertEqual(result["metadata"]["dpi"], 72)

    def test_seed_sseclient_loop_ends_at_the_result(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(2), dpi="72")
        job_id = job["job_id"]
        # The seed's Python example, with SSEClient from the harness.
        url = f"{self.server.base}/ocr/stream/{job_id}"
        messages = SSEClient(url)
        printed = []
        for msg in messages:
            if msg.event == 'result':
                result = json.loads(msg.data)
                printed.append(f"Completed! Pages: {result['total_pages']}")
                break
            elif msg.event == 'status':
                status = json.loads(msg.data)
                printed.append(f"Status: {status['status']}")
        messages.close()
        self.assertEqual(printed[-1], "Completed! Pages: 2", printed)
        self.assertTrue(printed[0].startswith("Status: "), printed)

    def test_two_streams_on_one_job_both_complete(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        url = self.server.url(f"/ocr/stream/{job['job_id']}")
        clients = [SSEClient(url), SSEClient(url)]
        try:
            for client in clients:
                names = [e.event for e in client if not e.is_comment_only]
                self.assertEqual(names[-2:], ["result", "close"], names)
        finally:
            for client in clients:
                client.close()

    def test_hundreds_of_open_streams_do_not_need_a_thread_each(self):
        if not os.path.isdir("/proc/self/task"):
            self.skipTest("needs Linux /proc to count threads")
        job = self.server.submit_ok(pdfgen.dense_pdf(1), "watched.pdf", dpi="72")
        request = (f"GET /ocr/stream/{job['job_id']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Accept: text/event-stream\r\n\r\n").encode()
        sockets = []
        try:
            for _ in range(300):
                sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
                sock.sendall(request)
                sockets.append(sock)
            for sock in sockets:
                first = b""
                while b"event: status" not in first:
                    chunk = sock.recv(4096)
                    self.assertTrue(chunk, "a stream closed before its first event")
                    first += chunk
            threads = len(os.listdir(f"/proc/{self.server.proc.pid}/task"))
            self.assertLess(threads, 64, f"{threads} threads for 300 open streams")
            # The server still answers other requests at once.
            started = time.monotonic()
            self.assertEqual(self.server.get("/ocr/models", timeout=10).status_code, 200)
            self.assertLess(time.monotonic() - started, 5.0)
        finally:
            for sock in sockets:
                sock.close()
        self.server.wait_for(job["job_id"])

    def test_stream_of_unknown_or_malformed_id_is_404_detail(self):
        for job_id in (UNKNOWN_ID, "not-a-job"):
            with self.subTest(job_id=job_id):
                response = requests.get(self.server.url(f"/ocr/stream/{job_id}"), timeout=10)
                self.assertDetail(response, 404)
                self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")


class StreamTimeoutTest(ServerTestCase):
    SERVER_FLAGS = ("--sse-timeout", "2s")
    WORKERS = 1

    def test_timeout_then_close_after_the_limit_and_the_job_goes_on(self):
        job = self.server.submit_ok(pdfgen.dense_pdf(3), "slow.pdf", dpi="72")
        job_id = job["job_id"]
        opened = time.monotonic()
        _, events = collect_events(self.server.url(f"/ocr/stream/{job_id}"), timeout=30)
        ended = time.monotonic()
        names = [e.event for e in events]
        self.assertEqual(names[0], "status", names)
        self.assertEqual(names[-2:], ["timeout", "close"], names)
        self.assertEqual(set(names[:-2]), {"status"}, names)
        timeout = events[-2].json()
        self.assertEqual(timeout["status"], "timeout")
        self.assertEqual(timeout["job_id"], job_id)
        self.assertIsInstance(timeout["message"], str)
        self.assertIn("2 seconds", timeout["message"])
        self.assertEqual(events[-1].json(), {"message": "Stream complete"})
        self.assertGreaterEqual(events[-2].at - opened, 1.9, "timeout before the limit")
        self.assertLess(ended - opened, 2.0 + 5.0, "timeout long after the limit")
        # The job itself is not cancelled: it goes on making progress.
        at_timeout = self.server.status(job_id)
        self.assertIn(at_timeout["status"], ("pending", "running"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = self.server.status(job_id)
            if now["status"] == "completed" or now["progress"]["pages_done"] > at_timeout["progress"]["pages_done"]:
                break
            time.sleep(0.2)
        else:
            self.fail(f"no progress after the stream timed out: {now}")
        self.assertIn(now["status"], ("running", "completed"))

if __name__ == "__main__":
    unittest.main()
