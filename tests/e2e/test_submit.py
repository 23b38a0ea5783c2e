"""POST /ocr/submit: the accepted body, the defaults, every validation error,
the upload and page limits; GET /ocr/models; CORS; error bodies."""

from __future__ import annotations

import datetime
import json
import socket
import time
import unittest

import requests

import pdfgen
from visor_harness import (JOB_ID_RE, ISO_Z_RE, ServerTestCase, corpus_file)

SUBMIT_MESSAGE = ("Job submitted successfully. Use /ocr/status/{job_id} to check status or "
                  "/ocr/stream/{job_id} for real-time updates.")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def multipart_body(pdf: bytes, boundary: str = "visor-e2e-boundary") -> tuple[bytes, str]:
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    return head + pdf + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def read_http_response(sock: socket.socket) -> tuple[int, bytes]:
    """Reads one response with a Content-Length body: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest[:length]


def parse_iso(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def ulid_ms(job_id: str) -> int:
    value = 0
    for ch in job_id[3:13]:
        value = value * 32 + CROCKFORD.index(ch)
    return value


class SubmitTest(ServerTestCase):
    """A server with the default limits (100 MiB, 2,000 pages)."""

    def test_submit_returns_job_id_and_all_seed_fields(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        response = self.server.submit(pdfgen.text_only_pdf(2), "report.pdf", {"model": "lightonocr", "dpi": "72"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("application/json", response.headers["Content-Type"])
        body = response.json()
        self.assertIs(body["success"], True)
        self.assertRegex(body["job_id"], JOB_ID_RE)
        self.assertEqual(body["filename"], "report.pdf")
        self.assertEqual(body["total_pages"], 2)
        self.assertEqual(body["model"], "lightonocr")
        self.assertEqual(body["dpi"], 72)
        self.assertIsInstance(body["dpi"], int)
        self.assertEqual(body["message"], SUBMIT_MESSAGE)
        self.assertRegex(body["submitted_at"], ISO_Z_RE)
        submitted = parse_iso(body["submitted_at"])
        self.assertLess(abs((submitted - before).total_seconds()), 60, body["submitted_at"])

    def test_job_ids_are_distinct_ulids_carrying_the_submit_time(self):
        now_ms = int(time.time() * 1000)
        ids = [self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"] for _ in range(3)]
        self.assertEqual(len(set(ids)), 3, ids)
        for job_id in ids:
            self.assertRegex(job_id, JOB_ID_RE)
            self.assertLess(abs(ulid_ms(job_id) - now_ms), 60_000, f"{job_id}: ULID time is not the submit time")
        # Time-sortable: later submissions never sort before earlier ones by
        # their time part.
        self.assertEqual([ulid_ms(i) for i in ids], sorted(ulid_ms(i) for i in ids))

    def test_defaults_are_dotsocr_at_200_dpi(self):
        body = self.server.submit_ok(pdfgen.text_only_pdf(1))
        self.assertEqual(body["model"], "dotsocr")
        self.assertEqual(body["dpi"], 200)
        status = self.server.status(body["job_id"])
        self.assertEqual(status.get("model", "dotsocr"), "dotsocr")

    def test_empty_model_parameter_means_the_default(self):
        body = self.server.submit_ok(pdfgen.text_only_pdf(1), model="", dpi="72")
        self.assertEqual(body["model"], "dotsocr")

    def test_missing_filename_is_reported_as_a_name(self):
        response = requests.post(self.server.url("/ocr/submit"), params={"dpi": "72"},
                                 files={"file": ("", pdfgen.text_only_pdf(1), "application/pdf")}, timeout=30)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIsInstance(response.json()["filename"], str)
        self.assertTrue(response.json()["filename"])

    def test_non_ascii_filename_is_kept(self):
        body = self.server.submit_ok(pdfgen.text_only_pdf(1), "résumé 2024.pdf", dpi="72")
        self.assertEqual(body["filename"], "résumé 2024.pdf")
        self.assertEqual(self.server.status(body["job_id"])["filename"], "résumé 2024.pdf")

    def test_total_pages_is_the_real_page_count_of_a_corpus_document(self):
        path = corpus_file("gt/doc11_000.pdf")
        body = self.server.submit_ok(path.read_bytes(), "doc11_000.pdf", model="lightonocr", dpi="72")
        self.assertEqual(body["total_pages"], 3)
        self.assertEqual(body["filename"], "doc11_000.pdf")

    def test_unsupported_model_is_400_with_the_exact_message(self):
        response = self.server.submit(pdfgen.text_only_pdf(1), params={"model": "xyz"})
        detail = self.assertDetail(response, 400)
        self.assertEqual(detail, "Unsupported model 'xyz'. Available models: dotsocr, lightonocr")

    def test_model_names_are_case_sensitive(self):
        response = self.server.submit(pdfgen.text_only_pdf(1), params={"model": "DotsOCR"})
        self.assertEqual(self.assertDetail(response, 400),
                         "Unsupported model 'DotsOCR'. Available models: dotsocr, lightonocr")

    def test_dpi_outside_72_to_600_or_not_an_integer_is_422(self):
        for dpi in ("71", "601", "abc", "72.5", "", "-100", "1e2"):
            with self.subTest(dpi=dpi):
                response = self.server.submit(pdfgen.text_only_pdf(1), params={"dpi": dpi})
                self.assertDetail(response, 422, "dpi")

    def test_several_errors_at_once_give_one_detail_body(self):
        # Whichever error wins, the body is {"detail": str}.
        response = requests.post(self.server.url("/ocr/submit"), params={"model": "xyz", "dpi": "9"},
                                 files={"other": ("a.txt", b"x")}, timeout=30)
        self.assertIn(response.status_code, (400, 422))
        self.assertDetail(response, response.status_code)

    def test_missing_file_field_is_422(self):
        response = requests.post(self.server.url("/ocr/submit"),
                                 files={"document": ("a.pdf", pdfgen.text_only_pdf(1), "application/pdf")},
                                 timeout=30)
        self.assertDetail(response, 422, "file")

    def test_request_without_a_multipart_body_is_422(self):
        response = requests.post(self.server.url("/ocr/submit"), timeout=30)
        self.assertDetail(response, 422, "file")
        response = requests.post(self.server.url("/ocr/submit"), data={"file": "not a file"}, timeout=30)
        self.assertIn(response.status_code, (400, 422), response.text)
        self.assertDetail(response, response.status_code)

    def test_empty_upload_is_400_naming_it_empty(self):
        self.assertDetail(self.server.submit(b"", "empty.pdf"), 400, "empty")
        path = corpus_file("pdfs/derived/zero_bytes.pdf")
        self.assertDetail(self.server.submit(path.read_bytes(), path.name), 400, "empty")

    def test_an_upload_neither_pdf_nor_image_is_400_saying_so(self):
        self.assertDetail(self.server.submit(b"hello, this is plain text\n" * 20, "notes.pdf"), 400,
                          "neither a PDF nor an image")
        path = corpus_file("pdfs/derived/random_64k.pdf")
        self.assertDetail(self.server.submit(path.read_bytes(), path.name), 400, "neither a PDF nor an image")

    def test_a_png_named_pdf_is_read_as_the_png_it_is(self):
        path = corpus_file("pdfs/derived/png_named_as.pdf")
        submitted = self.server.submit_ok(path.read_bytes(), path.name)
        self.assertEqual(submitted["filename"], "png_named_as.pdf")
        self.assertEqual(self.server.wait_for(submitted["job_id"])["status"], "completed")

    def test_encrypted_upload_is_400_naming_the_password(self):
        path = corpus_file("pdfs/derived/two_paragraphs_aes256_userpw_secret.pdf")
        detail = self.assertDetail(self.server.submit(path.read_bytes(), path.name), 400)
        self.assertTrue("encrypt" in detail.lower() or "password" in detail.lower(), detail)

    def test_damaged_upload_is_400_saying_it_is_damaged(self):
        path = corpus_file("pdfs/derived/truncated_half_tracemonkey.pdf")
        detail = self.assertDetail(self.server.submit(path.read_bytes(), path.name), 400)
        self.assertTrue(any(w in detail.lower() for w in ("damaged", "corrupt", "broken", "invalid", "repair")),
                        detail)

    def test_pdf_header_without_a_body_and_random_bytes_are_400(self):
        for name in ("header_only.pdf", "random_64k.pdf"):
            with self.subTest(name=name):
                path = corpus_file(f"pdfs/derived/{name}")
                self.assertDetail(self.server.submit(path.read_bytes(), name), 400)

    def test_more_pages_than_the_default_limit_is_400(self):
        path = corpus_file("pdfs/derived/huge_2200_pages.pdf")
        detail = self.assertDetail(self.server.submit(path.read_bytes(), path.name), 400)
        self.assertIn("2200", detail)
        self.assertIn("2000", detail)

    def test_upload_larger_than_one_mebibyte_is_accepted(self):
        pdf = pdfgen.make_pdf([[pdfgen.Line("Large file", 72, 700, 24)]], padding=3 * 1024 * 1024)
        response = self.server.submit(pdf, "large.pdf", {"dpi": "72"})
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["total_pages"], 1)

    def test_expect_100_continue_upload_as_curl_sends_it(self):
        # curl -F sends "Expect: 100-continue" for bodies over 1 MiB and waits
        # for "100 Continue" before sending the file.
        pdf = pdfgen.make_pdf([[pdfgen.Line("Continue", 72, 700, 24)]], padding=2 * 1024 * 1024)
        body, content_type = multipart_body(pdf)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall((f"POST /ocr/submit?dpi=72 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                          "Expect: 100-continue\r\n\r\n").encode())
            interim = sock.recv(4096)
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            sock.sendall(body)
            status, payload = read_http_response(sock)
        self.assertEqual(status, 200, payload)
        self.assertEqual(json.loads(payload)["total_pages"], 1)

    def test_rejected_uploads_create_no_job(self):
        # After errors on one connection, the same session still works.
        session = requests.Session()
        self.assertEqual(session.post(self.server.url("/ocr/submit"), params={"model": "xyz"},
                                      files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}, timeout=30).status_code, 400)
        self.assertEqual(session.post(self.server.url("/ocr/submit"), files={"file": ("a.pdf", b"")},
                                      timeout=30).status_code, 400)
        ok = session.post(self.server.url("/ocr/submit"), params={"dpi": "72"},
                          files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}, timeout=30)
        self.assertEqual(ok.status_code, 200, ok.text)


class SubmitLimitsTest(ServerTestCase):
    SERVER_FLAGS = ("--max-upload", "64KiB", "--max-pages", "2")

    def test_upload_over_max_upload_is_413(self):
        pdf = pdfgen.text_only_pdf(1)
        big = pdfgen.make_pdf([[pdfgen.Line("Big", 72, 700, 24)]], padding=100_000)
        self.assertGreater(len(big), 64 * 1024)
        detail = self.assertDetail(self.server.submit(big, "big.pdf"), 413)
        self.assertIn("64", detail)
        # The connection state is sane afterwards: a small upload is accepted.
        self.assertEqual(self.server.submit(pdf, params={"dpi": "72"}).status_code, 200)

    def test_upload_far_over_max_upload_is_413(self):
        # Larger than the limit plus any multipart allowance: the server may
        # refuse from Content-Length alone; the client must still get a 413.
        big = pdfgen.make_pdf([[pdfgen.Line("Huge", 72, 700, 24)]], padding=3 * 1024 * 1024)
        try:
            response = self.server.submit(big, "huge.pdf")
        except requests.ConnectionError as e:
            self.fail(f"the client got no HTTP answer for a 3 MiB upload over a 64 KiB limit: {e!r}")
        self.assertDetail(response, 413)

    def test_expect_100_continue_over_the_limit_is_413_before_the_body(self):
        pdf = pdfgen.make_pdf([[pdfgen.Line("Huge", 72, 700, 24)]], padding=3 * 1024 * 1024)
        body, content_type = multipart_body(pdf)
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall((f"POST /ocr/submit HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
                          "Expect: 100-continue\r\n\r\n").encode())
            status, payload = read_http_response(sock)
        self.assertEqual(status, 413, payload)
        self.assertIn("detail", json.loads(payload))

    def test_upload_just_under_max_upload_is_accepted(self):
        pdf = pdfgen.make_pdf([[pdfgen.Line("Small", 72, 700, 24)]], padding=60_000)
        self.assertLess(len(pdf), 64 * 1024)
        response = self.server.submit(pdf, "under.pdf", {"dpi": "72"})
        self.assertEqual(response.status_code, 200, response.text)

    def test_more_pages_than_max_pages_is_400(self):
        detail = self.assertDetail(self.server.submit(pdfgen.text_only_pdf(3), "three.pdf"), 400)
        self.assertIn("3", detail)
        self.assertIn("2", detail)

    def test_exactly_max_pages_is_accepted(self):
        body = self.server.submit_ok(pdfgen.text_only_pdf(2), "two.pdf", dpi="72")
        self.assertEqual(body["total_pages"], 2)


class ModelsCorsAndErrorsTest(ServerTestCase):
    def test_models_lists_dotsocr_and_lightonocr(self):
        response = self.server.get("/ocr/models")
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertIsInstance(body, dict)
        ids = [m["id"] for m in body["models"]]
        self.assertIn("dotsocr", ids)
        self.assertIn("lightonocr", ids)

    def test_preflight_for_submit_is_204_with_cors_headers(self):
        response = requests.options(self.server.url("/ocr/submit"), timeout=10, headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        })
        self.assertEqual(response.status_code, 204, response.text)
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")
        methods = [m.strip().upper() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")]
        self.assertIn("POST", methods)
        self.assertIn("GET", methods)
        allowed = response.headers.get("Access-Control-Allow-Headers", "").lower()
        self.assertTrue(allowed == "*" or "content-type" in allowed, allowed)
        self.assertEqual(response.content, b"")

    def test_preflight_for_stream_allows_get(self):
        response = requests.options(self.server.url("/ocr/stream/fc-01JCFZ8X0000000000000000AB"), timeout=10,
                                    headers={"Origin": "http://example.org",
                                             "Access-Control-Request-Method": "GET"})
        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")
        self.assertIn("GET", response.headers.get("Access-Control-Allow-Methods", ""))

    def test_simple_requests_carry_allow_origin_star(self):
        origin = {"Origin": "http://localhost:8080"}
        for response in (
            requests.get(self.server.url("/ocr/models"), headers=origin, timeout=10),
            requests.get(self.server.url("/ocr/status/fc-01JCFZ8X0000000000000000AB"), headers=origin, timeout=10),
            requests.post(self.server.url("/ocr/submit"), params={"model": "xyz"}, headers=origin,
                          files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}, timeout=10),
        ):
            with self.subTest(url=response.url, status=response.status_code):
                self.assertEqual(response.headers.get("Access-Control-Allow-Origin"), "*")

    def test_unknown_route_is_404_detail(self):
        self.assertDetail(self.server.get("/ocr/nothing-here"), 404)

    def test_wrong_method_is_405_detail(self):
        self.assertDetail(self.server.get("/ocr/submit"), 405)
        self.assertDetail(requests.post(self.server.url("/ocr/status/fc-01JCFZ8X0000000000000000AB"), timeout=10),
                          405)


if __name__ == "__main__":
    unittest.main()
