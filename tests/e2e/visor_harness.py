"""Starts and stops the real `visor serve` for the end-to-end tests, plus the
helpers the tests share: an SSE client, polling, corpus access, checks.

Environment:
  VISOR_BINARY      the binary (default /work/main/build/visor)
  VISOR_CORPUS_DIR  the shared corpus (default /work/shared/corpus)
  VISOR_E2E_KEEP    set to keep the data directories and logs after a run
"""

from __future__ import annotations

import base64
import codecs
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zlib
import time
import unittest
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
DEFAULT_BINARY = HERE.parent.parent / "build" / "visor"
BINARY = Path(os.environ.get("VISOR_BINARY") or DEFAULT_BINARY)
CORPUS_DIR = Path(os.environ.get("VISOR_CORPUS_DIR") or "/work/shared/corpus")

JOB_ID_RE = re.compile(r"^fc-[0-9A-HJKMNP-TV-Z]{26}$")
ISO_Z_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
CATEGORIES = {
    "Caption", "Footnote", "Formula", "List-item", "Page-footer", "Page-header",
    "Picture", "Section-header", "Table", "Text", "Title",
}
MODELS_MESSAGE = "Available models: dotsocr, lightonocr"
LETTER_PT = (612, 792)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_pids(pid: int) -> list[int]:
    """The children of process `pid` (all its threads'), from /proc."""
    pids = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            pids += [int(p) for p in children.read_text().split()]
        except OSError:
            pass
    return pids


def worker_pids(server_pid: int) -> list[int]:
    """The server's `visor worker` children (not its document fork server)."""
    def is_worker(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:2] == [b"worker"]
        except OSError:
            return False
    return [pid for pid in child_pids(server_pid) if is_worker(pid)]


def damage_queued_document(data_dir: Path, job_id: str) -> bool:
    """Replaces the stored document of a job whose pages are all still
    queued with bytes that are no PDF, in one transaction; False when a
    worker took one of them first. White-box: the tests know the SQLite
    layout, and this is the only way to make a worker meet a bad document
    (uploads are validated at submit)."""
    with closing(sqlite3.connect(str(data_dir / "visor.db"), timeout=30)) as db, db:
        changed = db.execute(
            "UPDATE documents SET bytes = ? WHERE job_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM pages WHERE job_id = ? AND state != 'queued')",
            (b"this is not a PDF", job_id, job_id)).rowcount
    return changed == 1


def wait_until(predicate, timeout: float = 30, interval: float = 0.05, message: str = ""):
    """The first true value of `predicate()`, polled every `interval` s;
    AssertionError with `message` when none comes within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout} s")


def require_binary(test: unittest.TestCase | None = None) -> None:
    if not BINARY.is_file() or not os.access(BINARY, os.X_OK):
        raise unittest.SkipTest(f"visor binary not found at {BINARY} (set VISOR_BINARY)")


def corpus_file(relative: str) -> Path:
    """The corpus file, or SkipTest when the corpus is absent."""
    path = CORPUS_DIR / relative
    if not path.is_file():
        raise unittest.SkipTest(f"corpus file {path} not present (set VISOR_CORPUS_DIR)")
    return path


class ChildProcess:
    """A process the tests start and end: `proc` is its Popen while it runs."""

    proc: subprocess.Popen | None = None

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def kill(self) -> None:
        """kill -9: no shutdown work at all, as in a crash."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.kill()
        proc.wait()


