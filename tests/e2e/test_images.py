"""Image uploads through the HTTP API: PNG, JPEG, TIFF (every page of a
multi-page one) and the other formats MuPDF reads, told by their content
whatever their name or declared type; boxes in the image's own pixels and
`dpi` the image's resolution; the pixel limit applies; other files keep the
400 they always had."""

from __future__ import annotations

import unittest

import requests

import pdfgen
from images import make_image
from visor_harness import ServerTestCase, VisorServer, words


# The DPI MuPDF takes for files that carry no resolution: GIF and PNM have
# no field for it, and Leptonica writes no resolution box into JPEG 2000.
ASSUMED_DPI = {"gif": 96, "pnm": 96, "jp2": 72}


def text_of(page: dict) -> str:
    return " ".join(element["text"] for element in page["data"])


class ImageInputTest(ServerTestCase):
    def assertReadsSamplePage(self, page: dict, width: int, height: int):
        self.assertEqual(page["status"], "success", page)
        self.assertEqual(page["source"], "ocr", page)
        self.assertIn("Quarterly", text_of(page))
        self.assertGreaterEqual(len(words(text_of(page)) & words(" ".join(pdfgen.PARAGRAPH))), 8, text_of(page))
        for element in page["data"]:
            x1, y1, x2, y2 = element["bbox"]
            self.assertTrue(0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height, (element, width, height))

    def test_each_image_format_is_read_in_its_own_pixels_at_its_own_resolution(self):
        # Letter at 150 DPI: 1275 x 1650 pixels, whatever DPI the request names.
        for fmt in ("png", "jpeg", "tiff", "bmp", "jp2", "gif", "pnm"):
            with self.subTest(format=fmt):
                image = make_image(pdfgen.sample_pdf(1), fmt, 150)
                submitted = self.server.submit_ok(image, filename=f"scan.{fmt}", dpi="300")
                self.assertEqual(submitted["filename"], f"scan.{fmt}")
                self.assertEqual(submitted["total_pages"], 1)
                dpi = ASSUMED_DPI.get(fmt, 150)
                self.assertEqual(submitted["dpi"], dpi)
                body = self.server.completed_result(submitted["job_id"])
                self.assertEqual(body["dpi"], dpi)
                self.assertReadsSamplePage(body["results"]["page_0"], 1275, 1650)
                title = next(e for e in body["results"]["page_0"]["data"] if "Quarterly" in e["text"])
                # The title starts 1 inch (150 pixels of the image) from the left edge.
                self.assertAlmostEqual(title["bbox"][0], 150, delta=15)

    def test_a_multi_page_tiff_gives_every_page(self):
        image = make_image(pdfgen.sample_pdf(3), "tiff", 100, [0, 1, 2])
        submitted = self.server.submit_ok(image, filename="fax.tif")
        self.assertEqual(submitted["total_pages"], 3)
        self.assertEqual(submitted["dpi"], 100)
        body = self.server.completed_result(submitted["job_id"])
        self.assertEqual(sorted(body["results"]), ["page_0", "page_1", "page_2"])
        for index in range(3):
            page = body["results"][f"page_{index}"]
            self.assertReadsSamplePage(page, 850, 1100)
        self.assertIn("Report 3", text_of(body["results"]["page_2"]))

    def test_images_are_told_by_content_not_by_name_or_declared_type(self):
        image = make_image(pdfgen.sample_pdf(1), "png", 100)
        response = requests.post(self.server.url("/ocr/submit"),
                                 files={"file": ("report.pdf", image, "application/pdf")}, timeout=60)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["filename"], "report.pdf")
        self.assertEqual(response.json()["dpi"], 100)
        pdf = requests.post(self.server.url("/ocr/submit"),
                            files={"file": ("photo.png", pdfgen.sample_pdf(1), "image/png")}, params={"dpi": "72"},
                            timeout=60)
        self.assertEqual(pdf.status_code, 200, pdf.text)
        self.assertEqual(pdf.json()["dpi"], 72)

    def test_a_file_that_is_neither_pdf_nor_image_keeps_its_400(self):
        for data in (b"Dear customer,\nplease find attached\n", b"PK\x03\x04 a zip archive", b"BM not a bitmap"):
            with self.subTest(data=data[:10]):
                response = self.server.submit(data, filename="scan.png")
                detail = self.assertDetail(response, 400, "neither a PDF nor an image")
                self.assertIn("TIFF", detail)

    def test_a_damaged_image_is_refused_with_a_reason(self):
        image = make_image(pdfgen.sample_pdf(1), "png", 100)
        response = self.server.submit(image[:len(image) // 2], filename="cut.png")
        self.assertDetail(response, 400, "The PNG image is damaged")

    def test_the_blocking_route_reads_images_too(self):
        image = make_image(pdfgen.sample_pdf(1), "jpeg", 100)
        response = requests.post(self.server.url("/ocr"), files={"file": ("scan.jpg", image)}, timeout=120)
        self.assertEqual(response.status_code, 200, response.text[:500])
        body = response.json()
        self.assertEqual(body["dpi"], 100)
        self.assertReadsSamplePage(body["results"]["page_0"], 850, 1100)

    def test_the_page_image_route_shows_an_image_page(self):
        image = make_image(pdfgen.sample_pdf(2), "tiff", 100, [0, 1])
        submitted = self.server.submit_ok(image)
        self.server.completed_result(submitted["job_id"])
        response = self.server.get(f"/ocr/page/{submitted['job_id']}/1")
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(response.content[:8], b"\x89PNG\r\n\x1a\n")


class ImageLimitsTest(ServerTestCase):
    SERVER_FLAGS = ("--max-page-pixels", "1000000")

    def test_an_image_over_the_pixel_limit_is_a_page_error_naming_the_setting(self):
        # Letter at 150 DPI is 2.1 million pixels.
        submitted = self.server.submit_ok(make_image(pdfgen.sample_pdf(1), "png", 150))
        status = self.server.wait_for(submitted["job_id"])
        self.assertEqual(status["status"], "completed", status)
        page = self.server.result(submitted["job_id"]).json()["results"]["page_0"]
        self.assertEqual(page["status"], "error", page)
        self.assertIn("--max-page-pixels", page["error"])

    def test_a_multi_page_tiff_over_the_page_limit_is_refused(self):
        server = VisorServer("--max-pages", "2", name="ImageLimitsTest-pages")
        try:
            server.start()
            response = server.submit(make_image(pdfgen.sample_pdf(3), "tiff", 72, [0, 1, 2]))
            self.assertDetail(response, 400, "3 pages", "--max-pages")
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
