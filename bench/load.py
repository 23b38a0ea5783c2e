#!/usr/bin/env python3
"""Load run on loopback: many concurrent submitters and many open SSE
streams against a fresh `visor serve`, then a drain until every accepted job
is finished. Reports errors, lost jobs, submit latency, time to the first
SSE event, and the memory, descriptors and CPU of the server and its
workers. Exits 1 on any error or lost job.

Usage: bench/load.py [--submitters 100] [--streams 1000] [--duration 30]
                     [--workers 2] [--io-threads N] [--model dotsocr]
                     [--dpi 72] [--server-nofile N] [--binary build/visor]
                     [--json report.json] [--server-arg=--flag=value ...]

- Submitters: threads, each with its own keep-alive connection
  (requests.Session), submitting one-page PDFs back to back for --duration
  seconds (--submit-pause adds a pause after each).
- Streams: a separate process holding --streams SSE connections at once on
  raw non-blocking sockets (selectors). Each accepted job gets up to
  --streams-per-job streams, opened as soon as it is accepted, while fewer
  than --streams are open; a stream that ends is replaced until the submit
  phase ends. Every stream must end with `result` (for the job it follows,
  status completed) and then `close`; anything else is an error: a refused
  or failed connection, a status other than 200, `error` or `timeout`
  events, a stream that ends or stalls (no byte for 30 s, with heartbeats
  every 2 s) before `close`.
- Lost job: accepted (200 with a job id) but not `completed` when the drain
  ends.
- Memory: VmRSS and VmHWM of /proc/<pid>/status, sampled every 0.5 s, for
  the server and each worker process; descriptors: entries of
  /proc/<pid>/fd.
"""

from __future__ import annotations

import argparse
import errno
import json
import multiprocessing
import os
import queue
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from pdfgen import text_only_pdf  # noqa: E402
from visor_harness import child_pids, free_port  # noqa: E402

STALL_SECONDS = 30.0


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentiles(values: list[float], scale: float = 1000.0) -> dict:
    """p50/p95/p99/max, in ms by default."""
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * scale, 1)

    return {"n": len(ordered), "p50": at(50), "p95": at(95), "p99": at(99), "max": round(ordered[-1] * scale, 1)}


# -- SSE streams (run in their own process) -----------------------------

class Stream:
    __slots__ = ("job_id", "sock", "state", "buf", "events_buf", "opened", "first_event", "last_byte",
                 "final", "closed", "error", "events")

    def __init__(self, job_id: str, sock: socket.socket, now: float):
        self.job_id = job_id
        self.sock = sock
        self.state = "connecting"
        self.buf = b""
        self.events_buf = b""
        self.opened = now
        self.first_event: float | None = None
        self.last_byte = now
        self.final: str | None = None  # the event that ended the job's story: result, error, timeout
        self.closed = False  # a `close` event arrived
        self.error: str | None = None
        self.events = 0


