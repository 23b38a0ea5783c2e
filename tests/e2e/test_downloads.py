"""GET /ocr/download/{job_id}/{format}: a finished job as a searchable PDF,
one Markdown file, plain text or the result JSON, under the uploaded name.

The searchable PDF is checked the way a reader's software sees it: poppler's
`pdftotext -bbox` extracts its words and their boxes, which must be the
result's words, inside the boxes the result reports."""

from __future__ import annotations

import collections
import json
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import requests

import images
import pdfgen
from visor_harness import ServerTestCase, corpus_file

BODY_LEFT_OUT = {"Page-header", "Page-footer", "Picture"}


def pdftotext_words(pdf: bytes) -> list[list[tuple[str, tuple[float, float, float, float]]]]:
    """Per page, each word pdftotext finds and its box in points (top-left origin)."""
    if shutil.which("pdftotext") is None:
        raise unittest.SkipTest("pdftotext (poppler-utils) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(pdf)
        html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True,
                              timeout=60).stdout.decode()
    root = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", html).replace(' xmlns="http://www.w3.org/1999/xhtml"', ""))
    pages = []
    for page in root.iter("page"):
        pages.append([(w.text or "", (float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")),
                                      float(w.get("yMax")))) for w in page.iter("word")])
    return pages


def word_bag(text: str) -> collections.Counter:
    return collections.Counter(re.findall(r"\w+", text.lower()))


def overlap_f1(found: collections.Counter, expected: collections.Counter) -> float:
    common = sum((found & expected).values())
    if common == 0:
        return 0.0
    precision = common / sum(found.values())
    recall = common / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def element_text(element: dict) -> str:
    text = element.get("text", "")
    return re.sub(r"<[^>]+>", " ", text)  # a table's HTML: its cells' words


def inside(word_box, element_box, slack: float) -> bool:
    cx, cy = (word_box[0] + word_box[2]) / 2, (word_box[1] + word_box[3]) / 2
    return (element_box[0] - slack <= cx <= element_box[2] + slack
            and element_box[1] - slack <= cy <= element_box[3] + slack)


