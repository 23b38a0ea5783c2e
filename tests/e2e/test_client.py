"""`visor submit FILE... --server URL`: the command-line client against a
real server. Outputs must be plausible (the document's words in the
Markdown and the searchable PDF, `results` in the JSON), failed files
named on stderr with the server's reason and exit status 1, progress
logged per change when stderr is no terminal and drawn in place when it
is one, and a job whose stream drops (a proxy cutting the connection, a
server restarting) still followed to its outputs."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import termios
import threading
import time
import unittest
from pathlib import Path

import requests

import pdfgen
from visor_harness import BINARY, ServerTestCase, words

API_KEY = "client-test-key-0123456789abcdef"


def clean_environment() -> dict:
    """The caller's environment without its VISOR_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}


def run_submit(*args: str, env: dict | None = None, cwd: Path | None = None, timeout: float = 180,
               stderr=subprocess.PIPE) -> subprocess.CompletedProcess:
    """`visor submit ARGS` with none of the caller's VISOR_* variables, but `env`."""
    return subprocess.run([str(BINARY), "submit", *args], stdout=subprocess.PIPE, stderr=stderr, text=True,
                          timeout=timeout, env={**clean_environment(), **(env or {})}, cwd=cwd)


def titled_pdf(title: str, pages: int = 1) -> bytes:
    """Sample pages (a title, a paragraph about a river, two list items) under `title`."""
    return pdfgen.make_pdf([pdfgen.sample_page(i + 1, title=title) for i in range(pages)])


def pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        raise unittest.SkipTest("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout


class ClientTestCase(ServerTestCase):
    """A scratch directory per test class, and checks of a run."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp(prefix=f"visor-e2e-{cls.__name__}-"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def write(self, name: str, data: bytes) -> Path:
        path = self.tmp / name
        path.write_bytes(data)
        return path

    def check_exit(self, proc: subprocess.CompletedProcess, code: int) -> None:
        self.assertEqual(proc.returncode, code, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}")


class SubmitSeveralFilesTest(ClientTestCase):
    """One run of three files, one of them no PDF at all, every format."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        inputs = cls.tmp / "in"
        inputs.mkdir()
        (inputs / "report.pdf").write_bytes(pdfgen.sample_pdf(2))
        (inputs / "notes.pdf").write_bytes(titled_pdf("Harbour Notes"))
        (inputs / "bad.pdf").write_text("this is a text file, not a PDF\n")
        cls.out = cls.tmp / "out"
        cls.proc = run_submit(str(inputs / "report.pdf"), str(inputs / "bad.pdf"), str(inputs / "notes.pdf"),
                              "--server", cls.server.base, "--format", "md,json", "--format", "pdf",
                              "-o", str(cls.out), "--dpi", "100", "--parallel", "2")

    def test_exit_status_is_1_and_the_summary_names_the_bad_file_with_the_servers_reason(self):
        self.check_exit(self.proc, 1)
        summary = self.proc.stderr[self.proc.stderr.index("visor submit: 1 of 3 files failed:"):]
        self.assertRegex(summary, r"bad\.pdf: .*neither a PDF nor an image.*\(HTTP 400\)")
        self.assertNotIn("report.pdf:", summary)
        self.assertNotIn("notes.pdf:", summary)

    def test_markdown_has_the_documents_words(self):
        self.assertTrue({"quarterly", "report", "river", "orchard"} <= words((self.out / "report.md").read_text()))
        self.assertIn("harbour", words((self.out / "notes.md").read_text()))

    def test_json_is_the_result_body(self):
        body = json.loads((self.out / "report.json").read_text())
        self.assertEqual(body["filename"], "report.pdf")
        self.assertEqual(body["dpi"], 100)
        self.assertEqual(sorted(body["results"]), ["page_0", "page_1"])
        self.assertEqual(body["results"]["page_0"]["status"], "success")

    def test_searchable_pdf_has_the_words_as_text(self):
        path = self.out / "report.ocr.pdf"
        self.assertTrue(path.read_bytes().startswith(b"%PDF"))
        self.assertTrue({"river", "orchard"} <= words(pdftotext(path)))

    def test_only_the_good_files_outputs_are_written_and_no_temporary_files_remain(self):
        self.assertEqual(sorted(p.name for p in self.out.iterdir()),
                         ["notes.json", "notes.md", "notes.ocr.pdf", "report.json", "report.md", "report.ocr.pdf"])

    def test_stderr_without_a_terminal_has_a_log_line_per_change(self):
        lines = self.proc.stderr.splitlines()
        report = [line for line in lines if line.startswith(str(self.tmp / "in" / "report.pdf") + ": ")]
        phases = [line.split(": ", 1)[1] for line in report]
        self.assertEqual(phases[0], "uploading", report)
        self.assertRegex(phases[1], r"^submitted as job fc-[0-9A-Z]{26}, 2 pages$")
        self.assertRegex(phases[-1], r"^done: wrote .*report\.md, .*report\.json, .*report\.ocr\.pdf$")
        self.assertIn("downloading, 2/2 pages", phases)
        # Progress lines only when something changed, never the 2 s heartbeats again.
        self.assertEqual(len(phases), len(set(phases)), report)
        for phase in phases[2:-2]:
            self.assertRegex(phase, r"^(pending|running), [0-2]/2 pages$")
        self.assertTrue(any(re.match(r".*bad\.pdf: failed: .*HTTP 400", line) for line in lines), lines)
        self.assertNotIn("\x1b[", self.proc.stderr)

    def test_stdout_stays_empty(self):
        self.assertEqual(self.proc.stdout, "")


class SubmitCommandTest(ClientTestCase):

    def test_defaults_write_markdown_into_the_current_directory(self):
        work = self.tmp / "defaults"
        work.mkdir()
        (work / "scan.v2.pdf").write_bytes(titled_pdf("Lantern Notes"))
        proc = run_submit("scan.v2.pdf", "--server", self.server.base + "/", "--ocr-mode", "auto", cwd=work)
        self.check_exit(proc, 0)
        self.assertEqual(sorted(p.name for p in work.iterdir()), ["scan.v2.md", "scan.v2.pdf"])
        self.assertIn("lantern", words((work / "scan.v2.md").read_text()))

    def test_text_output_and_the_server_from_the_environment(self):
        source = self.write("plain.pdf", titled_pdf("Meadow Notes", pages=2))
        out = self.tmp / "plain-out"
        proc = run_submit(str(source), "--format", "txt", "-o", str(out), "--ocr-mode", "auto",
                          env={"VISOR_SERVER": self.server.base})
        self.check_exit(proc, 0)
        self.assertEqual([p.name for p in out.iterdir()], ["plain.txt"])
        text = (out / "plain.txt").read_text()
        self.assertIn("meadow", words(text))
        self.assertIn("\f", text, "pages are separated by form feeds")

    def test_cancelled_job_is_a_failed_file(self):
        source = self.write("long.pdf", pdfgen.dense_pdf(4))
        out = self.tmp / "cancel-out"
        proc = subprocess.Popen([str(BINARY), "submit", str(source), "--server", self.server.base, "-o", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_environment())
        try:
            job_id = None
            deadline = time.monotonic() + 60
            while job_id is None and time.monotonic() < deadline:
                jobs = self.server.get("/ocr/jobs").json()["jobs"]
                job_id = next((j["job_id"] for j in jobs if j["filename"] == "long.pdf"), None)
                time.sleep(0.1)
            self.assertIsNotNone(job_id, "the client never submitted")
            self.assertEqual(requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), timeout=30).status_code, 200)
            stdout, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 1, stderr)
        self.assertRegex(stderr, rf"long\.pdf: job {job_id} failed: Job cancelled at the client's request")
        self.assertFalse(out.exists() and any(out.iterdir()))

    def test_unreachable_server_is_retried(self):
        source = self.write("lonely.pdf", pdfgen.text_only_pdf(1))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            closed_port = s.getsockname()[1]
        start = time.monotonic()
        # Retried for a bounded time (60 s) before the file fails: long for a test, so
        # only the first refusal is waited for here.
        proc = subprocess.Popen([str(BINARY), "submit", str(source), "--server", f"http://127.0.0.1:{closed_port}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_environment())
        time.sleep(1.5)
        self.assertIsNone(proc.poll(), "gave up at once instead of retrying")
        proc.kill()
        proc.wait()
        self.assertLess(time.monotonic() - start, 30)

    def test_usage_errors_exit_2(self):
        source = self.write("usage.pdf", pdfgen.text_only_pdf(1))
        cases = {
            "no --server": [str(source)],
            "no files": ["--server", self.server.base],
            "unknown option": [str(source), "--server", self.server.base, "--colour"],
            "unknown short option": [str(source), "--server", self.server.base, "-x"],
            "unknown format": [str(source), "--server", self.server.base, "--format", "docx"],
            "unknown model": [str(source), "--server", self.server.base, "--model", "gpt"],
            "bad parallel": [str(source), "--server", self.server.base, "--parallel", "0"],
            "no value": [str(source), "--server"],
            "same output names": [str(source), str(source), "--server", self.server.base],
        }
        for case, args in cases.items():
            with self.subTest(case):
                proc = run_submit(*args)
                self.check_exit(proc, 2)
                self.assertTrue(proc.stderr.startswith("visor submit: "), proc.stderr)
        submitted = [job["filename"] for job in self.server.get("/ocr/jobs").json()["jobs"]]
        self.assertNotIn("usage.pdf", submitted, "a usage error submitted something")

    def test_help_documents_outputs_and_exit_status(self):
        proc = run_submit("--help")
        self.check_exit(proc, 0)
        for text in ("--server", "--api-key", "--model", "--format", "-o DIR", "--dpi", "--ocr-mode", "--pages",
                     "--parallel", "<stem>.md", "<stem>.txt", "<stem>.json", "<stem>.ocr.pdf", "Exit status",
                     "VISOR_API_KEY"):
            self.assertIn(text, proc.stdout)
        usage = subprocess.run([str(BINARY), "--help"], capture_output=True, text=True, timeout=30).stdout
        self.assertIn("submit FILE...", usage)


class TerminalProgressTest(ClientTestCase):
    """stderr on a pseudo-terminal 100 columns wide."""

    def test_progress_rows_are_redrawn_in_place(self):
        source = self.write("tty.pdf", pdfgen.sample_pdf(2))
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        chunks: list[bytes] = []

        def drain():
            while True:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the terminal's last writer closed it
                    return
                if not chunk:
                    return
                chunks.append(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        try:
            proc = run_submit(source.name, "--server", self.server.base, "-o", "tty-out", "--dpi", "100",
                              stderr=slave, env={"TERM": "xterm"}, cwd=self.tmp)
        finally:
            os.close(slave)
        reader.join(10)
        os.close(master)
        screen = b"".join(chunks).decode()
        self.assertEqual(proc.returncode, 0, screen)
        self.assertIn("\x1b[J", screen)
        self.assertRegex(screen, r"\r\x1b\[1A")
        rows = [row for row in re.split(r"\r?\n|\x1b\[J|\r\x1b\[\d+A", screen) if row.strip()]
        self.assertRegex(rows[-1], r"^tty\.pdf +\[=+\] +2/2 done: wrote ")
        for row in rows:
            self.assertLess(len(row), 100, row)
        self.assertTrue((self.tmp / "tty-out" / "tty.md").is_file())


class ApiKeyTest(ClientTestCase):
    SERVER_ENV = {"VISOR_API_KEYS": API_KEY}
    API_KEY = API_KEY

    def test_api_key_option_is_sent_as_a_bearer_token(self):
        source = self.write("keyed.pdf", titled_pdf("Candle Notes"))
        out = self.tmp / "keyed-out"
        proc = run_submit(str(source), "--server", self.server.base, "--api-key", API_KEY, "-o", str(out),
                          "--format", "md,pdf", "--ocr-mode", "auto")
        self.check_exit(proc, 0)
        self.assertIn("candle", words((out / "keyed.md").read_text()))
        self.assertTrue((out / "keyed.ocr.pdf").read_bytes().startswith(b"%PDF"))

    def test_api_key_from_the_environment(self):
        source = self.write("env.pdf", titled_pdf("Window Notes"))
        out = self.tmp / "env-out"
        proc = run_submit(str(source), "--server", self.server.base, "-o", str(out), "--ocr-mode", "auto",
                          env={"VISOR_API_KEY": API_KEY})
        self.check_exit(proc, 0)
        self.assertIn("window", words((out / "env.md").read_text()))

    def test_missing_or_wrong_key_fails_the_file_with_401(self):
        source = self.write("nokey.pdf", pdfgen.text_only_pdf(1))
        for args in ([], ["--api-key", "wrong-key-0123456789abcdef"]):
            with self.subTest(args=args):
                proc = run_submit(str(source), "--server", self.server.base, *args)
                self.check_exit(proc, 1)
                self.assertRegex(proc.stderr, r"nokey\.pdf: the server refused it: .*\(HTTP 401\)")


class DroppingProxy:
    """A TCP proxy to 127.0.0.1:`target_port` that cuts the response to the
    first GET /ocr/stream/... right after its first event, as a network
    that drops the connection would, and records every stream request's
    head. Requests are watched on every connection, since the client
    keeps connections alive from one request to the next."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.stream_heads: list[str] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.listener.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket):
        with client, socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
            cut = threading.Event()  # set: cut the response now under way after its first event
            threading.Thread(target=self._forward_requests, args=(client, upstream, cut), daemon=True).start()
            self._forward_responses(upstream, client, cut)

    def _forward_requests(self, client: socket.socket, upstream: socket.socket, cut: threading.Event):
        try:
            while chunk := client.recv(65536):
                # curl writes a request's head at once, so it starts a chunk.
                if chunk.startswith(b"GET /ocr/stream/"):
                    with self.lock:
                        self.stream_heads.append(chunk.partition(b"\r\n\r\n")[0].decode())
                        if len(self.stream_heads) == 1:
                            cut.set()
                upstream.sendall(chunk)
        except OSError:
            pass
        self._close(client, upstream)

    def _forward_responses(self, upstream: socket.socket, client: socket.socket, cut: threading.Event):
        response = b""
        try:
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
                if cut.is_set():
                    response += chunk
                    if b"\n\n" in response.partition(b"\r\n\r\n")[2]:
                        break
        except OSError:
            pass
        self._close(client, upstream)

    @staticmethod
    def _close(*sockets: socket.socket):
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class StreamDropTest(ClientTestCase):
    """Jobs long enough (dense pages OCR'd) to be running when the stream drops."""

    WORKERS = 1

    def test_dropped_connection_resumes_with_last_event_id(self):
        source = self.write("dropped.pdf", pdfgen.dense_pdf(2))
        out = self.tmp / "dropped-out"
        proxy = DroppingProxy(self.server.port)
        try:
            proc = run_submit(str(source), "--server", proxy.base, "-o", str(out), "--format", "md,json",
                              "--dpi", "150")
        finally:
            proxy.close()
        self.check_exit(proc, 0)
        self.assertGreaterEqual(len(proxy.stream_heads), 2, proxy.stream_heads)
        self.assertNotIn("last-event-id", proxy.stream_heads[0].lower())
        self.assertRegex(proxy.stream_heads[1], r"(?im)^Last-Event-ID: p:")
        self.assertRegex(proc.stderr, r"dropped\.pdf: reconnecting, [0-2]/2 pages: ")
        self.assertIn("orchard", words((out / "dropped.md").read_text()))
        self.assertEqual(sorted(json.loads((out / "dropped.json").read_text())["results"]), ["page_0", "page_1"])

    def test_server_restart_is_waited_out(self):
        source = self.write("restart.pdf", pdfgen.dense_pdf(3))
        out = self.tmp / "restart-out"
        proc = subprocess.Popen([str(BINARY), "submit", str(source), "--server", self.server.base, "-o", str(out),
                                 "--dpi", "150"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=clean_environment())
        try:
            lines: list[str] = []
            # Restart once the job runs, so the stream is open when the server stops.
            while not any("running" in line for line in lines):
                line = proc.stderr.readline()
                self.assertTrue(line, f"the client ended early: {lines}")
                lines.append(line)
            self.server.stop()
            self.server.start()
            stdout, rest = proc.communicate(timeout=240)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = "".join(lines) + rest
        self.assertEqual(proc.returncode, 0, stderr)
        self.assertRegex(stderr, r"restart\.pdf: reconnecting, .*shutting down")
        self.assertIn("orchard", words((out / "restart.md").read_text()))


if __name__ == "__main__":
    unittest.main()
