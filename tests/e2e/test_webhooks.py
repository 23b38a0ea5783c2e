"""Webhooks: signed as Standard Webhooks signs them, retried with backoff on
what may pass, delivered from the store's outbox across a server kill,
and never sent to private addresses unless the operator allows it.

The receiver is an HTTP server in the test, on 127.0.0.1, so the servers
under test run with --webhook-allow-private (but for the one that proves
the refusal)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

import pdfgen
from schema_check import Validator
from visor_harness import ServerTestCase, VisorServer, free_port, wait_until

SECRET_KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(SECRET_KEY).decode()
KEY_SECRET_KEY = b"the key's own secret bytes!!"
ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef0"


def verify(headers: dict, body: bytes, key: bytes) -> bool:
    """The Standard Webhooks check a receiver's library makes."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1) == ["v1", expected] for sig in headers.get("webhook-signature", "").split())


class Receiver:
    """Records every POST; answers with the statuses queued, then 200."""

    def __init__(self, port: int | None = None):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body, "path": self.path, "at": time.monotonic()})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port or 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def for_job(self, job_id: str) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if json.loads(r["body"])["data"]["job_id"] == job_id]

    def wait_for(self, job_id: str, count: int, timeout: float = 60) -> list[dict]:
        wait_until(lambda: len(self.for_job(job_id)) >= count, timeout=timeout,
                   message=f"{count} deliveries for {job_id}")
        return self.for_job(job_id)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class WebhookTest(ServerTestCase):
    SERVER_FLAGS = ("--webhook-secret", SECRET, "--webhook-allow-private", "--webhook-retry-delay", "1s",
                    "--public-url", "https://ocr.example.com")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        super().tearDownClass()

    def submit(self, path: str = "/hook", **params) -> str:
        return self.server.submit_ok(pdfgen.text_only_pdf(2), "hooked.pdf", dpi="72",
                                     webhook_url=self.receiver.url(path), **params)["job_id"]

    def delivery_states(self, job_id: str) -> list[dict]:
        return self.server.status(job_id)["webhook"]["deliveries"]

    def test_a_completed_job_is_announced_signed_with_counts_and_links(self):
        job_id = self.submit()
        [request] = self.receiver.wait_for(job_id, 1)
        headers, body = request["headers"], request["body"]
        self.assertTrue(verify(headers, body, SECRET_KEY), headers)
        self.assertFalse(verify(headers, body, b"another key of 32 bytes........."))
        self.assertTrue(headers["webhook-id"].startswith("msg_"))
        self.assertLess(abs(int(headers["webhook-timestamp"]) - time.time()), 30)
        self.assertEqual(headers["content-type"], "application/json")
        event = json.loads(body)
        self.assertEqual(event["type"], "job.completed")
        data = event["data"]
        self.assertEqual((data["job_id"], data["status"], data["filename"]), (job_id, "completed", "hooked.pdf"))
        self.assertEqual((data["total_pages"], data["pages_done"], data["page_errors"]), (2, 2, 0))
        self.assertEqual(data["links"]["result"], f"https://ocr.example.com/ocr/result/{job_id}")
        self.assertEqual(data["links"]["downloads"]["md"], f"https://ocr.example.com/ocr/download/{job_id}/md")
        self.assertNotIn("results", data)
        openapi = json.loads((Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text())
        Validator(openapi).validate(event, {"$ref": "#/components/schemas/WebhookEvent"}, "webhook body")
        wait_until(lambda: self.delivery_states(job_id)[0]["state"] == "delivered", timeout=10)
        [state] = self.delivery_states(job_id)
        self.assertEqual((state["event"], state["attempts"], state["last_error"]), ("job.completed", 1, None))
        self.assertIsNotNone(state["delivered_at"])
        self.assertEqual(self.server.status(job_id)["webhook"]["url"], self.receiver.url())

    def test_a_receiver_that_fails_twice_gets_exactly_two_retries_with_backoff_and_the_same_message(self):
        with self.receiver.lock:
            self.receiver.statuses = [500, 503]
        job_id = self.submit("/flaky")
        requests_seen = self.receiver.wait_for(job_id, 3)
        time.sleep(3)  # a fourth would come within the backoff's reach
        requests_seen = self.receiver.for_job(job_id)
        self.assertEqual(len(requests_seen), 3)
        self.assertEqual(len({r["headers"]["webhook-id"] for r in requests_seen}), 1)
        self.assertEqual(len({r["body"] for r in requests_seen}), 1)
        self.assertTrue(all(verify(r["headers"], r["body"], SECRET_KEY) for r in requests_seen))
        gaps = [b["at"] - a["at"] for a, b in zip(requests_seen, requests_seen[1:])]
        self.assertGreaterEqual(gaps[0], 0.7)   # 1 s -25 %
        self.assertGreaterEqual(gaps[1], 1.4)   # 2 s -25 %
        wait_until(lambda: self.delivery_states(job_id)[0]["state"] == "delivered", timeout=10)
        self.assertEqual(self.delivery_states(job_id)[0]["attempts"], 3)

    def test_a_receiver_that_refuses_is_not_retried_and_the_status_says_why(self):
        with self.receiver.lock:
            self.receiver.statuses = [410]
        job_id = self.submit("/gone")
        self.receiver.wait_for(job_id, 1)
        wait_until(lambda: self.delivery_states(job_id)[0]["state"] == "failed", timeout=10)
        time.sleep(2)
        self.assertEqual(len(self.receiver.for_job(job_id)), 1)
        [state] = self.delivery_states(job_id)
        self.assertEqual(state["attempts"], 1)
        self.assertIn("HTTP 410", state["last_error"])
        self.assertIsNone(state["next_attempt_at"])

    def test_pages_are_announced_when_asked_and_a_cancelled_job_says_so(self):
        job_id = self.submit(webhook_pages="true")
        events = [json.loads(r["body"]) for r in self.receiver.wait_for(job_id, 3)]
        page_events = sorted((e["data"]["page_index"], e["data"]["page_status"]) for e in events
                             if e["type"] == "page.completed")
        self.assertEqual(page_events, [(0, "success"), (1, "success")])
        # Deliveries run concurrently: their order of arrival is not promised.
        self.assertEqual(sorted(e["type"] for e in events), ["job.completed", "page.completed", "page.completed"])
        slow = self.server.submit_ok(pdfgen.dense_pdf(4), "slow.pdf", webhook_url=self.receiver.url())["job_id"]
        requests.delete(self.server.url(f"/ocr/jobs/{slow}"), timeout=30).raise_for_status()
        [cancelled] = self.receiver.wait_for(slow, 1)
        event = json.loads(cancelled["body"])
        self.assertEqual((event["type"], event["data"]["status"]), ("job.cancelled", "cancelled"))
        self.assertIn("error", event["data"])

    def test_the_url_may_come_as_a_form_field_and_bad_ones_are_refused(self):
        response = requests.post(self.server.url("/ocr/submit"), params={"dpi": "72"},
                                 files={"file": ("form.pdf", pdfgen.text_only_pdf(1), "application/pdf")},
                                 data={"webhook_url": self.receiver.url("/form")}, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        job_id = response.json()["job_id"]
        [request] = self.receiver.wait_for(job_id, 1)
        self.assertEqual(request["path"], "/form")
        for url in ("ftp://example.com/x", "example.com/hook", "http:///nohost", "http://exa mple.com/"):
            bad = self.server.submit(pdfgen.text_only_pdf(1), params={"webhook_url": url})
            self.assertDetail(bad, 422, "webhook_url")
        self.assertDetail(self.server.submit(pdfgen.text_only_pdf(1), params={"webhook_pages": "maybe"}), 422,
                          "webhook_pages")


class WebhookRestartTest(unittest.TestCase):
    def test_deliveries_pending_when_the_server_is_killed_are_delivered_after_its_restart(self):
        port = free_port()
        server = VisorServer("--webhook-allow-private", "--webhook-retry-delay", "1s", name="webhook-restart")
        receiver = None
        try:
            server.start()
            # Nobody listens yet: every attempt fails to connect and is retried.
            job_id = server.submit_ok(pdfgen.text_only_pdf(1), "restart.pdf", dpi="72",
                                      webhook_url=f"http://127.0.0.1:{port}/late")["job_id"]
            wait_until(lambda: (server.status(job_id).get("webhook", {}).get("deliveries") or [{}])[0]
                       .get("attempts", 0) >= 1, timeout=60)
            state = server.status(job_id)["webhook"]["deliveries"][0]
            self.assertEqual(state["state"], "pending")
            self.assertIn("127.0.0.1", state["last_error"])
            server.kill()
            receiver = Receiver(port)
            server.start()
            [request] = receiver.wait_for(job_id, 1, timeout=60)
            self.assertEqual(json.loads(request["body"])["type"], "job.completed")
            self.assertNotIn("webhook-signature", request["headers"])  # no secret configured: unsigned
            wait_until(lambda: server.status(job_id)["webhook"]["deliveries"][0]["state"] == "delivered", timeout=10)
        except Exception:
            print(server.log())
            raise
        finally:
            if receiver:
                receiver.close()
            server.cleanup()


class PrivateAddressTest(ServerTestCase):
    """Without --webhook-allow-private."""

    SERVER_FLAGS = ("--webhook-retry-delay", "1s")

    def test_literal_private_addresses_and_localhost_are_refused_at_submit(self):
        for url in ("http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://[::1]:80/",
                    "https://169.254.169.254/latest/meta-data", "http://192.168.0.1/", "http://[::ffff:127.0.0.1]/"):
            response = self.server.submit(pdfgen.text_only_pdf(1), params={"webhook_url": url})
            self.assertDetail(response, 422, "--webhook-allow-private")

    def test_a_name_that_resolves_to_a_private_address_is_refused_when_delivering(self):
        host = socket.gethostname()
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, 80, proto=socket.IPPROTO_TCP)}
        except OSError:
            self.skipTest(f"{host} does not resolve here")
        if not any(a.startswith(("127.", "10.", "192.168.", "172.")) or a == "::1" for a in addresses):
            self.skipTest(f"{host} resolves to {addresses}, not a private address")
        receiver = Receiver()
        try:
            job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), "name.pdf", dpi="72",
                                           webhook_url=f"http://{host}:{receiver.port}/hook")["job_id"]
            wait_until(lambda: self.server.status(job_id)["webhook"]["deliveries"][:1]
                       and self.server.status(job_id)["webhook"]["deliveries"][0]["state"] == "failed", timeout=60)
            state = self.server.status(job_id)["webhook"]["deliveries"][0]
            self.assertIn("--webhook-allow-private", state["last_error"])
            self.assertEqual(state["attempts"], 1)
            self.assertEqual(receiver.for_job(job_id), [])
        finally:
            receiver.close()


