"""The OpenAPI document (docs/openapi.json, served at /openapi.json) against
real responses: every endpoint's replies, in every state the tests can
reach, must have a documented status and Content-Type and match the
documented schema, and so must every SSE event. So the document and the
server cannot drift apart."""

from __future__ import annotations

import json
import time
import unittest
from pathlib import Path

import requests

import pdfgen
from schema_check import Contract, SchemaError, Validator
from visor_harness import ServerTestCase, collect_events, damage_queued_document

UNKNOWN_ID = "fc-01JCFZ8X0000000000000000AB"
REPO = Path(__file__).resolve().parents[2]


class ContractTestCase(ServerTestCase):
    contract: Contract

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contract = Contract(requests.get(cls.server.url("/openapi.json"), timeout=30).json())

    def check(self, method: str, template: str, response: requests.Response, status: int | None = None):
        if status is not None:
            self.assertEqual(response.status_code, status, response.text[:500])
        self.contract.check(method, template, response)
        return response

    def check_stream(self, job_id: str, query: str = "") -> list:
        response, events = collect_events(self.server.url(f"/ocr/stream/{job_id}{query}"))
        self.assertEqual(response.status_code, 200)  # the body was read as events
        self.contract.check("get", "/ocr/stream/{job_id}", response)
        for event in events:
            self.contract.check_event(event.event, event.json())
        return events


class DocumentTest(ContractTestCase):

    def test_served_document_is_the_repository_file(self):
        served = self.server.get("/openapi.json")
        self.check("get", "/openapi.json", served, 200)
        self.assertEqual(served.json(), json.loads((REPO / "docs" / "openapi.json").read_text()))
        self.assertEqual(served.json()["openapi"], "3.1.0")

    def test_every_schema_uses_only_keywords_the_validator_knows(self):
        validator = Validator(self.contract.document)
        for name, schema in self.contract.document["components"]["schemas"].items():
            with self.subTest(schema=name):
                validator.errors(None, schema)  # raises on an unsupported keyword

    def test_validator_rejects_what_it_should(self):
        v = Validator(self.contract.document)
        error = {"$ref": "#/components/schemas/Error"}
        self.assertEqual(v.errors({"detail": "x"}, error), [])
        self.assertTrue(v.errors({"detail": ""}, error))
        self.assertTrue(v.errors({"detail": "x", "extra": 1}, error))
        self.assertTrue(v.errors({}, error))
        self.assertTrue(v.errors({"detail": 1}, error))
        page = {"$ref": "#/components/schemas/PageResult"}
        self.assertEqual(v.errors({"status": "success", "data": "# Title"}, page), [])
        self.assertTrue(v.errors({"status": "success", "data": [{"bbox": [1, 2, 3], "category": "Text"}]}, page))
        self.assertTrue(v.errors({"status": "done"}, page))
        self.assertTrue(v.errors(True, {"const": 1}))
        with self.assertRaises(SchemaError):
            v.errors(1, {"multipleOf": 2})

    def test_docs_web_ui_index_and_operator_pages(self):
        docs = self.check("get", "/docs", self.server.get("/docs"), 200)
        self.assertIn("/openapi.json", docs.text)
        bundle = self.server.get("/static/swagger-ui-bundle.js")
        self.assertEqual(bundle.status_code, 200)
        self.assertIn("javascript", bundle.headers["Content-Type"])
        if len(bundle.content) < 100_000:
            self.skipTest("swagger-ui-dist was not installed when visor was built (run scripts/setup)")
        self.check("get", "/", self.server.get("/"), 200)
        self.check("get", "/api", self.server.get("/api"), 200)
        self.check("get", "/healthz", self.server.get("/healthz"), 200)
        self.check("get", "/readyz", self.server.get("/readyz"), 200)
        self.check("get", "/metrics", self.server.get("/metrics"), 200)
        self.check("get", "/ocr/models", self.server.get("/ocr/models"), 200)
        self.assertEqual(self.server.get("/static/nothing.js").status_code, 404)

    def test_every_route_of_the_server_is_documented(self):
        paths = set(self.contract.document["paths"])
        for path in ("/ocr/submit", "/ocr/status/{job_id}", "/ocr/result/{job_id}", "/ocr/stream/{job_id}",
                     "/ocr/jobs", "/ocr", "/ocr/models", "/healthz", "/readyz", "/metrics", "/openapi.json",
                     "/docs", "/", "/api", "/ocr/page/{job_id}/{page}", "/ocr/jobs/{job_id}",
                     "/ocr/download/{job_id}/{format}"):
            self.assertIn(path, paths)