class StreamManager:
    """Opens and reads SSE streams with one selector; everything it learns
    goes into `stats`."""

    def __init__(self, host: str, port: int, target: int, per_job: int):
        self.host, self.port, self.target, self.per_job = host, port, target, per_job
        self.sel = selectors.DefaultSelector()
        self.open: dict[int, Stream] = {}
        self.waiting_jobs: list[str] = []  # accepted jobs with streams still to open, oldest first
        self.opening = True
        self.stats = {"opened": 0, "ok": 0, "errors": {}, "error_examples": [], "ttfe": [], "max_open": 0,
                      "events": 0, "open_timeline": []}

    def _fail(self, stream: Stream, kind: str, detail: str = "") -> None:
        stream.error = kind
        self.stats["errors"][kind] = self.stats["errors"].get(kind, 0) + 1
        if len(self.stats["error_examples"]) < 20:
            self.stats["error_examples"].append(f"{kind} {stream.job_id}: {detail}"[:300])
        self._close(stream)

    def _close(self, stream: Stream) -> None:
        fd = stream.sock.fileno()
        if fd in self.open:
            del self.open[fd]
            try:
                self.sel.unregister(stream.sock)
            except (KeyError, ValueError):
                pass
        stream.sock.close()

    def _start(self, job_id: str, now: float) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        stream = Stream(job_id, sock, now)
        self.stats["opened"] += 1
        rc = sock.connect_ex((self.host, self.port))
        if rc not in (0, errno.EINPROGRESS):
            self.open[sock.fileno()] = stream
            self._fail(stream, "connect", os.strerror(rc))
            return
        self.open[sock.fileno()] = stream
        self.sel.register(sock, selectors.EVENT_WRITE, stream)

    def _on_writable(self, stream: Stream) -> None:
        err = stream.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._fail(stream, "connect", os.strerror(err))
            return
        request = (f"GET /ocr/stream/{stream.job_id} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                   "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n").encode()
        try:
            sent = stream.sock.send(request)
        except OSError as e:
            self._fail(stream, "send", str(e))
            return
        if sent != len(request):  # 120 bytes into an empty socket buffer
            self._fail(stream, "send", f"partial send {sent}")
            return
        stream.state = "head"
        self.sel.modify(stream.sock, selectors.EVENT_READ, stream)

    def _on_readable(self, stream: Stream, now: float) -> None:
        try:
            data = stream.sock.recv(65536)
        except ConnectionError as e:
            self._fail(stream, "reset", str(e))
            return
        if not data:
            self._fail(stream, "ended_early", f"state {stream.state}, final {stream.final}")
            return
        stream.last_byte = now
        stream.buf += data
        if stream.state == "head":
            end = stream.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = stream.buf[:end].decode("latin-1")
            stream.buf = stream.buf[end + 4:]
            status_line = head.split("\r\n", 1)[0]
            if " 200 " not in status_line + " ":
                self._fail(stream, "status", status_line)
                return
            if "transfer-encoding: chunked" not in head.lower():
                self._fail(stream, "not_chunked", head)
                return
            stream.state = "body"
        if stream.state == "body":
            self._read_chunks(stream, now)

    def _read_chunks(self, stream: Stream, now: float) -> None:
        while True:
            line_end = stream.buf.find(b"\r\n")
            if line_end < 0:
                return
            size = int(stream.buf[:line_end].split(b";")[0], 16)
            if size == 0:
                stream.state = "done"
                stream.buf = b""
                if stream.closed:
                    self._finish(stream)
                else:
                    self._fail(stream, "ended_early", f"final {stream.final}")
                return
            if len(stream.buf) < line_end + 2 + size + 2:
                return
            stream.events_buf += stream.buf[line_end + 2:line_end + 2 + size]
            stream.buf = stream.buf[line_end + 2 + size + 2:]
            self._read_events(stream, now)
            if stream.error:
                return

    def _read_events(self, stream: Stream, now: float) -> None:
        while True:
            end = stream.events_buf.find(b"\n\n")
            if end < 0:
                return
            raw, stream.events_buf = stream.events_buf[:end].decode("utf-8"), stream.events_buf[end + 2:]
            name, data = "message", []
            for line in raw.split("\n"):
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
            if not data and name == "message":
                continue  # a comment
            stream.events += 1
            self.stats["events"] += 1
            if stream.first_event is None:
                stream.first_event = now
                self.stats["ttfe"].append(now - stream.opened)
            if name == "result":
                body = json.loads("\n".join(data))
                if body.get("job_id") != stream.job_id or body.get("status") != "completed":
                    self._fail(stream, "wrong_result", json.dumps(body)[:200])
                    return
                stream.final = "result"
            elif name in ("error", "timeout"):
                stream.final = name
                self._fail(stream, name, "\n".join(data))
                return
            elif name == "close":
                if stream.final != "result":
                    self._fail(stream, "close_before_result", "")
                    return
                stream.closed = True

    def _finish(self, stream: Stream) -> None:
        self.stats["ok"] += 1
        self._close(stream)

    def _open_more(self, now: float) -> None:
        while self.opening and self.waiting_jobs and len(self.open) < self.target:
            job_id = self.waiting_jobs.pop()  # the newest job: it stays open longest
            self._start(job_id, now)

    def run(self, jobs: multiprocessing.Queue, done: multiprocessing.Queue) -> None:
        deadline = None
        last_mark = 0.0
        started = time.monotonic()
        while True:
            now = time.monotonic()
            while True:
                try:
                    item = jobs.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, tuple) and item[0] == "stop":
                    self.opening = False
                    deadline = now + item[1]
                else:
                    self.waiting_jobs.extend([item] * self.per_job)
            self._open_more(now)
            self.stats["max_open"] = max(self.stats["max_open"], len(self.open))
            if now - last_mark >= 1.0:
                self.stats["open_timeline"].append((round(now - started, 1), len(self.open)))
                last_mark = now
            if not self.opening and not self.open:
                break
            if deadline is not None and now > deadline:
                for stream in list(self.open.values()):
                    self._fail(stream, "unfinished_at_deadline", f"final {stream.final}")
                break
            for key, _ in self.sel.select(timeout=0.05):
                stream = key.data
                if stream.sock.fileno() not in self.open:
                    continue
                if stream.state == "connecting":
                    self._on_writable(stream)
                else:
                    self._on_readable(stream, time.monotonic())
            now = time.monotonic()
            for stream in list(self.open.values()):
                if now - stream.last_byte > STALL_SECONDS:
                    self._fail(stream, "stalled", f"state {stream.state}, {stream.events} events")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self.stats["cpu_s"] = usage.ru_utime + usage.ru_stime
        done.put(self.stats)


