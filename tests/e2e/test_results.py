"""GET /ocr/status and GET /ocr/result: status transitions, progress, the 202
body, the completed body, dotsocr and lightonocr page data, annotate."""

from __future__ import annotations

import json
import time
import unittest

import requests

import pdfgen
from visor_harness import (CATEGORIES, ISO_Z_RE, LETTER_PT, ServerTestCase, corpus_file, iou, page_pixels, png_rows,
                           png_size, words)

PENDING_MESSAGE = "Job is still being processed. Please try again later."
UNKNOWN_ID = "fc-01JCFZ8X0000000000000000AB"  # well formed, never issued
ORDER = {"pending": 0, "running": 1, "completed": 2}


class StatusTransitionsTest(ServerTestCase):
    """One worker, so a second job waits while the first runs."""

    WORKERS = 1

    def test_status_goes_pending_running_completed_with_progress(self):
        # Dense pages take about a second each to recognise.
        first = self.server.submit_ok(pdfgen.dense_pdf(1), "first.pdf", dpi="72")
        second = self.server.submit_ok(pdfgen.dense_pdf(2), "second.pdf", dpi="72")
        job_id = second["job_id"]
        seen = []
        progress = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            body = self.server.status(job_id)
            self.assertEqual(body["job_id"], job_id)
            self.assertIn(body["status"], ORDER, body)
            self.assertIsInstance(body["message"], str)
            self.assertEqual(set(body["progress"]), {"pages_done", "total_pages"}, body)
            self.assertEqual(body["progress"]["total_pages"], 2)
            if not seen or seen[-1] != body["status"]:
                seen.append(body["status"])
            progress.append(body["progress"]["pages_done"])
            if body["status"] == "pending":
                self.assertEqual(body["progress"]["pages_done"], 0)
            if body["status"] == "running":
                self.assertEqual(body["message"], "Job is currently being processed")
            if body["status"] == "completed":
                self.assertEqual(body["progress"]["pages_done"], 2)
                self.assertEqual(body["message"], "Job completed successfully")
                break
            time.sleep(0.05)
        self.assertEqual(seen, ["pending", "running", "completed"], "statuses seen in order")
        self.assertEqual(progress, sorted(progress), "pages_done never goes back")
        self.server.wait_for(first["job_id"])

    def test_result_is_202_with_the_seed_body_while_not_done(self):
        # Three dense pages keep the only worker busy for seconds, even on a
        # machine that stalls the test meanwhile.
        first = self.server.submit_ok(pdfgen.dense_pdf(3), "first.pdf", dpi="72")
        second = self.server.submit_ok(pdfgen.text_only_pdf(1), "second.pdf", dpi="72")
        for job in (second, first):
            response = self.server.result(job["job_id"])
            with self.subTest(job=job["filename"]):
                self.assertEqual(response.status_code, 202, response.text)
                body = response.json()
                self.assertIs(body["success"], False)
                self.assertEqual(body["job_id"], job["job_id"])
                self.assertIn(body["status"], ("pending", "running"))
                self.assertEqual(body["message"], PENDING_MESSAGE)
                self.assertNotIn("results", body)
        self.assertEqual(self.server.result(second["job_id"]).json()["status"], "pending",
                         "the job behind another on the only worker is pending")
        # Leave the worker idle for the next test.
        self.server.wait_for(second["job_id"])