class DownloadTest(ServerTestCase):
    # Born-digital pages from their text layer, scans OCR'd: the server's default.
    SERVER_FLAGS = ("--ocr-mode", "auto")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scan = cls.finish(corpus_file("gt/doc11_000.scan.pdf").read_bytes(), "doc11 scan.pdf")
        cls.digital = cls.finish(pdfgen.sample_pdf(2), "Quarterly report.pdf")

    @classmethod
    def finish(cls, document: bytes, filename: str, **params) -> tuple[str, dict]:
        job = cls.server.submit_ok(document, filename, **params)
        return job["job_id"], cls.server.completed_result(job["job_id"])

    def download(self, job_id: str, fmt: str):
        return self.server.get(f"/ocr/download/{job_id}/{fmt}", timeout=120)

    def assertWordsSitInTheirBoxes(self, pdf: bytes, result: dict):
        """Every page's words are the result's words (bag-of-words F1 >= 0.97),
        and almost every word's centre lies inside one of its elements' boxes."""
        dpi = result["dpi"]
        pages = pdftotext_words(pdf)
        self.assertEqual(len(pages), result["total_pages"])
        for index, words in enumerate(pages):
            elements = result["results"][f"page_{index}"]["data"]
            expected = word_bag(" ".join(element_text(e) for e in elements))
            found = word_bag(" ".join(w for w, _ in words))
            self.assertGreaterEqual(overlap_f1(found, expected), 0.97, (sorted(found.items()), sorted(expected.items())))
            boxes = [[v * 72 / dpi for v in e["bbox"]] for e in elements]
            placed = [any(inside(box, element, 2) for element in boxes) for _, box in words]
            self.assertGreaterEqual(sum(placed) / len(placed), 0.98,
                                    [w for (w, _), ok in zip(words, placed) if not ok])

    def test_a_scan_becomes_searchable_with_its_words_where_the_result_puts_them(self):
        job_id, result = self.scan
        self.assertTrue(all(p["source"] == "ocr" for p in result["results"].values()))
        response = self.download(job_id, "pdf")
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertEqual(response.headers["Content-Disposition"],
                         "attachment; filename=\"doc11 scan.ocr.pdf\"; filename*=UTF-8''doc11%20scan.ocr.pdf")
        self.assertTrue(response.content.startswith(b"%PDF-"))
        self.assertWordsSitInTheirBoxes(response.content, result)

    def test_a_born_digital_document_keeps_its_own_text_layer_untouched(self):
        job_id, result = self.digital
        self.assertTrue(all(p["source"] == "text-layer" for p in result["results"].values()))
        response = self.download(job_id, "pdf")
        self.assertEqual(response.status_code, 200, response.text[:300])
        original = pdftotext_words(pdfgen.sample_pdf(2))
        searchable = pdftotext_words(response.content)
        self.assertEqual(searchable, original)  # nothing added, nothing moved
        self.assertWordsSitInTheirBoxes(response.content, result)

    def test_an_image_becomes_a_pdf_page_with_its_text(self):
        image = images.make_image(pdfgen.sample_pdf(1), "png", 150)
        job_id, result = self.finish(image, "photo.png")
        response = self.download(job_id, "pdf")
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(response.headers["Content-Disposition"].split(";")[1].strip(), 'filename="photo.ocr.pdf"')
        self.assertWordsSitInTheirBoxes(response.content, result)
        # The page is the image at its own size: 8.5 x 11 in at its 150 DPI.
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "out.pdf"
            path.write_bytes(response.content)
            info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        self.assertRegex(info, r"Page size:\s+612 x 792 pts")

    def test_markdown_is_the_pages_body_joined_in_order(self):
        job_id, result = self.scan
        response = self.download(job_id, "md")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "text/markdown; charset=utf-8")
        self.assertIn('filename="doc11 scan.md"', response.headers["Content-Disposition"])
        markdown = response.text
        position = 0
        for element in result["results"]["page_0"]["data"]:
            text = element.get("text", "").strip()
            if not text or element["category"] == "Table":
                continue
            first_line = text.splitlines()[0].lstrip("-•* ").strip()
            if element["category"] in BODY_LEFT_OUT:
                self.assertNotIn(f"\n{first_line}\n", f"\n{markdown}\n", element)
                continue
            found = markdown.find(first_line, position)
            self.assertGreaterEqual(found, 0, (element, markdown[position:position + 300]))
            position = found
        titles = [e["text"] for e in result["results"]["page_0"]["data"] if e["category"] == "Title"]
        for title in titles:
            self.assertIn(f"# {title}", markdown)

    def test_plain_text_has_every_body_word_and_a_form_feed_between_pages(self):
        job_id, result = self.digital
        response = self.download(job_id, "txt")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "text/plain; charset=utf-8")
        pages = response.text.split("\f")
        self.assertEqual(len(pages), 2)
        for index, text in enumerate(pages):
            body = [e for e in result["results"][f"page_{index}"]["data"] if e["category"] not in BODY_LEFT_OUT]
            self.assertEqual(word_bag(text), word_bag(" ".join(element_text(e) for e in body)))
            self.assertNotIn("#", text)
        self.assertTrue(pages[0].startswith(pdfgen.TITLE), pages[0][:100])

    def test_json_is_the_result_body_as_a_file(self):
        job_id, result = self.digital
        response = self.download(job_id, "json")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/json")
        self.assertIn('filename="Quarterly report.json"', response.headers["Content-Disposition"])
        self.assertEqual(json.loads(response.content), result)

    def test_lightonocr_markdown_is_its_pages_markdown_joined(self):
        job_id, result = self.finish(pdfgen.sample_pdf(2), "lighton.pdf", model="lightonocr")
        markdown = self.download(job_id, "md").text
        pages = [result["results"][f"page_{i}"]["data"].strip() for i in range(2)]
        self.assertEqual(markdown, "\n\n".join(pages) + "\n")
        response = self.download(job_id, "pdf")
        self.assertEqual(response.status_code, 200)
        found = word_bag(" ".join(w for page in pdftotext_words(response.content) for w, _ in page))
        self.assertTrue(word_bag(pdfgen.TITLE) <= found)

    def test_unfinished_unknown_and_cancelled_jobs_answer_as_the_result_route_does(self):
        job = self.server.submit_ok(pdfgen.dense_pdf(3), "slow.pdf", ocr_mode="ocr")
        job_id = job["job_id"]
        for fmt in ("pdf", "md", "txt", "json"):
            response = self.download(job_id, fmt)
            if response.status_code == 200:
                self.skipTest("the job finished before it could be seen unfinished")
            self.assertEqual(response.status_code, 202, response.text)
            self.assertEqual(set(response.json()), set(self.server.result(job_id).json()))
        requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=30)
        response = self.download(job_id, "md")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["status"], "cancelled")
        self.assertEqual(self.download("fc-01JCFZ8X0000000000000000AA", "md").status_code, 404)
        self.assertDetail(self.download(self.digital[0], "docx"), 404, "pdf, md, txt, json")


class DownloadExpiryAndKeysTest(ServerTestCase):
    SERVER_FLAGS = ("--result-ttl", "3s")
    SERVER_ENV = {"VISOR_API_KEYS": "alice-key-0123456789abcdef,bob-key-0123456789abcdefgh"}
    API_KEY = "alice-key-0123456789abcdef"

    def test_another_keys_job_is_not_found_and_an_expired_one_says_so(self):
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), "alice.pdf", dpi="72")["job_id"]
        self.server.wait_for(job_id)
        own = self.server.get(f"/ocr/download/{job_id}/txt")
        self.assertEqual(own.status_code, 200, own.text)
        # A download link works without headers, as the web UI's does.
        link = requests.get(self.server.url(f"/ocr/download/{job_id}/txt"),
                            params={"api_key": self.API_KEY}, timeout=30)
        self.assertEqual(link.status_code, 200)
        other = self.server.get(f"/ocr/download/{job_id}/txt",
                                headers={"Authorization": "Bearer bob-key-0123456789abcdefgh"})
        self.assertDetail(other, 404, "not found")
        time.sleep(3.5)
        expired = self.server.get(f"/ocr/download/{job_id}/pdf")
        self.assertEqual(expired.status_code, 404)
        self.assertEqual(expired.json()["status"], "expired")


if __name__ == "__main__":
    unittest.main()