def stream_process(host: str, port: int, target: int, per_job: int, jobs, done) -> None:
    raise_nofile(target + 256)
    StreamManager(host, port, target, per_job).run(jobs, done)


# -- process sampling -----------------------------------------------------

def read_status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "Threads"):
                out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_of(pid: int) -> list[int]:
    """The `visor worker` children (not the upload readers' fork server)."""
    found = []
    for child in child_pids(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) > 1 and argv[1] == b"worker":
            found.append(child)
    return found


class Sampler(threading.Thread):
    def __init__(self, server_pid: int, base: str):
        super().__init__(daemon=True)
        self.pid, self.base = server_pid, base
        self.stop = threading.Event()
        self.server = {"rss_kb_max": 0, "hwm_kb": 0, "fds_max": 0, "threads_max": 0}
        self.workers: dict[int, dict] = {}
        self.sse_open_max = 0
        self.worker_cpu: dict[int, float] = {}

    def sample(self) -> None:
        status = read_status(self.pid)
        self.server["rss_kb_max"] = max(self.server["rss_kb_max"], status.get("VmRSS", 0))
        self.server["hwm_kb"] = max(self.server["hwm_kb"], status.get("VmHWM", 0))
        self.server["threads_max"] = max(self.server["threads_max"], status.get("Threads", 0))
        try:
            self.server["fds_max"] = max(self.server["fds_max"], len(os.listdir(f"/proc/{self.pid}/fd")))
        except OSError:
            pass
        for child in workers_of(self.pid):
            s = read_status(child)
            w = self.workers.setdefault(child, {"rss_kb_max": 0, "hwm_kb": 0})
            w["rss_kb_max"] = max(w["rss_kb_max"], s.get("VmRSS", 0))
            w["hwm_kb"] = max(w["hwm_kb"], s.get("VmHWM", 0))
            self.worker_cpu[child] = max(self.worker_cpu.get(child, 0.0), cpu_seconds(child))

    def run(self) -> None:
        ticks = 0
        while not self.stop.wait(0.5):
            self.sample()
            ticks += 1
            if ticks % 2 == 0:
                try:
                    text = requests.get(self.base + "/metrics", timeout=10).text
                    for line in text.splitlines():
                        if line.startswith("visor_sse_streams_open"):
                            self.sse_open_max = max(self.sse_open_max, int(float(line.split()[-1])))
                except requests.RequestException:
                    pass


# -- submitters -------------------------------------------------------------

class Submitters:
    def __init__(self, base: str, count: int, duration: float, pause: float, model: str, dpi: int,
                 documents: list[bytes], jobs_out: multiprocessing.Queue):
        self.base, self.count, self.duration, self.pause = base, count, duration, pause
        self.params = {"model": model, "dpi": str(dpi)}
        self.documents = documents
        self.jobs_out = jobs_out
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.accepted: list[str] = []
        self.errors: dict[str, int] = {}
        self.error_examples: list[str] = []
        self.barrier = threading.Barrier(count + 1)

    def _error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.error_examples) < 20:
                self.error_examples.append(f"{kind}: {detail}"[:300])

    def _run(self, index: int) -> None:
        session = requests.Session()
        self.barrier.wait()
        end = time.monotonic() + self.duration
        n = index
        while time.monotonic() < end:
            pdf = self.documents[n % len(self.documents)]
            n += self.count
            started = time.perf_counter()
            try:
                response = session.post(self.base + "/ocr/submit", params=self.params,
                                        files={"file": (f"load-{index}.pdf", pdf, "application/pdf")}, timeout=60)
            except requests.RequestException as e:
                self._error(type(e).__name__, str(e))
                session = requests.Session()
                continue
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                self._error(f"http_{response.status_code}", response.text)
                continue
            job_id = response.json()["job_id"]
            with self.lock:
                self.latencies.append(elapsed)
                self.accepted.append(job_id)
            self.jobs_out.put(job_id)
            if self.pause:
                time.sleep(self.pause)

    def run(self) -> float:
        threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.count)]
        for t in threads:
            t.start()
        self.barrier.wait()
        started = time.monotonic()
        for t in threads:
            t.join()
        return time.monotonic() - started


