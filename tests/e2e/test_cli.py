"""`visor ocr FILE` (no server) and the command line's help and errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import pdfgen
from visor_harness import BINARY, CATEGORIES, corpus_file, require_binary, words


def run_visor(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}
    return subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=timeout, env=env)


class OcrCommandTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()
        cls.tmp = Path(tempfile.mkdtemp(prefix="visor-e2e-cli-"))
        cls.pdf = cls.tmp / "file.pdf"
        cls.pdf.write_bytes(pdfgen.sample_pdf(1))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check_run(self, proc: subprocess.CompletedProcess, code: int = 0) -> None:
        self.assertEqual(proc.returncode, code, f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}")

    def test_ocr_prints_json_with_page_results(self):
        proc = run_visor("ocr", str(self.pdf), "--dpi", "100")
        self.check_run(proc)
        out = json.loads(proc.stdout)
        self.assertEqual(out["model"], "dotsocr")
        self.assertEqual(out["dpi"], 100)
        self.assertEqual(out["total_pages"], 1)
        self.assertEqual(out["filename"], "file.pdf")
        page = out["results"]["page_0"]
        self.assertEqual(page["status"], "success")
        self.assertIsInstance(page["data"], list)
        for element in page["data"]:
            self.assertEqual(len(element["bbox"]), 4)
            self.assertIn(element["category"], CATEGORIES)
        text = " ".join(e.get("text", "") for e in page["data"])
        self.assertIn("river", words(text))

    def test_ocr_lightonocr_format_md_prints_markdown(self):
        proc = run_visor("ocr", str(self.pdf), "--model", "lightonocr", "--format", "md", "--dpi", "100")
        self.check_run(proc)
        self.assertFalse(proc.stdout.lstrip().startswith("{"), proc.stdout[:200])
        self.assertIn("river", words(proc.stdout))
        self.assertIn("#", proc.stdout)

    def test_ocr_lightonocr_json_has_markdown_string(self):
        proc = run_visor("ocr", str(self.pdf), "--model=lightonocr", "--dpi=72")
        self.check_run(proc)
        out = json.loads(proc.stdout)
        self.assertEqual(out["model"], "lightonocr")
        self.assertIsInstance(out["results"]["page_0"]["data"], str)

    def test_ocr_bad_model_exits_2(self):
        proc = run_visor("ocr", str(self.pdf), "--model", "xyz")
        self.check_run(proc, 2)
        self.assertIn("Unsupported model 'xyz'. Available models: dotsocr, lightonocr", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_ocr_bad_dpi_and_format_exit_2(self):
        for args in (["--dpi", "71"], ["--dpi", "601"], ["--dpi", "abc"], ["--format", "md"], ["--format", "xml"],
                     ["--no-such-option"]):
            with self.subTest(args=args):
                self.check_run(run_visor("ocr", str(self.pdf), *args), 2)

    def test_ocr_missing_file_fails_with_a_message(self):
        proc = run_visor("ocr", str(self.tmp / "missing.pdf"))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("missing.pdf", proc.stderr)

    def test_ocr_encrypted_file_fails_with_a_message(self):
        path = corpus_file("pdfs/derived/two_paragraphs_aes256_userpw_secret.pdf")
        proc = run_visor("ocr", str(path), "--dpi", "72")
        self.assertNotEqual(proc.returncode, 0)
        self.assertTrue("encrypt" in proc.stderr.lower() or "password" in proc.stderr.lower(), proc.stderr)

    def test_ocr_multi_page_corpus_document_has_every_page(self):
        path = corpus_file("gt/doc11_001.pdf")
        truth = json.loads(path.with_suffix(".json").read_text())
        proc = run_visor("ocr", str(path), "--dpi", "72")
        self.check_run(proc)
        out = json.loads(proc.stdout)
        self.assertEqual(out["total_pages"], len(truth["pages"]))
        self.assertEqual(list(out["results"]), [f"page_{i}" for i in range(len(truth["pages"]))])


class ServeCommandLineTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        require_binary()

    def test_serve_help_lists_every_flag_with_its_environment_variable(self):
        proc = run_visor("serve", "--help", timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for flag in ("host", "port", "store", "data", "workers", "max-pages-per-job", "result-ttl", "sse-timeout",
                     "max-upload", "max-pages", "lease-timeout", "heartbeat-timeout", "io-threads", "log-level"):
            with self.subTest(flag=flag):
                self.assertIn(f"--{flag}", proc.stdout)
                self.assertIn("VISOR_" + flag.upper().replace("-", "_"), proc.stdout)

    def test_serve_rejects_bad_values_with_exit_2(self):
        for args in (["--result-ttl", "soon"], ["--workers", "-1"], ["--port", "70000"], ["--max-upload", "lots"],
                     ["--store", "mysql://db/visor"], ["--bogus"]):
            with self.subTest(args=args):
                proc = run_visor("serve", "--data", tempfile.gettempdir() + "/visor-e2e-never", *args, timeout=20)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertTrue(proc.stderr.strip())


if __name__ == "__main__":
    unittest.main()
