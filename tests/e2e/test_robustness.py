"""A sample of the hostile-PDF corpus through one server: every file is
refused at submit with a reason or ends as a finished job whose failed
pages say why, and the server process serves throughout without a restart.
The full run over all of ../shared/corpus/pdfs/ is bench/robustness.py."""

from __future__ import annotations

import unittest

from visor_harness import ServerTestCase, corpus_file

# One or more of each kind: damaged, fuzzer reproducers, encrypted, odd
# geometry, fonts, forms, image codecs. Which ones MuPDF refuses may change
# with its version; the test pins only what must hold for every file.
SAMPLE = (
    "malformed/pdfjs__boundingBox_invalid.pdf",  # once crashed Tesseract (1x1 px page)
    "malformed/pdfjs__ContentStreamCycleType3insideType3.pdf",
    "malformed/qpdf__issue-1688a.pdf",
    "malformed/pdfjs__Pages-tree-refs.pdf",
    "malformed/pdfjs__GHOSTSCRIPT-698804-1-fuzzed.pdf",
    "fuzz/qpdf-fuzz__15983.fuzz.pdf",
    "fuzz/qpdf-fuzz__18247.fuzz.pdf",
    "fuzz/qpdf-fuzz__15316.fuzz.pdf",
    "encrypted/pdfjs__empty_protected.pdf",
    "encrypted/pdfjs__issue3371.pdf",
    "geometry/pdfjs__sizes.pdf",
    "geometry/pdfjs__rotation.pdf",
    "fonts/pdfjs__ArabicCIDTrueType.pdf",
    "forms/pdfjs__xfa_issue14315.pdf",
    "images/pdfjs__bitmap-mmr.pdf",
)


class HostileSampleTest(ServerTestCase):
    SERVER_FLAGS = ("--page-timeout", "30s")

    def test_every_file_is_refused_with_a_reason_or_finishes_with_reasons(self):
        server_pid = self.server.proc.pid
        submitted = {}
        for name in SAMPLE:
            path = corpus_file(f"pdfs/{name}")
            response = self.server.submit(path.read_bytes(), path.name, params={"dpi": "72"})
            if response.status_code == 200:
                submitted[name] = response.json()["job_id"]
            else:
                with self.subTest(file=name):
                    self.assertDetail(response, 400)
        self.assertGreater(len(submitted), 0, "the sample should hold files that are accepted")

        for name, job_id in submitted.items():
            with self.subTest(file=name):
                status = self.server.wait_for(job_id, timeout=90)
                self.assertIn(status["status"], ("completed", "failed"), status)
                if status["status"] == "failed":
                    self.assertTrue(status.get("error"), status)
                    continue
                response = self.server.result(job_id)
                self.assertEqual(response.status_code, 200, response.text)
                for page in response.json()["results"].values():
                    self.assertIn(page["status"], ("success", "error"), page)
                    if page["status"] == "error":
                        self.assertTrue(page.get("error", "").strip(), page)

        # The file that used to take the server down is read.
        self.assertIn("malformed/pdfjs__boundingBox_invalid.pdf", submitted)
        self.assertEqual(self.server.proc.pid, server_pid)
        self.assertIsNone(self.server.proc.poll(), "the server exited")
        self.assertEqual(self.server.starts, 1)
        self.assertEqual(self.server.get("/healthz").status_code, 200)


if __name__ == "__main__":
    unittest.main()