class PerKeySecretTest(ServerTestCase):
    """A key's own secret signs its jobs' webhooks; --webhook-url is the default."""

    @classmethod
    def setUpClass(cls):
        cls.receiver = Receiver()
        cls.keys = tempfile.NamedTemporaryFile("w", suffix=".keys", delete=False)
        cls.keys.write(f"{ALICE} alice webhook-secret=whsec_{base64.b64encode(KEY_SECRET_KEY).decode()}\n{BOB} bob\n")
        cls.keys.close()
        cls.SERVER_FLAGS = ("--api-keys-file", cls.keys.name, "--webhook-secret", SECRET, "--webhook-allow-private",
                            "--webhook-url", cls.receiver.url("/default"))
        cls.API_KEY = ALICE
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.receiver.close()
        os.unlink(cls.keys.name)

    def test_each_key_signs_with_its_own_secret_or_the_servers(self):
        alice_job = self.server.submit_ok(pdfgen.text_only_pdf(1), "a.pdf", dpi="72")["job_id"]
        bob = self.server.submit(pdfgen.text_only_pdf(1), "b.pdf", {"dpi": "72"}, api_key=BOB)
        bob_job = bob.json()["job_id"]
        [alice_request] = self.receiver.wait_for(alice_job, 1)
        [bob_request] = self.receiver.wait_for(bob_job, 1)
        self.assertEqual(alice_request["path"], "/default")
        self.assertTrue(verify(alice_request["headers"], alice_request["body"], KEY_SECRET_KEY))
        self.assertFalse(verify(alice_request["headers"], alice_request["body"], SECRET_KEY))
        self.assertTrue(verify(bob_request["headers"], bob_request["body"], SECRET_KEY))

    def test_a_malformed_secret_stops_the_server_at_start(self):
        server = VisorServer("--webhook-secret", "not-a-secret", name="bad-secret")
        try:
            with self.assertRaises(RuntimeError) as raised:
                server.start(timeout=10)
            self.assertIn("whsec_", str(raised.exception))
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