class VisorServer(ChildProcess):
    """One `visor serve` process on a free port with its own data directory.

    kill() (SIGKILL) and start() again reuse the same port and data directory.
    """

    def __init__(self, *flags: str, workers: int = 2, name: str = "visor", env: dict | None = None,
                 api_key: str | None = None):
        require_binary()
        self.flags = list(flags)
        self.env = dict(env or {})
        # Sent as "Authorization: Bearer" by the HTTP helpers when set.
        self.api_key = api_key
        self.workers = workers
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"visor-e2e-{name}-"))
        self.data_dir = self.tmp / "data"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._log_files: list[Path] = []

    # -- process control -------------------------------------------------
    def mode_flags(self) -> list[str]:
        """The generated PDFs of these suites are born-digital, and the suites
        prove the OCR path (its timing, engines, limits), so their jobs are
        OCR'd unless a test chooses otherwise; test_text_layer.py proves the
        server's own default, auto."""
        return [] if "--ocr-mode" in self.flags else ["--ocr-mode", "ocr"]

    def command(self) -> list[str]:
        return [str(BINARY), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data", str(self.data_dir), "--workers", str(self.workers), *self.mode_flags(), *self.flags]

    def start(self, timeout: float = 30.0) -> "VisorServer":
        self.starts += 1
        log_path = self.tmp / f"serve-{self.starts}.log"
        self._log_files.append(log_path)
        # Only the variables a test sets: a VISOR_* of the caller's shell must
        # not change the server under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}
        env.update(self.env)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"visor serve exited with {self.proc.returncode} at start:\n{self.log()}")
            try:
                if requests.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"visor serve did not answer within {timeout} s:\n{self.log()}")

    def cleanup(self) -> None:
        self.stop()
        if not os.environ.get("VISOR_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self) -> str:
        out = []
        for path in self._log_files:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            lines = text.splitlines()
            if len(lines) > 200:
                lines = [f"... ({len(lines) - 200} lines left out)"] + lines[-200:]
            out.append(f"--- {path.name} ---\n" + "\n".join(lines))
        return "\n".join(out)

    # -- HTTP helpers ----------------------------------------------------
    def url(self, path: str) -> str:
        return self.base + path

    def auth_headers(self, api_key: str | None = None) -> dict:
        key = api_key or self.api_key
        return {"Authorization": f"Bearer {key}"} if key else {}

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 30)
        kw["headers"] = {**self.auth_headers(), **kw.get("headers", {})}
        return requests.get(self.url(path), **kw)

    def submit(self, pdf: bytes, filename: str = "document.pdf", params: dict | None = None,
               field_name: str = "file", timeout: float = 60, headers: dict | None = None,
               api_key: str | None = None) -> requests.Response:
        files = {field_name: (filename, pdf, "application/pdf")}
        return requests.post(self.url("/ocr/submit"), params=params or {}, files=files, timeout=timeout,
                             headers={**self.auth_headers(api_key), **(headers or {})})

    def submit_ok(self, pdf: bytes, filename: str = "document.pdf", **params) -> dict:
        response = self.submit(pdf, filename, params)
        if response.status_code != 200:
            raise AssertionError(f"submit failed: {response.status_code} {response.text}")
        return response.json()

    def status(self, job_id: str, api_key: str | None = None) -> dict:
        response = self.get(f"/ocr/status/{job_id}", headers=self.auth_headers(api_key))
        if response.status_code != 200:
            raise AssertionError(f"status failed: {response.status_code} {response.text}")
        return response.json()

    def wait_for(self, job_id: str, statuses=("completed", "failed", "cancelled"), timeout: float = 120,
                 interval: float = 0.1, api_key: str | None = None) -> dict:
        """Polls GET /ocr/status (as `api_key`, default the server's) until
        the job has one of `statuses`."""
        deadline = time.monotonic() + timeout
        body = {}
        while time.monotonic() < deadline:
            body = self.status(job_id, api_key)
            if body["status"] in statuses:
                return body
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"visor serve died while waiting for {job_id}")
            time.sleep(interval)
        raise AssertionError(f"job {job_id} not {statuses} within {timeout} s; last status {body}")

    def result(self, job_id: str, **params) -> requests.Response:
        return self.get(f"/ocr/result/{job_id}", params=params, timeout=120)

    def completed_result(self, job_id: str) -> dict:
        """Waits for the job, which must complete, and returns its result body."""
        status = self.wait_for(job_id)
        if status["status"] != "completed":
            raise AssertionError(f"job {job_id} did not complete: {status}")
        response = self.result(job_id)
        if response.status_code != 200:
            raise AssertionError(f"result of {job_id}: {response.status_code} {response.text[:500]}")
        return response.json()


class ServerTestCase(unittest.TestCase):
    """Starts one server for the class (flags in SERVER_FLAGS) and prints its
    log when a test of the class fails."""

    SERVER_FLAGS: tuple[str, ...] = ()
    SERVER_ENV: dict[str, str] = {}
    API_KEY: str | None = None  # sent by the server's HTTP helpers
    WORKERS = 2
    server: VisorServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = VisorServer(*cls.SERVER_FLAGS, workers=cls.WORKERS, name=cls.__name__, env=cls.SERVER_ENV,
                                 api_key=cls.API_KEY)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        super().tearDownClass()

    def run(self, result=None):
        # Print the server log after a failing or erroring test.
        before = (len(result.failures), len(result.errors)) if result is not None else None
        out = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            sys.stderr.write(f"\n=== server log for {self.id()} ===\n{self.server.log()}\n")
        return out

    # -- shared checks ---------------------------------------------------
    def assertDetail(self, response: requests.Response, status: int, *words: str) -> str:
        """The response has `status` and a JSON body {"detail": str}; each
        word (case-insensitive) appears in the detail. Returns the detail."""
        self.assertEqual(response.status_code, status, response.text)
        self.assertIn("application/json", response.headers.get("Content-Type", ""))
        body = response.json()
        self.assertIsInstance(body, dict, response.text)
        self.assertIn("detail", body, response.text)
        self.assertIsInstance(body["detail"], str)
        self.assertTrue(body["detail"].strip(), "empty detail")
        for word in words:
            self.assertIn(word.lower(), body["detail"].lower(), body["detail"])
        return body["detail"]


# -- SSE ---------------------------------------------------------------

