"""A crash run: steady submits to `visor serve` while its process and its
worker processes are killed with SIGKILL at random moments, then a drain
until every accepted job is finished, and a comparison of every result with
an undisturbed run of the same documents.

Shared by tests/e2e/test_crash.py (a short run) and bench/crash_load.py (as
long as asked). Not a test module itself.

What counts:

- accepted: the submit was answered 200 with a job id. A submit that got no
  answer (the server died first, or the connection broke) is not accepted,
  although its job may exist; it is counted as unanswered.
- lost: an accepted job that answers 404, or that is not `completed` when
  the drain ends.
- wrong: a completed job whose page results differ from the undisturbed
  run's for the same document, or whose metadata differs in anything but
  the submission and completion times.

Kills come in three kinds, chosen by a seeded RNG at seeded intervals:

- `worker`: SIGKILL to one `visor worker` child of the server; the
  supervisor gives its pages back at once.
- `server`: SIGKILL to `visor serve` alone, then a restart on the same port
  and data directory. Its workers get SIGTERM (PR_SET_PDEATHSIG), finish the
  page they hold and exit.
- `all`: SIGKILL to the server and its workers together, as when a container
  or a cgroup is killed. Their pages come back when their leases end
  (`--lease-timeout`).

A page whose worker is killed three times becomes a page error by design
(a document that keeps killing workers must not loop forever). That is not
what this run measures, so a kill that would end a page's third attempt is
skipped: the victims are stopped (SIGSTOP), the pages they hold are read
from the store, and they are killed or, when one holds a third attempt,
continued (SIGCONT). Skipped kills are counted.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import signal
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pdfgen import Line, dense_page, make_pdf
from visor_harness import VisorServer, child_pids, worker_pids

MAX_ATTEMPTS = 3  # jobs::StoreOptions::max_attempts
TIMING_METADATA = ("submitted_at", "completed_at")
KILL_KINDS = ("worker", "server", "all")

_WORDS = ("river morning market grain orchard bread butter apples station window garden letter harbour "
          "winter summer valley bridge forest meadow candle lantern village meeting paper pencil "
          "kitchen table chair basket flower stone").split()


@dataclass(frozen=True)
class Document:
    name: str
    pdf: bytes
    model: str
    dpi: int
    pages: int


def crash_documents(count: int, rng: random.Random) -> list[Document]:
    """`count` distinct documents of 1 to 3 pages, each page with its own
    title and sentences (so results of different documents or pages cannot
    be mistaken for each other); a few dense pages that take longer, so
    kills also land in the middle of a page; both models."""
    documents = []
    for d in range(count):
        pages = []
        for p in range(rng.randint(1, 3)):
            if rng.random() < 0.15:
                pages.append(dense_page(d * 10 + p + 1, lines=24))
                continue
            lines = [Line(f"Document {d + 1} page {p + 1}", 72, 700, 24)]
            for i in range(rng.randint(2, 6)):
                sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 9)))
                lines.append(Line(sentence.capitalize() + ".", 72, 650 - 18 * i, 12))
            pages.append(lines)
        model = "lightonocr" if d % 3 == 2 else "dotsocr"
        dpi = rng.choice((72, 100, 150))
        documents.append(Document(f"crash-{d + 1:03d}.pdf", make_pdf(pages), model, dpi, len(pages)))
    return documents


def comparable(result: dict) -> dict:
    """What must equal between two runs of one document: the page results
    and the metadata without its timestamps."""
    metadata = {k: v for k, v in result["metadata"].items() if k not in TIMING_METADATA}
    return {"results": result["results"], "metadata": metadata, "total_pages": result["total_pages"],
            "model": result["model"], "dpi": result["dpi"], "filename": result["filename"]}


def submit(base: str, doc: Document, timeout: float = 30) -> requests.Response:
    return requests.post(f"{base}/ocr/submit", params={"model": doc.model, "dpi": str(doc.dpi)},
                         files={"file": (doc.name, doc.pdf, "application/pdf")}, timeout=timeout)


def wait_all_finished(base: str, job_ids: list[str], deadline: float, interval: float = 0.25) -> dict[str, dict]:
    """Polls until every job is completed or failed, or the deadline
    passes; returns the last status body of each job (404s included as
    {"status": "404"})."""
    last: dict[str, dict] = {}
    pending = list(job_ids)
    while pending:
        still = []
        for job_id in pending:
            response = requests.get(f"{base}/ocr/status/{job_id}", timeout=30)
            body = response.json() if response.status_code == 200 else {"status": str(response.status_code)}
            last[job_id] = body
            if body["status"] not in ("completed", "failed", "404"):
                still.append(job_id)
        pending = still
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(interval)
    return last


def reference_results(documents: list[Document], workers: int, flags: tuple[str, ...] = ()) -> dict[str, dict]:
    """Each document processed once by an undisturbed server:
    name -> comparable(result)."""
    server = VisorServer(*flags, workers=workers, name="crash-reference").start()
    try:
        ids = {}
        for doc in documents:
            response = submit(server.base, doc)
            if response.status_code != 200:
                raise AssertionError(f"reference submit of {doc.name}: {response.status_code} {response.text}")
            ids[doc.name] = response.json()["job_id"]
        statuses = wait_all_finished(server.base, list(ids.values()), time.monotonic() + 300)
        out = {}
        for name, job_id in ids.items():
            if statuses[job_id]["status"] != "completed":
                raise AssertionError(f"reference job of {name} ended {statuses[job_id]}\n{server.log()}")
            out[name] = comparable(server.result(job_id).json())
        return out
    finally:
        server.cleanup()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _epoch_seconds(text: str) -> float:
    """"2026-11-28T19:40:20.736Z" -> seconds since the epoch."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@dataclass