class JobContractTest(ContractTestCase):

    def test_submit_status_result_stream_and_list_match_the_document(self):
        pdf = pdfgen.make_pdf([pdfgen.sample_page(1), pdfgen.dense_page(2)])
        submitted = self.check("post", "/ocr/submit", self.server.submit(pdf, params={"dpi": "72"}), 200).json()
        job_id = submitted["job_id"]
        self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{job_id}"), 200)
        early = self.server.result(job_id)
        self.check("get", "/ocr/result/{job_id}", early)  # 202 or, on a fast machine, 200
        events = self.check_stream(job_id, "?pages=true")
        self.assertIn("page", [e.event for e in events])
        self.check("get", "/ocr/result/{job_id}", self.server.result(job_id), 200)
        annotated = self.check("get", "/ocr/result/{job_id}", self.server.result(job_id, annotate="true"), 200)
        self.assertEqual(len(annotated.json()["annotated_images"]), 2)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs"), 200)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs", params={"status": "running", "limit": 1}), 200)
        image = self.check("get", "/ocr/page/{job_id}/{page}", self.server.get(f"/ocr/page/{job_id}/1?dpi=36"), 200)
        self.assertEqual(image.content[:8], b"\x89PNG\r\n\x1a\n")
        self.check("get", "/ocr/page/{job_id}/{page}", self.server.get(f"/ocr/page/{job_id}/2"), 404)
        self.check("get", "/ocr/page/{job_id}/{page}", self.server.get(f"/ocr/page/{job_id}/x"), 422)
        self.check("get", "/ocr/page/{job_id}/{page}", self.server.get(f"/ocr/page/{job_id}/0?dpi=2000"), 422)
        for fmt in ("pdf", "md", "txt", "json"):
            self.check("get", "/ocr/download/{job_id}/{format}", self.server.get(f"/ocr/download/{job_id}/{fmt}"), 200)
        self.check("get", "/ocr/download/{job_id}/{format}", self.server.get(f"/ocr/download/{job_id}/docx"), 404)
        self.check("get", "/ocr/download/{job_id}/{format}", self.server.get(f"/ocr/download/{UNKNOWN_ID}/md"), 404)

    def test_a_status_with_webhook_deliveries_matches_the_document(self):
        # Nothing listens on the port: the delivery stays pending with its error.
        hooked = self.server.submit(pdfgen.text_only_pdf(1), params={"dpi": "72", "webhook_pages": "true",
                                                                     "webhook_url": "http://203.0.113.1:9/hook"})
        job_id = self.check("post", "/ocr/submit", hooked, 200).json()["job_id"]
        self.server.wait_for(job_id)
        status = self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{job_id}"), 200).json()
        self.assertEqual([d["event"] for d in status["webhook"]["deliveries"]], ["page.completed", "job.completed"])
        refused = self.server.submit(pdfgen.text_only_pdf(1), params={"webhook_url": "http://127.0.0.1/"})
        self.check("post", "/ocr/submit", refused, 422)

    def test_lightonocr_results_match_the_document(self):
        job_id = self.server.submit_ok(pdfgen.sample_pdf(1), model="lightonocr", dpi="72")["job_id"]
        self.check_stream(job_id, "?pages=true")
        self.check("get", "/ocr/result/{job_id}", self.server.result(job_id), 200)

    def test_legacy_ocr_matches_the_document(self):
        files = {"file": ("legacy.pdf", pdfgen.text_only_pdf(1), "application/pdf")}
        response = requests.post(self.server.url("/ocr"), params={"dpi": "72"}, files=files, timeout=120)
        self.check("post", "/ocr", response, 200)

    def test_error_replies_match_the_document(self):
        pdf = pdfgen.text_only_pdf(1)
        self.check("post", "/ocr/submit", self.server.submit(pdf, params={"model": "xyz"}), 400)
        self.check("post", "/ocr/submit", self.server.submit(pdf, params={"dpi": "7"}), 422)
        self.check("post", "/ocr/submit", self.server.submit(b"not a pdf"), 400)
        self.check("post", "/ocr/submit", self.server.submit(pdf, field_name="upload"), 422)
        self.check("post", "/ocr", requests.post(self.server.url("/ocr"), params={"model": "xyz"},
                                                 files={"file": ("a.pdf", pdf)}, timeout=30), 400)
        self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{UNKNOWN_ID}"), 404)
        self.check("get", "/ocr/result/{job_id}", self.server.get(f"/ocr/result/{UNKNOWN_ID}"), 404)
        self.check("get", "/ocr/result/{job_id}", self.server.get(f"/ocr/result/{UNKNOWN_ID}?annotate=maybe"), 422)
        self.check("get", "/ocr/stream/{job_id}", self.server.get(f"/ocr/stream/{UNKNOWN_ID}"), 404)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs", params={"limit": "0"}), 422)