@dataclass
class Event:
    """One dispatched SSE message, as sseclient's Event: event, data, id,
    plus when it arrived (monotonic seconds)."""

    event: str = "message"
    data: str = ""
    id: str | None = None
    retry: int | None = None
    at: float = 0.0

    def json(self):
        return json.loads(self.data)

    @property
    def is_comment_only(self) -> bool:
        return self.event == "message" and self.data == "" and self.id is None

    @classmethod
    def parse(cls, raw: str) -> "Event":
        msg = cls()
        for line in raw.splitlines():
            match = _FIELD_RE.match(line)
            if match is None:
                continue
            name = match.group("name")
            if name == "":
                continue  # a comment line
            value = match.group("value") or ""
            if name == "data":
                msg.data = f"{msg.data}\n{value}" if msg.data else value
            elif name == "event":
                msg.event = value
            elif name == "id":
                msg.id = value
            elif name == "retry":
                msg.retry = int(value)
        return msg


_FIELD_RE = re.compile(r"(?P<name>[^:]*):?( ?(?P<value>.*))?")


class SSEClient:
    """A Server-Sent Events client over requests.get(url, stream=True) that
    parses the stream the way the `sseclient` package (0.0.27) does: the
    body is decoded incrementally as UTF-8; a message ends at a blank line
    (\\r\\n\\r\\n, \\n\\n or \\r\\r); each of its lines
    (str.splitlines) is `name: value` for the fields `event`, `data`, `id`,
    `retry`; several `data` lines are joined with "\\n"; lines starting
    with ":" are comments. Like sseclient, every block is yielded as an
    Event (event defaults to "message"). Unlike sseclient it does not
    reconnect when the server ends the stream: iteration just stops, so the
    tests can see how a stream ends.

        for msg in SSEClient(url):
            if msg.event == 'result': ...
    """

    END_OF_FIELD = re.compile(r"\r\n\r\n|\r\r|\n\n")

    def __init__(self, url: str, timeout: float = 30, **kwargs):
        self.url = url
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **kwargs.pop("headers", {})}
        self.response = requests.get(url, stream=True, timeout=timeout, headers=headers, **kwargs)
        self.last_id: str | None = None
        self.buf = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._chunks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.response.close()

    def __iter__(self):
        self.response.raise_for_status()
        self._chunks = self.response.iter_content(chunk_size=None)
        return self

    def __next__(self) -> Event:
        while not self.END_OF_FIELD.search(self.buf):
            try:
                chunk = next(self._chunks)
            except StopIteration:
                raise StopIteration from None
            self.buf += self._decoder.decode(chunk)
        event_string, self.buf = self.END_OF_FIELD.split(self.buf, maxsplit=1)
        event = Event.parse(event_string)
        event.at = time.monotonic()
        if event.id:
            self.last_id = event.id
        return event


def collect_events(url: str, timeout: float = 120, limit: int = 10_000) -> tuple[requests.Response, list[Event]]:
    """Every event of a stream until the server ends it."""
    deadline = time.monotonic() + timeout
    events = []
    client = SSEClient(url, timeout=timeout)
    try:
        for event in client:
            if event.is_comment_only:
                continue
            events.append(event)
            if len(events) >= limit or time.monotonic() > deadline:
                break
    finally:
        client.close()
    return client.response, events


# -- images ------------------------------------------------------------

def png_size(data_uri: str) -> tuple[int, int]:
    """Width and height from the IHDR chunk of a PNG data URI."""
    prefix = "data:image/png;base64,"
    if not data_uri.startswith(prefix):
        raise AssertionError(f"not a PNG data URI: {data_uri[:40]!r}")
    png = base64.b64decode(data_uri[len(prefix):], validate=True)
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise AssertionError("not a PNG with an IHDR chunk first")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def png_rows(data_uri: str, max_rows: int | None = None) -> tuple[int, int, int, list[bytes]]:
    """Decodes the first `max_rows` rows of an 8-bit, non-interlaced
    grayscale or RGB PNG data URI: (width, height, channels, rows)."""
    png = base64.b64decode(data_uri.split(",", 1)[1])
    pos, idat = 8, b""
    width = height = depth = colour = interlace = None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
        pos += 12 + length
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        raise AssertionError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    stride = width * channels
    rows_wanted = height if max_rows is None else min(height, max_rows)
    raw = zlib.decompressobj().decompress(idat, rows_wanted * (stride + 1))
    rows, previous = [], bytearray(stride)
    for r in range(rows_wanted):
        line = raw[r * (stride + 1):(r + 1) * (stride + 1)]
        kind, data = line[0], bytearray(line[1:])
        for i in range(stride):
            a = data[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                data[i] = (data[i] + a) & 0xFF
            elif kind == 2:
                data[i] = (data[i] + b) & 0xFF
            elif kind == 3:
                data[i] = (data[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                data[i] = (data[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(data))
        previous = data
    return width, height, channels, rows


def page_pixels(width_pt: float, height_pt: float, dpi: int) -> tuple[int, int]:
    """Pixel size of a page rendered at `dpi` (exact for Letter at 72 or 100 DPI)."""
    return round(width_pt * dpi / 72), round(height_pt * dpi / 72)


def iou(a, b) -> float:
    """Intersection over union of two [x1, y1, x2, y2] boxes."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))