class ResultTest(ServerTestCase):
    """Jobs are submitted once for the class and checked by several tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dots = cls.server.submit_ok(pdfgen.sample_pdf(2), "sample.pdf", model="dotsocr", dpi="100")
        cls.lighton = cls.server.submit_ok(pdfgen.sample_pdf(1), "sample-md.pdf", model="lightonocr", dpi="100")
        cls._completed = {}

    def completed(self, job: dict) -> dict:
        """The 200 result body of a job, waiting for it to finish."""
        job_id = job["job_id"]
        if job_id not in self._completed:
            status = self.server.wait_for(job_id)
            self.assertEqual(status["status"], "completed", status)
            response = self.server.result(job_id)
            self.assertEqual(response.status_code, 200, response.text)
            self._completed[job_id] = response.json()
        return self._completed[job_id]

    def test_completed_result_has_every_field(self):
        body = self.completed(self.dots)
        self.assertIs(body["success"], True)
        self.assertEqual(body["job_id"], self.dots["job_id"])
        self.assertEqual(body["status"], "completed")
        self.assertEqual(body["filename"], "sample.pdf")
        self.assertEqual(body["total_pages"], 2)
        self.assertEqual(body["dpi"], 100)
        self.assertEqual(body["model"], "dotsocr")
        self.assertEqual(body["annotated_images"], [])
        self.assertEqual(body["message"], "Job completed successfully")
        self.assertRegex(body["completed_at"], ISO_Z_RE)
        self.assertGreaterEqual(body["completed_at"][:19], self.dots["submitted_at"][:19])

    def test_results_have_one_entry_per_page_in_page_order(self):
        body = self.completed(self.dots)
        self.assertEqual(list(body["results"]), ["page_0", "page_1"])
        for key, page in body["results"].items():
            with self.subTest(page=key):
                self.assertEqual(page["status"], "success", page)
                self.assertIn("data", page)

    def test_status_of_completed_job_reports_all_pages_done(self):
        self.completed(self.dots)
        status = self.server.status(self.dots["job_id"])
        self.assertEqual(status["status"], "completed")
        self.assertEqual(status["progress"], {"pages_done": 2, "total_pages": 2})

    def test_dotsocr_elements_have_int_bbox_known_category_and_text(self):
        body = self.completed(self.dots)
        width, height = page_pixels(*LETTER_PT, 100)
        for key, page in body["results"].items():
            self.assertIsInstance(page["data"], list)
            self.assertTrue(page["data"], f"{key}: no elements found on a page with text")
            for element in page["data"]:
                with self.subTest(page=key, element=element):
                    self.assertEqual(list(element)[:2], ["bbox", "category"])
                    bbox = element["bbox"]
                    self.assertEqual(len(bbox), 4)
                    self.assertTrue(all(type(v) is int for v in bbox), bbox)
                    x1, y1, x2, y2 = bbox
                    self.assertTrue(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height,
                                    f"bbox {bbox} not inside the {width}x{height} page")
                    self.assertIn(element["category"], CATEGORIES)
                    if element["category"] == "Picture":
                        self.assertNotIn("text", element)
                    else:
                        self.assertIsInstance(element["text"], str)

    def test_dotsocr_finds_the_text_in_reading_order(self):
        body = self.completed(self.dots)
        elements = body["results"]["page_0"]["data"]
        texts = [e.get("text", "").lower() for e in elements]
        found = words(" ".join(texts))
        for word in ("quarterly", "report", "river", "farmers", "children", "bread", "apples"):
            self.assertIn(word, found, f"'{word}' not recognised; page text: {texts}")

        def index_of(word):
            return next(i for i, t in enumerate(texts) if word in t)

        self.assertLessEqual(index_of("quarterly"), index_of("river"))
        self.assertLessEqual(index_of("river"), index_of("bread"))
        self.assertLessEqual(index_of("bread"), index_of("apples"))
        title = elements[index_of("quarterly")]
        self.assertIn(title["category"], ("Title", "Section-header"), title)
        self.assertIn("report", words(" ".join(e.get("text", "") for e in body["results"]["page_1"]["data"])))

    def test_dotsocr_title_box_is_where_the_title_was_drawn(self):
        body = self.completed(self.dots)
        elements = body["results"]["page_0"]["data"]
        title = next(e for e in elements if "quarterly" in e.get("text", "").lower())
        # Drawn at x=72pt, baseline y=700pt from the bottom, 28pt Helvetica:
        # at 100 DPI the capitals span y 100..128 px from the top (descenders
        # to about 136), starting at x 100 px.
        x1, y1, x2, y2 = title["bbox"]
        self.assertLess(abs(x1 - 100), 15, title)
        self.assertLess(abs(y1 - 100), 15, title)
        self.assertTrue(120 <= y2 <= 150, title)
        self.assertGreater(x2, x1 + 200, title)

    def test_lightonocr_page_is_a_markdown_string_with_the_text(self):
        body = self.completed(self.lighton)
        self.assertEqual(body["model"], "lightonocr")
        self.assertEqual(list(body["results"]), ["page_0"])
        page = body["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        markdown = page["data"]
        self.assertIsInstance(markdown, str)
        for word in ("quarterly", "river", "farmers", "bread", "apples"):
            self.assertIn(word, words(markdown), markdown)
        lines = [line for line in markdown.splitlines() if line.strip()]
        title = next(line for line in lines if "quarterly" in line.lower())
        self.assertTrue(title.startswith("#"), f"title is not a heading: {title!r}\n{markdown}")
        bread = next(line for line in lines if "bread" in line.lower())
        self.assertRegex(bread, r"^\s*([-*+]|\d+[.)])\s", f"list item is not a Markdown list item:\n{markdown}")

    def test_annotate_true_gives_one_png_per_page_at_the_job_dpi(self):
        self.completed(self.dots)
        response = self.server.result(self.dots["job_id"], annotate="true")
        self.assertEqual(response.status_code, 200, response.text[:500])
        images = response.json()["annotated_images"]
        self.assertEqual(len(images), 2)
        for image in images:
            self.assertTrue(image.startswith("data:image/png;base64,"), image[:40])
            self.assertEqual(png_size(image), page_pixels(*LETTER_PT, 100))

    def test_annotate_draws_each_box_in_its_category_colour(self):
        body = self.completed(self.dots)
        response = self.server.result(self.dots["job_id"], annotate="true")
        image = response.json()["annotated_images"][0]
        elements = body["results"]["page_0"]["data"]
        colours = {"Title": (0xFF, 0x00, 0x00), "Text": (0x00, 0xFF, 0x00), "List-item": (0x90, 0xEE, 0x90),
                   "Section-header": (0xFF, 0x00, 0xFF)}
        checked = [e for e in elements if e["category"] in colours]
        self.assertTrue(checked, elements)
        last_row = max(e["bbox"][3] for e in checked) + 8
        width, height, channels, rows = png_rows(image, last_row)
        self.assertEqual(channels, 3, "annotated pages are RGB")
        for element in checked:
            with self.subTest(element=element):
                x1, y1, x2, y2 = element["bbox"]
                want = colours[element["category"]]
                # Some pixel near the middle of the left edge has the colour.
                mid = (y1 + y2) // 2
                found = False
                for y in range(max(0, mid - 3), min(height, mid + 4)):
                    row = rows[y]
                    for x in range(max(0, x1 - 8), min(width, x1 + 8)):
                        if tuple(row[x * 3:x * 3 + 3]) == want:
                            found = True
                            break
                    if found:
                        break
                self.assertTrue(found, f"no {element['category']} colour {want} at the left edge of {element['bbox']}")

    def test_annotate_false_gives_an_empty_list(self):
        self.completed(self.dots)
        response = self.server.result(self.dots["job_id"], annotate="false")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["annotated_images"], [])

    def test_annotate_for_lightonocr_is_an_empty_list(self):
        self.completed(self.lighton)
        response = self.server.result(self.lighton["job_id"], annotate="true")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["annotated_images"], [])

    def test_annotate_maybe_is_422(self):
        self.assertDetail(self.server.result(self.dots["job_id"], annotate="maybe"), 422, "annotate")

    def test_unknown_job_is_404_with_detail(self):
        self.assertDetail(self.server.get(f"/ocr/status/{UNKNOWN_ID}"), 404)
        self.assertDetail(self.server.get(f"/ocr/result/{UNKNOWN_ID}"), 404)

    def test_malformed_job_ids_are_404_with_detail(self):
        for job_id in ("abc", "fc-123", "fc-01jcfz8x0000000000000000ab", "fc-" + "U" * 26, "fc-8" + "0" * 25,
                       "%2e%2e", "fc-01JCFZ8X0000000000000000AB0"):
            with self.subTest(job_id=job_id):
                self.assertDetail(self.server.get(f"/ocr/status/{job_id}"), 404)
                self.assertDetail(self.server.get(f"/ocr/result/{job_id}"), 404)

    def test_corpus_document_text_boxes_and_picture_match_the_ground_truth(self):
        path = corpus_file("gt/doc11_007.pdf")
        truth = json.loads(path.with_suffix(".json").read_text())
        job = self.server.submit_ok(path.read_bytes(), path.name, dpi="100")
        body = self.completed(job)
        self.assertEqual(body["total_pages"], len(truth["pages"]))
        self.assertEqual(list(body["results"]), [f"page_{i}" for i in range(len(truth["pages"]))])
        scale = 100 / 72
        for i, truth_page in enumerate(truth["pages"]):
            page = body["results"][f"page_{i}"]
            self.assertEqual(page["status"], "success")
            width, height = page_pixels(truth_page["width"], truth_page["height"], 100)
            for element in page["data"]:
                x1, y1, x2, y2 = element["bbox"]
                self.assertTrue(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, element)
                self.assertIn(element["category"], CATEGORIES)
                if element["category"] == "Picture":
                    self.assertNotIn("text", element)
            expected = {w for e in truth_page["elements"] for w in words(e.get("text", "")) if len(w) >= 4}
            got = words(" ".join(e.get("text", "") for e in page["data"]))
            if expected:
                recall = len(expected & got) / len(expected)
                self.assertGreater(recall, 0.6, f"page {i}: words missed: {sorted(expected - got)[:30]}")
            # Each drawn picture is found as a Picture in about the same place.
            for picture in (e for e in truth_page["elements"] if e["category"] == "Picture"):
                box = [v * scale for v in picture["bbox"]]
                overlaps = [iou(box, e["bbox"]) for e in page["data"] if e["category"] == "Picture"]
                self.assertTrue(overlaps and max(overlaps) > 0.5,
                                f"page {i}: picture at {box} not found: {page['data']}")

    def test_seed_polling_snippet_works_unmodified(self):
        # Pattern 2 of the seed, with only the host changed and a deadline.
        base = self.server.base
        files = {'file': ('document.pdf', pdfgen.text_only_pdf(1), 'application/pdf')}
        response = requests.post(f'{base}/ocr/submit?dpi=72', files=files)
        job_id = response.json()['job_id']
        printed = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status_response = requests.get(f'{base}/ocr/status/{job_id}')
            status_data = status_response.json()
            if status_data['status'] == 'completed':
                result = requests.get(f'{base}/ocr/result/{job_id}')
                printed = result.json()
                break
            time.sleep(2)
        self.assertIsNotNone(printed, "the polling loop never saw 'completed'")
        self.assertIn("page_0", printed["results"])


if __name__ == "__main__":
    unittest.main()