class CrashReport:
    seed: int
    duration_s: float
    kills: dict[str, int] = field(default_factory=lambda: {k: 0 for k in KILL_KINDS})
    skipped_kills: int = 0
    # Pages the killed workers held: given back at once after a `worker`
    # kill, after --lease-timeout after an `all` kill.
    pages_held_at_kill: dict[str, int] = field(default_factory=lambda: {"worker": 0, "all": 0})
    restarts: int = 0
    restart_s: list[float] = field(default_factory=list)
    submits: int = 0
    accepted: int = 0
    unanswered: int = 0
    refused: dict[str, int] = field(default_factory=dict)  # HTTP status -> count, for answers other than 200
    seen_404: list[str] = field(default_factory=list)  # accepted ids that answered 404 at some point
    not_completed: dict[str, str] = field(default_factory=dict)  # accepted id -> last status
    wrong: dict[str, str] = field(default_factory=dict)  # accepted id -> what differs
    store_jobs: int = 0  # jobs in the store at the end (accepted + jobs of unanswered submits)
    store_unfinished: int = 0  # of those, not completed at the end
    drain_s: float = 0.0
    job_latency_s: list[float] = field(default_factory=list)  # submitted_at -> completed_at, accepted jobs
    pages: int = 0
    page_errors: int = 0

    def ok(self) -> bool:
        return (not self.seen_404 and not self.not_completed and not self.wrong and not self.refused
                and self.store_unfinished == 0 and self.accepted > 0)

    def summary(self) -> dict:
        lat = self.job_latency_s
        return {
            "seed": self.seed, "duration_s": round(self.duration_s, 1), "kills": self.kills,
            "skipped_kills": self.skipped_kills, "pages_held_at_kill": self.pages_held_at_kill,
            "restarts": self.restarts,
            "restart_s_max": round(max(self.restart_s), 2) if self.restart_s else None,
            "submits": self.submits, "accepted": self.accepted, "unanswered": self.unanswered,
            "refused": self.refused, "lost_404": len(self.seen_404), "not_completed": len(self.not_completed),
            "wrong_results": len(self.wrong), "pages": self.pages, "page_errors": self.page_errors,
            "store_jobs": self.store_jobs, "store_unfinished": self.store_unfinished,
            "drain_s": round(self.drain_s, 1),
            "job_latency_s": {"p50": round(percentile(lat, 50), 2), "p95": round(percentile(lat, 95), 2),
                              "max": round(max(lat), 2) if lat else None},
        }


