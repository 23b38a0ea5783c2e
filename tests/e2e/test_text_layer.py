"""ocr_mode through the HTTP API: born-digital pages read from their text
layer in auto (the server's default) and text, rendered and OCR'd in ocr;
every page says which path made it, and both paths put a page's elements
in the same places."""

from __future__ import annotations

import re
import unittest

import requests

import pdfgen
from visor_harness import ServerTestCase, VisorServer, collect_events, iou, page_pixels, png_size, words

TEXT_ENGINE = re.compile(r"^text layer \(MuPDF [0-9.]+\)$")


def drawing_only_pdf() -> bytes:
    """A page of vector drawing and no text at all."""
    return pdfgen.make_pdf([[]], background=b"0.2 g\n72 500 300 200 re f\n0 g\n")


class TextLayerTest(ServerTestCase):
    # The server's own default, not the harness's "ocr" for the other suites.
    SERVER_FLAGS = ("--ocr-mode", "auto")

    def submit_and_finish(self, pdf: bytes, **params) -> tuple[dict, dict]:
        submitted = self.server.submit_ok(pdf, **params)
        return submitted, self.server.completed_result(submitted["job_id"])

    def test_auto_is_the_default_and_reads_born_digital_pages_from_their_text_layer(self):
        submitted, body = self.submit_and_finish(pdfgen.sample_pdf(2), dpi="100")
        self.assertEqual(submitted["ocr_mode"], "auto")
        self.assertEqual(self.server.status(submitted["job_id"])["ocr_mode"], "auto")
        self.assertEqual(body["ocr_mode"], "auto")
        self.assertEqual(body["metadata"]["ocr_mode"], "auto")
        for key in ("page_0", "page_1"):
            page = body["results"][key]
            self.assertEqual(page["status"], "success", page)
            self.assertEqual(page["source"], "text-layer", page)
        self.assertRegex(body["metadata"]["engine"], TEXT_ENGINE)
        self.assertEqual(len(body["metadata"]["engines"]), 1, body["metadata"])
        elements = body["results"]["page_0"]["data"]
        title = next(e for e in elements if e["category"] == "Title")
        self.assertEqual(title["text"], pdfgen.TITLE)
        items = [e for e in elements if e["category"] == "List-item"]
        self.assertEqual([words(e["text"]) >= words(item) for e, item in zip(items, pdfgen.ITEMS)], [True, True],
                         elements)
        text = " ".join(e["text"] for e in elements)
        for line in pdfgen.PARAGRAPH:
            self.assertIn(line, text)

    def test_lightonocr_markdown_comes_from_the_text_layer_too(self):
        _, body = self.submit_and_finish(pdfgen.sample_pdf(1), model="lightonocr")
        page = body["results"]["page_0"]
        self.assertEqual(page["source"], "text-layer", page)
        markdown = page["data"]
        self.assertRegex(markdown, r"(?m)^#+ Quarterly Report$", markdown)
        self.assertRegex(markdown, r"(?m)^\s*[-*] Fresh bread and butter$", markdown)

    def test_ocr_mode_ocr_renders_and_ocrs_the_same_pages(self):
        submitted, body = self.submit_and_finish(pdfgen.sample_pdf(1), ocr_mode="ocr", dpi="100")
        self.assertEqual(submitted["ocr_mode"], "ocr")
        page = body["results"]["page_0"]
        self.assertEqual(page["source"], "ocr", page)
        self.assertNotRegex(body["metadata"]["engine"], TEXT_ENGINE)
        self.assertIn("Quarterly", " ".join(e["text"] for e in page["data"]))

    def test_auto_ocrs_a_page_without_text(self):
        _, body = self.submit_and_finish(drawing_only_pdf(), dpi="72")
        page = body["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        self.assertEqual(page["source"], "ocr", page)

    def test_ocr_mode_text_makes_a_page_without_text_a_page_error_saying_why(self):
        submitted = self.server.submit_ok(drawing_only_pdf(), ocr_mode="text")
        status = self.server.wait_for(submitted["job_id"])
        body = self.server.result(submitted["job_id"]).json()
        if status["status"] == "completed":
            page = body["results"]["page_0"]
            self.assertEqual(page["status"], "error", page)
            error = page["error"]
        else:
            self.assertEqual(status["status"], "failed", status)
            error = status.get("error") or body.get("error") or str(body)
        self.assertIn("no usable text layer", error)
        self.assertIn("ocr_mode text", error)

    def test_ocr_mode_text_reads_a_born_digital_page(self):
        _, body = self.submit_and_finish(pdfgen.sample_pdf(1), ocr_mode="text")
        self.assertEqual(body["results"]["page_0"]["source"], "text-layer")

    def test_an_unknown_ocr_mode_is_422_naming_the_choices(self):
        for path in ("/ocr/submit", "/ocr"):
            with self.subTest(path=path):
                response = requests.post(self.server.url(path), params={"ocr_mode": "fast"},
                                         files={"file": ("a.pdf", pdfgen.sample_pdf(1), "application/pdf")},
                                         timeout=60)
                self.assertDetail(response, 422, "ocr_mode", "auto, ocr, text", "fast")

    def test_the_blocking_route_takes_ocr_mode(self):
        response = requests.post(self.server.url("/ocr"), params={"ocr_mode": "ocr", "dpi": "100"},
                                 files={"file": ("a.pdf", pdfgen.sample_pdf(1), "application/pdf")}, timeout=120)
        self.assertEqual(response.status_code, 200, response.text[:500])
        self.assertEqual(response.json()["results"]["page_0"]["source"], "ocr")

    def matched_boxes(self, categories: set[str]) -> list[tuple[dict, dict]]:
        """Each text-layer element of `categories` with the OCR'd element that
        overlaps it most, where the two share words."""
        pdf = pdfgen.sample_pdf(1)
        _, text = self.submit_and_finish(pdf, ocr_mode="text", dpi="200")
        _, ocr = self.submit_and_finish(pdf, ocr_mode="ocr", dpi="200")
        from_ocr = ocr["results"]["page_0"]["data"]
        pairs = []
        for element in text["results"]["page_0"]["data"]:
            if element["category"] not in categories:
                continue
            best = max(from_ocr, key=lambda other: iou(element["bbox"], other["bbox"]))
            if words(best["text"]) & words(element["text"]):
                pairs.append((element, best))
        return pairs

    def test_text_layer_boxes_agree_with_the_same_page_ocrd(self):
        pairs = self.matched_boxes({"Title", "Text", "Section-header"})
        self.assertGreaterEqual(len(pairs), 2, pairs)  # the title and the paragraph (or its lines)
        for element, best in pairs:
            self.assertGreaterEqual(iou(element["bbox"], best["bbox"]), 0.8, (element, best))

    # The bullet's glyph is found by the id the page draws it with, not by
    # looking its character up in a font whose map is not Unicode.
    def test_text_layer_list_item_boxes_agree_with_the_same_page_ocrd(self):
        pairs = self.matched_boxes({"List-item"})
        self.assertEqual(len(pairs), 2, pairs)
        for element, best in pairs:
            self.assertGreaterEqual(iou(element["bbox"], best["bbox"]), 0.8, (element, best))

    def test_stream_page_events_and_annotated_images_for_text_layer_pages(self):
        submitted = self.server.submit_ok(pdfgen.sample_pdf(2), dpi="100")
        _, events = collect_events(self.server.url(f"/ocr/stream/{submitted['job_id']}?pages=true"))
        pages = [e.json() for e in events if e.event == "page"]
        self.assertEqual(sorted(p["page_index"] for p in pages), [0, 1])
        self.assertEqual({p["result"]["source"] for p in pages}, {"text-layer"})
        response = self.server.result(submitted["job_id"], annotate="true")
        images = response.json()["annotated_images"]
        self.assertEqual([png_size(image) for image in images], [page_pixels(612, 792, 100)] * 2)

    def test_server_flag_sets_the_mode_of_a_submit_that_names_none(self):
        server = VisorServer("--ocr-mode", "ocr", workers=1, name="ocr-default").start()
        try:
            submitted = server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
            self.assertEqual(submitted["ocr_mode"], "ocr")
            server.wait_for(submitted["job_id"])
            body = server.result(submitted["job_id"]).json()
            self.assertEqual(body["results"]["page_0"]["source"], "ocr")
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
