"""`pages` through the HTTP API and `visor ocr --pages`: 1-based numbers and
ranges select what is processed; results keep the document's own page
indexes; total_pages and progress count the selection, which status, list,
result and metadata report; bad selections are 422s naming the page count."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import unittest
from pathlib import Path

import requests

import pdfgen
from visor_harness import BINARY, ServerTestCase, collect_events, require_binary


def titled_pdf(pages: int) -> bytes:
    """`pages` pages, page k (from 1) titled 'Quarterly Report k' (the first 'Quarterly Report')."""
    return pdfgen.sample_pdf(pages)


def title_of(page: dict) -> str:
    return next(e["text"] for e in page["data"] if e["text"].startswith("Quarterly Report"))


class PageRangesTest(ServerTestCase):
    # Born-digital pages read from their text layer: the selection, not OCR, is under test.
    SERVER_FLAGS = ("--ocr-mode", "auto")

    def test_a_range_processes_only_its_pages_under_their_document_indexes(self):
        submitted = self.server.submit_ok(titled_pdf(5), pages="3-4")
        self.assertEqual(submitted["total_pages"], 2)
        self.assertEqual(submitted["pages"], "3-4")
        self.assertEqual(submitted["document_pages"], 5)
        body = self.server.completed_result(submitted["job_id"])
        self.assertEqual(sorted(body["results"]), ["page_2", "page_3"])
        self.assertEqual(title_of(body["results"]["page_2"]), "Quarterly Report 3")
        self.assertEqual(title_of(body["results"]["page_3"]), "Quarterly Report 4")
        self.assertEqual(body["total_pages"], 2)
        self.assertEqual((body["pages"], body["document_pages"]), ("3-4", 5))
        self.assertEqual((body["metadata"]["pages"], body["metadata"]["document_pages"]), ("3-4", 5))
        status = self.server.status(submitted["job_id"])
        self.assertEqual(status["progress"], {"pages_done": 2, "total_pages": 2})
        self.assertEqual((status["pages"], status["document_pages"]), ("3-4", 5))
        listed = self.server.get("/ocr/jobs").json()["jobs"]
        entry = next(job for job in listed if job["job_id"] == submitted["job_id"])
        self.assertEqual((entry["pages"], entry["total_pages"]), ("3-4", 2))

    def test_numbers_ranges_and_an_open_end_combine(self):
        submitted = self.server.submit_ok(titled_pdf(11), pages="1-3, 7,10-,2")
        self.assertEqual(submitted["pages"], "1-3,7,10-11")
        self.assertEqual(submitted["total_pages"], 6)
        body = self.server.completed_result(submitted["job_id"])
        self.assertEqual(sorted(body["results"], key=lambda key: int(key[5:])),
                         ["page_0", "page_1", "page_2", "page_6", "page_9", "page_10"])
        self.assertEqual(title_of(body["results"]["page_10"]), "Quarterly Report 11")

    def test_without_pages_every_page_is_processed_and_reported_as_selected(self):
        submitted = self.server.submit_ok(titled_pdf(3))
        self.assertEqual((submitted["pages"], submitted["document_pages"], submitted["total_pages"]), ("1-3", 3, 3))

    def test_stream_page_events_name_document_pages_and_count_the_selection(self):
        submitted = self.server.submit_ok(titled_pdf(6), pages="2,5")
        _, events = collect_events(self.server.url(f"/ocr/stream/{submitted['job_id']}?pages=true"))
        pages = [e.json() for e in events if e.event == "page"]
        self.assertEqual(sorted(p["page_index"] for p in pages), [1, 4])
        self.assertEqual({p["total_pages"] for p in pages}, {2})
        result = next(e.json() for e in events if e.event == "result")
        self.assertEqual(sorted(result["results"]), ["page_1", "page_4"])
        # A client resuming after the first page event is not sent it again.
        first = next(e for e in events if e.event == "page")
        response = requests.get(self.server.url(f"/ocr/stream/{submitted['job_id']}"),
                                params={"pages": "true", "last_event_id": first.id}, stream=True, timeout=30)
        text = response.text
        self.assertEqual(text.count("event: page"), 1, text[:2000])

    def test_bad_selections_are_422_naming_the_page_count_on_both_routes(self):
        for pages, words in (("4-6", ("page 6", "4 pages")), ("0", ("4 pages",)), ("2-1", ("4 pages",)),
                             ("a-b", ("4 pages",)), (",", ("4 pages",))):
            for route in ("/ocr/submit", "/ocr"):
                with self.subTest(pages=pages, route=route):
                    response = requests.post(self.server.url(route), params={"pages": pages},
                                             files={"file": ("doc.pdf", titled_pdf(4))}, timeout=60)
                    self.assertDetail(response, 422, "pages", *words)

    def test_the_blocking_route_takes_a_selection(self):
        response = requests.post(self.server.url("/ocr"), params={"pages": "2"},
                                 files={"file": ("doc.pdf", titled_pdf(3))}, timeout=120)
        self.assertEqual(response.status_code, 200, response.text[:500])
        body = response.json()
        self.assertEqual(list(body["results"]), ["page_1"])
        self.assertEqual((body["pages"], body["total_pages"]), ("2", 1))

    def test_the_same_idempotency_key_with_another_selection_is_a_conflict(self):
        headers = {"Idempotency-Key": "pages-key-1"}
        files = {"file": ("doc.pdf", titled_pdf(3))}
        first = requests.post(self.server.url("/ocr/submit"), params={"pages": "1"}, files=files, headers=headers,
                              timeout=60)
        self.assertEqual(first.status_code, 200, first.text)
        again = requests.post(self.server.url("/ocr/submit"), params={"pages": "2"}, files=files, headers=headers,
                              timeout=60)
        self.assertDetail(again, 422, "Idempotency-Key was already used for a different request")


class OcrCommandPagesTest(unittest.TestCase):
    def test_visor_ocr_pages_selects_document_pages(self):
        require_binary(self)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "doc.pdf"
            path.write_bytes(titled_pdf(4))
            env = {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}
            run = subprocess.run([str(BINARY), "ocr", str(path), "--pages", "2,4", "--dpi", "72"],
                                 capture_output=True, text=True, timeout=120, env=env)
            self.assertEqual(run.returncode, 0, run.stderr)
            out = json.loads(run.stdout)
            self.assertEqual(sorted(out["results"]), ["page_1", "page_3"])
            self.assertEqual((out["pages"], out["total_pages"], out["document_pages"]), ("2,4", 2, 4))
            self.assertEqual(title_of(out["results"]["page_3"]), "Quarterly Report 4")
            bad = subprocess.run([str(BINARY), "ocr", str(path), "--pages", "5"], capture_output=True, text=True,
                                 timeout=60, env=env)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("4 pages", bad.stderr)


if __name__ == "__main__":
    unittest.main()