class CrashRun:
    """One crash run against `server` (started by the caller, restarted
    here after each server kill) with `documents`, whose undisturbed
    results are `reference`."""

    def __init__(self, server: VisorServer, documents: list[Document], reference: dict[str, dict], seed: int,
                 duration: float, submitters: int = 2, submit_interval: float = 1.2,
                 kill_interval: tuple[float, float] = (1.0, 4.0),
                 kill_weights: tuple[float, float, float] = (0.5, 0.35, 0.15), log=print):
        self.server = server
        self.documents = documents
        self.reference = reference
        self.seed = seed
        self.duration = duration
        self.submitters = submitters
        self.submit_interval = submit_interval
        self.kill_interval = kill_interval
        self.kill_weights = kill_weights
        self.log = log
        self.report = CrashReport(seed=seed, duration_s=duration)
        self.accepted: list[tuple[str, Document]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._db = server.data_dir / "visor.db"

    # -- load ------------------------------------------------------------
    def _submitter(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        while not self._stop.is_set():
            doc = rng.choice(self.documents)
            try:
                response = submit(self.server.base, doc)
            except requests.RequestException:
                with self._lock:
                    self.report.submits += 1
                    self.report.unanswered += 1
            else:
                with self._lock:
                    self.report.submits += 1
                    if response.status_code == 200:
                        self.report.accepted += 1
                        self.accepted.append((response.json()["job_id"], doc))
                    else:
                        code = str(response.status_code)
                        self.report.refused[code] = self.report.refused.get(code, 0) + 1
                        self.log(f"submit of {doc.name} answered {code}: {response.text[:200]}")
            self._stop.wait(rng.uniform(0.5, 1.5) * self.submit_interval)

    def _poller(self) -> None:
        """Asks for the status of accepted jobs all along: an accepted job
        must never be unknown, not even just after a restart."""
        rng = random.Random(self.seed * 1000 + 999)
        while not self._stop.is_set():
            with self._lock:
                job_id = rng.choice(self.accepted)[0] if self.accepted else None
            if job_id is not None:
                try:
                    response = requests.get(f"{self.server.base}/ocr/status/{job_id}", timeout=10)
                    if response.status_code == 404:
                        with self._lock:
                            self.report.seen_404.append(job_id)
                except requests.RequestException:
                    pass
            self._stop.wait(0.05)

    # -- kills -----------------------------------------------------------
    def _held_attempts(self, pids: list[int]) -> list[int]:
        """Attempt numbers of the pages leased by any of `pids`."""
        with closing(sqlite3.connect(self._db, timeout=5)) as db:
            rows = db.execute("SELECT lease_owner, attempts FROM pages WHERE state = 'leased'").fetchall()
        marks = tuple(f":{pid}/" for pid in pids)
        return [attempts for owner, attempts in rows if any(m in owner for m in marks)]

    def _kill_guarded(self, pids: list[int]) -> int | None:
        """Stops `pids`, then kills them unless one holds a page on its last
        attempt; returns how many pages they held when killed, None when
        they were not."""
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        try:
            held = self._held_attempts(pids)
        except Exception:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
            raise
        if any(attempt >= MAX_ATTEMPTS for attempt in held):
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            return None
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(held)

    def _restart(self) -> None:
        started = time.monotonic()
        self.server.start()
        self.report.restarts += 1
        self.report.restart_s.append(time.monotonic() - started)

    def _kill(self, kind: str, rng: random.Random) -> None:
        proc = self.server.proc
        if kind == "worker":
            workers = [p for p in worker_pids(proc.pid) if _alive(p)]
            if not workers:
                return
            held = self._kill_guarded([rng.choice(workers)])
            if held is None:
                self.report.skipped_kills += 1
            else:
                self.report.kills["worker"] += 1
                self.report.pages_held_at_kill["worker"] += held
        elif kind == "server":
            self.server.kill()  # SIGKILL and reap; the workers finish their pages
            self.report.kills["server"] += 1
            self._restart()
        else:
            # The server first, so that it neither restarts nor releases;
            # its document fork server goes too.
            children = [p for p in child_pids(proc.pid) if _alive(p)]
            held = self._kill_guarded([proc.pid] + children)
            if held is None:
                self.report.skipped_kills += 1
            else:
                proc.wait()
                self.server.proc = None
                self.report.kills["all"] += 1
                self.report.pages_held_at_kill["all"] += held
                self._restart()

    def plan(self) -> list[tuple[float, str]]:
        """The kill schedule: (seconds after the previous kill, kind), from
        the seed alone. Every kind is in it when it has room for three."""
        rng = random.Random(self.seed)
        schedule, total = [], 0.0
        while True:
            wait = rng.uniform(*self.kill_interval)
            if total + wait >= self.duration:
                break
            total += wait
            schedule.append((wait, rng.choices(KILL_KINDS, weights=self.kill_weights)[0]))
        if len(schedule) >= len(KILL_KINDS):
            slots = rng.sample(range(len(schedule)), len(schedule))
            for kind in KILL_KINDS:
                if kind not in (k for _, k in schedule):
                    # Take a slot of a kind that occurs more than once.
                    for slot in slots:
                        taken = schedule[slot][1]
                        if sum(1 for _, k in schedule if k == taken) > 1:
                            schedule[slot] = (schedule[slot][0], kind)
                            break
        return schedule

    def _chaos(self) -> None:
        rng = random.Random(self.seed + 1)  # picks the victims
        end = time.monotonic() + self.duration
        for wait, kind in self.plan():
            time.sleep(wait)
            self._kill(kind, rng)
        time.sleep(max(0.0, end - time.monotonic()))

    # -- the run ---------------------------------------------------------
    def run(self, drain_timeout: float = 180) -> CrashReport:
        threads = [threading.Thread(target=self._submitter, args=(i,), daemon=True) for i in range(self.submitters)]
        threads.append(threading.Thread(target=self._poller, daemon=True))
        for t in threads:
            t.start()
        try:
            self._chaos()
        finally:
            self._stop.set()
            for t in threads:
                t.join(60)
            if self.server.proc is None:
                self._restart()
        drain_started = time.monotonic()
        ids = [job_id for job_id, _ in self.accepted]
        last = wait_all_finished(self.server.base, ids, time.monotonic() + drain_timeout)
        self.report.drain_s = time.monotonic() - drain_started
        self._check(last)
        return self.report

    def _check(self, last: dict[str, dict]) -> None:
        report = self.report
        for job_id, doc in self.accepted:
            status = last[job_id]["status"]
            if status == "404":
                report.seen_404.append(job_id)
                continue
            if status != "completed":
                report.not_completed[job_id] = status
                continue
            result = self.server.result(job_id).json()
            report.job_latency_s.append(_epoch_seconds(result["metadata"]["completed_at"]) -
                                        _epoch_seconds(result["metadata"]["submitted_at"]))
            pages = result["results"].values()
            report.pages += len(pages)
            report.page_errors += sum(1 for p in pages if p.get("status") != "success")
            got, want = comparable(result), self.reference[doc.name]
            if got != want:
                report.wrong[job_id] = _difference(doc.name, got, want)
        # Every job in the store, those of unanswered submits included.
        cursor = ""
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            body = requests.get(f"{self.server.base}/ocr/jobs", params=params, timeout=30).json()
            for job in body["jobs"]:
                report.store_jobs += 1
                if job["status"] != "completed":
                    report.store_unfinished += 1
            cursor = body.get("next_cursor")
            if not cursor:
                break


def _difference(name: str, got: dict, want: dict) -> str:
    for key in want:
        if got.get(key) != want[key]:
            if key == "results":
                for page in want["results"]:
                    if got["results"].get(page) != want["results"][page]:
                        return (f"{name} {page}: got {json.dumps(got['results'].get(page))[:300]} "
                                f"want {json.dumps(want['results'][page])[:300]}")
            return f"{name} {key}: got {json.dumps(got.get(key))[:300]} want {json.dumps(want[key])[:300]}"
    return f"{name}: differs"