# -- the run ---------------------------------------------------------------

def job_statuses(base: str) -> dict[str, str]:
    """Every job in the store: id -> status."""
    out, cursor = {}, ""
    session = requests.Session()
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        body = session.get(base + "/ocr/jobs", params=params, timeout=60).json()
        for job in body["jobs"]:
            out[job["job_id"]] = job["status"]
        cursor = body.get("next_cursor")
        if not cursor:
            return out


def unfinished(base: str) -> int:
    count = 0
    for status in ("pending", "running"):
        body = requests.get(base + "/ocr/jobs", params={"status": status, "limit": "100"}, timeout=60).json()
        count += len(body["jobs"])
    return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--submitters", type=int, default=100)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--streams-per-job", type=int, default=1)
    parser.add_argument("--duration", type=float, default=30, help="seconds of submitting")
    parser.add_argument("--submit-pause", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--io-threads", type=int, default=None)
    parser.add_argument("--model", default="dotsocr")
    parser.add_argument("--dpi", type=int, default=72)
    parser.add_argument("--server-nofile", type=int, default=None,
                        help="soft RLIMIT_NOFILE for the server (default: this shell's)")
    parser.add_argument("--drain-timeout", type=float, default=1200)
    parser.add_argument("--binary", default=str(ROOT / "build" / "visor"))
    parser.add_argument("--json", default=None, help="also write the report here")
    parser.add_argument("--server-arg", action="append", default=[], help="extra visor serve argument")
    args = parser.parse_args()

    raise_nofile(args.submitters * 2 + 256)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    tmp = Path(tempfile.mkdtemp(prefix="visor-load-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [args.binary, "serve", "--host", "127.0.0.1", "--port", str(port), "--data", str(tmp / "data"),
               "--workers", str(args.workers)]
    if args.io_threads:
        command += ["--io-threads", str(args.io_threads)]
    # One JSON line per request with the server's own time for it.
    command += ["--log-format", "json"]
    command += args.server_arg

    def limit_server() -> None:
        if args.server_nofile:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (args.server_nofile, hard))

    log = open(tmp / "serve.log", "wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, preexec_fn=limit_server)
    for _ in range(300):
        try:
            if requests.get(base + "/readyz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server_nofile = next((line.split()[3] for line in Path(f"/proc/{server.pid}/limits").read_text().splitlines()
                          if line.startswith("Max open files")), "?")

    documents = [text_only_pdf(1, words=f"Load {i}") for i in range(64)]
    jobs_q: multiprocessing.Queue = multiprocessing.Queue()
    done_q: multiprocessing.Queue = multiprocessing.Queue()
    streams = multiprocessing.Process(target=stream_process,
                                      args=("127.0.0.1", port, args.streams, args.streams_per_job, jobs_q, done_q))
    streams.start()
    sampler = Sampler(server.pid, base)
    sampler.sample()
    idle = {"server_rss_kb": read_status(server.pid).get("VmRSS", 0),
            "worker_rss_kb": [read_status(p).get("VmRSS", 0) for p in workers_of(server.pid)]}
    sampler.start()
    cpu_before = cpu_seconds(server.pid)

    submitters = Submitters(base, args.submitters, args.duration, args.submit_pause, args.model, args.dpi,
                            documents, jobs_q)
    print(f"server pid {server.pid} on {base}, nofile {server_nofile}; submitting for {args.duration} s",
          file=sys.stderr, flush=True)
    submit_s = submitters.run()
    print(f"submitted {len(submitters.accepted)} jobs in {submit_s:.1f} s; draining", file=sys.stderr, flush=True)
    # No new streams from here; the open ones end with their jobs.
    jobs_q.put(("stop", args.drain_timeout + 120))

    drain_started = time.monotonic()
    server_died = None
    while time.monotonic() - drain_started < args.drain_timeout:
        if server.poll() is not None:
            server_died = server.returncode
            break
        try:
            if unfinished(base) == 0:
                break
        except requests.RequestException:
            pass
        time.sleep(1)
    drain_s = time.monotonic() - drain_started
    stream_stats = done_q.get(timeout=300)
    streams.join(30)

    statuses = job_statuses(base) if server_died is None else {}
    lost = [job_id for job_id in submitters.accepted if statuses.get(job_id) != "completed"]
    sampler.stop.set()
    sampler.join()
    metrics = requests.get(base + "/metrics", timeout=30).text if server_died is None else ""
    server_5xx = sum(int(float(line.split()[-1])) for line in metrics.splitlines()
                     if line.startswith("visor_http_requests_total{") and 'code="5' in line)
    server_cpu = cpu_seconds(server.pid) - cpu_before
    usage = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = usage.ru_utime + usage.ru_stime + stream_stats["cpu_s"]
    server.terminate()
    server.wait(30)
    log.close()

    accepted = len(submitters.accepted)
    server_ms: dict[str, list[float]] = {}
    with open(tmp / "serve.log", errors="replace") as lines:
        for line in lines:
            if line.startswith("{") and '"http.request"' in line:
                record = json.loads(line)
                server_ms.setdefault(record["route"], []).append(record["ms"] / 1000.0)
    report = {
        "command": " ".join(sys.argv),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": load_at_start,
                    "client_cpu_s": round(client_cpu, 1)},
        "server": {"command": " ".join(command[:1] + ["serve"] + command[2:]), "nofile_soft": server_nofile,
                   "died": server_died, "idle_rss_mib": round(idle["server_rss_kb"] / 1024, 1),
                   "rss_mib_max": round(sampler.server["rss_kb_max"] / 1024, 1),
                   "vmhwm_mib": round(sampler.server["hwm_kb"] / 1024, 1), "fds_max": sampler.server["fds_max"],
                   "threads_max": sampler.server["threads_max"], "cpu_s": round(server_cpu, 1),
                   "http_5xx": server_5xx, "sse_streams_open_max": sampler.sse_open_max},
        "workers": {"processes_seen": len(sampler.workers),
                    "idle_rss_mib": [round(kb / 1024, 1) for kb in idle["worker_rss_kb"]],
                    "rss_mib_max": round(max((w["rss_kb_max"] for w in sampler.workers.values()), default=0) / 1024, 1),
                    "vmhwm_mib_max": round(max((w["hwm_kb"] for w in sampler.workers.values()), default=0) / 1024, 1),
                    "cpu_s": round(sum(sampler.worker_cpu.values()), 1)},
        "submits": {"submitters": args.submitters, "seconds": round(submit_s, 1), "accepted": accepted,
                    "per_second": round(accepted / submit_s, 1) if submit_s else None,
                    "errors": submitters.errors, "error_examples": submitters.error_examples,
                    "latency_ms": percentiles(submitters.latencies),
                    "server_side_ms": percentiles(server_ms.get("/ocr/submit", []))},
        "streams": {"target": args.streams, "opened": stream_stats["opened"], "ok": stream_stats["ok"],
                    "max_open": stream_stats["max_open"], "events": stream_stats["events"],
                    "errors": stream_stats["errors"], "error_examples": stream_stats["error_examples"],
                    "time_to_first_event_ms": percentiles(stream_stats["ttfe"]),
                    "seconds_with_all_open": sum(1 for _, n in stream_stats["open_timeline"] if n >= args.streams),
                    "open_every_10s": [n for i, (_, n) in enumerate(stream_stats["open_timeline"]) if i % 10 == 0]},
        "drain": {"seconds": round(drain_s, 1),
                  "jobs_per_second_end_to_end": round(accepted / (submit_s + drain_s), 1) if accepted else None},
        "lost_jobs": len(lost), "lost_examples": lost[:10],
        "log": str(tmp / "serve.log"),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    failed = (server_died is not None or lost or submitters.errors or stream_stats["errors"]
              or stream_stats["max_open"] < args.streams or server_5xx)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