class SmallLimitsContractTest(ContractTestCase):
    SERVER_FLAGS = ("--max-upload", "1KiB", "--result-ttl", "2s", "--sse-timeout", "1s")

    def test_too_large_expired_and_timeout_replies_match_the_document(self):
        self.check("post", "/ocr/submit", self.server.submit(pdfgen.dense_pdf(3)), 413)
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.server.wait_for(job_id, statuses=("completed", "expired"))
        deadline = time.monotonic() + 30
        while self.server.status(job_id)["status"] != "expired" and time.monotonic() < deadline:
            time.sleep(0.2)
        self.check("get", "/ocr/result/{job_id}", self.server.result(job_id), 404)
        self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{job_id}"), 200)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs?status=expired"), 200)
        events = self.check_stream(job_id)
        self.assertEqual([e.event for e in events][-2:], ["error", "close"])

    def test_timeout_event_matches_the_document(self):
        # Small enough for the 1 KiB limit; at 600 dpi it takes longer than
        # the 1 s stream limit on most machines, but a fast one may finish.
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="600")["job_id"]
        events = self.check_stream(job_id)
        self.assertIn(events[-2].event, ("timeout", "result"))
        self.server.wait_for(job_id, statuses=("completed", "expired"))


class FailedJobContractTest(ContractTestCase):
    WORKERS = 1

    def test_failed_job_replies_match_the_document(self):
        self.server.submit_ok(pdfgen.dense_pdf(2), "blocker.pdf", dpi="72")
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), "victim.pdf", dpi="72")["job_id"]
        if not damage_queued_document(self.server.data_dir, job_id):
            self.skipTest("the job started before its document could be damaged")
        self.assertEqual(self.server.wait_for(job_id)["status"], "failed")
        self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{job_id}"), 200)
        self.check("get", "/ocr/result/{job_id}", self.server.result(job_id), 422)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs?status=failed"), 200)
        self.check_stream(job_id)


class CancelContractTest(ContractTestCase):
    WORKERS = 1

    def test_cancel_replies_and_the_cancelled_job_match_the_document(self):
        job_id = self.server.submit_ok(pdfgen.dense_pdf(6), "long.pdf", dpi="300")["job_id"]
        self.check("delete", "/ocr/jobs/{job_id}", requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=10),
                   200)
        self.check("get", "/ocr/status/{job_id}", self.server.get(f"/ocr/status/{job_id}"), 200)
        self.check("get", "/ocr/result/{job_id}", self.server.result(job_id), 409)
        self.check("get", "/ocr/jobs", self.server.get("/ocr/jobs?status=cancelled"), 200)
        events = self.check_stream(job_id)
        self.assertEqual([e.event for e in events][-2:], ["error", "close"])
        self.check("delete", "/ocr/jobs/{job_id}",
                   requests.delete(self.server.url(f"/ocr/jobs/{UNKNOWN_ID}"), timeout=10), 404)
        done = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.server.wait_for(done)
        self.check("delete", "/ocr/jobs/{job_id}", requests.delete(self.server.url(f"/ocr/jobs/{done}"), timeout=10),
                   409)


class KeyedContractTest(ContractTestCase):
    SERVER_ENV = {"VISOR_API_KEYS": "contract-key-0123456789abcdef"}
    SERVER_FLAGS = ("--submit-rate", "3/h", "--submit-burst", "3", "--max-streams-per-key", "1")
    API_KEY = "contract-key-0123456789abcdef"

    def test_unauthenticated_limited_and_replayed_replies_match_the_document(self):
        for method, template, path in (("get", "/ocr/status/{job_id}", f"/ocr/status/{UNKNOWN_ID}"),
                                       ("get", "/ocr/jobs", "/ocr/jobs"), ("get", "/ocr/models", "/ocr/models"),
                                       ("delete", "/ocr/jobs/{job_id}", f"/ocr/jobs/{UNKNOWN_ID}"),
                                       ("get", "/ocr/stream/{job_id}", f"/ocr/stream/{UNKNOWN_ID}")):
            with self.subTest(path=path):
                self.check(method, template, requests.request(method, self.server.url(path), timeout=10), 401)
        headers = {"Idempotency-Key": "contract-1"}
        pdf = pdfgen.dense_pdf(4)
        first = self.check("post", "/ocr/submit", self.server.submit(pdf, params={"dpi": "300"}, headers=headers), 200)
        replayed = self.check("post", "/ocr/submit", self.server.submit(pdf, params={"dpi": "300"}, headers=headers),
                              200)
        self.assertEqual(replayed.headers.get("Idempotent-Replayed"), "true")
        self.check("post", "/ocr/submit", self.server.submit(pdfgen.text_only_pdf(1), headers=headers), 422)
        self.check("post", "/ocr/submit", self.server.submit(pdfgen.text_only_pdf(1)), 429)
        job_id = first.json()["job_id"]
        held = requests.get(self.server.url(f"/ocr/stream/{job_id}?api_key={self.API_KEY}"), stream=True, timeout=30)
        try:
            self.check("get", "/ocr/stream/{job_id}", self.server.get(f"/ocr/stream/{job_id}"), 429)
        finally:
            held.close()
            requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), headers=self.server.auth_headers(), timeout=10)


if __name__ == "__main__":
    unittest.main()
