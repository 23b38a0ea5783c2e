"""A Visor fleet on one PostgreSQL store for the end-to-end tests: API-only
`visor serve` nodes (`--workers 0 --store URL`) and standalone `visor worker`
processes, all on loopback.

    pg = PostgresServer(fsync=False).start()
    cluster = Cluster(pg, "mytest", nodes=2, workers=2).start()
    a, b = cluster.nodes            # ApiNode: VisorServer's HTTP helpers
    cluster.workers[0].kill()       # kill -9
    cluster.page_events("page.done", job_id)   # [(worker, page), ...] from the worker logs
    cluster.cleanup()

ClusterTestCase starts one cluster per test class (its own database on the
module's PostgreSQL) and prints the log of every process, PostgreSQL's
included, when a test fails.

Environment: as visor_harness and postgres_harness.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import requests

from postgres_harness import PostgresServer
from visor_harness import BINARY, ChildProcess, VisorServer, require_binary, wait_until

# "2026-...Z info page.done job_id=fc-... page=3 attempt=1 ms=2140"
LOG_EVENT_RE = re.compile(r"^(?P<ts>\S+) (?P<level>\w+) (?P<event>[\w.]+)(?P<fields>.*)$")
FIELD_RE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_log_line(line: str) -> tuple[str, dict[str, str]] | None:
    """(event, fields) of one line of the text log, None for other lines."""
    match = LOG_EVENT_RE.match(line)
    if not match:
        return None
    fields = {}
    for key, value in FIELD_RE.findall(match.group("fields")):
        fields[key] = value[1:-1] if value.startswith('"') else value
    return match.group("event"), fields


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without VISOR_* (a variable of the shell
    must not change the processes under test), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISOR_")}
    env.update(extra)
    return env


def read_log(paths: list[Path], max_lines: int = 200) -> str:
    out = []
    for path in paths:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        if max_lines and len(lines) > max_lines:
            lines = [f"... ({len(lines) - max_lines} lines left out)"] + lines[-max_lines:]
        out.append(f"--- {path.name} ---\n" + "\n".join(lines))
    return "\n".join(out)


class ApiNode(VisorServer):
    """An API-only `visor serve --workers 0 --store URL` node (no --store
    when `store` is None: the environment's VISOR_STORE, say, names it)."""

    def __init__(self, store: str | None, *flags: str, name: str = "node", env: dict | None = None,
                 api_key: str | None = None):
        super().__init__(*flags, workers=0, name=name, env=env, api_key=api_key)
        self.store = store

    def command(self) -> list[str]:
        return [str(BINARY), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data", str(self.data_dir), "--workers", "0",
                *(["--store", self.store] if self.store else []), *self.mode_flags(), *self.flags]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        """The whole log of every start (log() keeps only the last lines)."""
        return "".join(p.read_text(errors="replace") for p in self._log_files if p.exists())


class VisorWorker(ChildProcess):
    """One standalone `visor worker --store URL` process.

    kill() is kill -9; stop() is SIGTERM (a drain); start() again starts a
    new process with the same flags, logging to a new file."""

    def __init__(self, store: str, *flags: str, threads: int = 1, name: str = "worker",
                 env: dict | None = None):
        require_binary()
        self.store = store
        self.flags = list(flags)
        self.threads = threads
        self.name = name
        self.env = dict(env or {})
        self.tmp = Path(tempfile.mkdtemp(prefix=f"visor-e2e-{name}-"))
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self._log_files: list[Path] = []

    def command(self) -> list[str]:
        return [str(BINARY), "worker", "--store", self.store, "--threads", str(self.threads), *self.flags]

    def start(self, wait: bool = True, timeout: float = 60) -> "VisorWorker":
        """Starts the process; with `wait`, returns once each of its threads
        logged worker.started."""
        self.starts += 1
        log_path = self.tmp / f"worker-{self.starts}.log"
        self._log_files.append(log_path)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=child_env(self.env), cwd=self.tmp)
        if wait:
            self.wait_started(timeout)
        return self

    def wait_started(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"visor worker exited with {self.proc.returncode} at start:\n{self.log()}")
            if self.current_log().count(" worker.started ") >= self.threads:
                return
            time.sleep(0.05)
        raise RuntimeError(f"visor worker did not log worker.started within {timeout} s:\n{self.log()}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM (a worker finishes or gives back its pages), then SIGKILL."""
        return super().stop(grace)

    def cleanup(self) -> None:
        self.stop(grace=5.0)
        if not os.environ.get("VISOR_E2E_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def current_log(self) -> str:
        """The log of the current (latest) process."""
        try:
            return self._log_files[-1].read_text(errors="replace")
        except (OSError, IndexError):
            return ""

    def log_text(self) -> str:
        """The whole log of every start."""
        return "".join(p.read_text(errors="replace") for p in self._log_files if p.exists())

    def log(self) -> str:
        return read_log(self._log_files)

    def events(self, event: str, **fields: str) -> list[dict[str, str]]:
        """The fields of every `event` line in this worker's logs whose
        fields include `fields`."""
        out = []
        for line in self.log_text().splitlines():
            parsed = parse_log_line(line)
            if parsed and parsed[0] == event and all(parsed[1].get(k) == v for k, v in fields.items()):
                out.append(parsed[1])
        return out


class Cluster:
    """PostgreSQL (given, or started and owned here) + `nodes` API nodes +
    `workers` standalone worker processes on one fresh database.

    Everything starts at once, so the schema migration runs concurrently
    from every process, as it does when a fleet starts."""

    def __init__(self, pg: PostgresServer | None = None, database: str = "visor_cluster", nodes: int = 2,
                 workers: int = 2, node_flags: tuple[str, ...] = (), worker_flags: tuple[str, ...] = (),
                 env: dict[str, str] | None = None, api_key: str | None = None, threads: int = 1,
                 name: str = "cluster"):
        require_binary()
        self.owns_pg = pg is None
        self.pg = pg or PostgresServer(fsync=False)
        self.database = database.lower()
        self.name = name
        self.env = dict(env or {})
        self.node_count, self.worker_count = nodes, workers
        self.node_flags, self.worker_flags = tuple(node_flags), tuple(worker_flags)
        self.api_key = api_key
        self.threads = threads
        self.nodes: list[ApiNode] = []
        self.workers: list[VisorWorker] = []

    @property
    def store(self) -> str:
        return self.pg.url(self.database)

    def start(self, timeout: float = 60) -> "Cluster":
        try:
            if self.owns_pg:
                self.pg.start()
            self.pg.drop_database(self.database)
            self.pg.create_database(self.database)
            letters = "ABCDEFGHIJ"
            self.nodes = [ApiNode(self.store, *self.node_flags, name=f"{self.name}-node{letters[i]}",
                                  env=self.env, api_key=self.api_key) for i in range(self.node_count)]
            self.workers = [VisorWorker(self.store, *self.worker_flags, threads=self.threads,
                                        name=f"{self.name}-worker{i + 1}", env=self.env)
                            for i in range(self.worker_count)]
            # All at once: nodes in threads (VisorServer.start blocks until
            # /healthz answers), workers without waiting, then every check.
            errors: list[BaseException] = []

            def start_node(node: ApiNode) -> None:
                try:
                    node.start(timeout=timeout)
                except BaseException as e:  # reported below
                    errors.append(e)

            threads = [threading.Thread(target=start_node, args=(n,)) for n in self.nodes]
            for thread in threads:
                thread.start()
            for worker in self.workers:
                worker.start(wait=False)
            for thread in threads:
                thread.join()
            if errors:
                raise errors[0]
            for worker in self.workers:
                worker.wait_started(timeout)
        except BaseException:
            sys.stderr.write(f"\n=== cluster {self.name} failed to start ===\n{self.log()}\n")
            self.cleanup()
            raise
        return self

    def cleanup(self) -> None:
        for node in self.nodes:
            node.cleanup()
        for worker in self.workers:
            worker.cleanup()
        if self.owns_pg:
            self.pg.cleanup()

    # -- observation -----------------------------------------------------
    def processes(self) -> dict[str, int | None]:
        """name -> pid of every node and worker (None when not running)."""
        out = {n.name: (n.proc.pid if n.proc is not None and n.proc.poll() is None else None) for n in self.nodes}
        out.update({w.name: (w.pid if w.alive() else None) for w in self.workers})
        return out

    def log(self) -> str:
        parts = []
        for node in self.nodes:
            parts.append(f"===== {node.name} (pid {node.proc.pid if node.proc else '-'}) =====\n{node.log()}")
        for worker in self.workers:
            parts.append(f"===== {worker.name} (pid {worker.pid or '-'}) =====\n{worker.log()}")
        parts.append(f"===== postgresql ({self.pg.url(self.database)}) =====\n{self.pg.log()}")
        return "\n".join(parts)

    def page_events(self, event: str, job_id: str) -> list[tuple[str, int]]:
        """(worker name, page index) of every `event` line for `job_id` in
        every worker's logs."""
        out = []
        for worker in self.workers:
            out += [(worker.name, int(f["page"])) for f in worker.events(event, job_id=job_id) if "page" in f]
        return out

    def sql(self, query: str) -> list[tuple[str, ...]]:
        """A query on the cluster's database (white-box reads of the store)."""
        return self.pg.psql(query, db=self.database)

    def lease_holders(self, job_id: str) -> dict[int, tuple[str, int]]:
        """page index -> (lease_owner, attempts) of the job's leased pages."""
        quoted = job_id.replace("'", "''")
        rows = self.sql(f"SELECT page_index, lease_owner, attempts FROM pages "
                        f"WHERE job_id = '{quoted}' AND state = 'leased' ORDER BY page_index")
        return {int(index): (owner, int(attempts)) for index, owner, attempts in rows}

    def worker_of(self, lease_owner: str) -> VisorWorker | None:
        """The worker whose process holds a lease ('host:pid/thread')."""
        match = re.match(r"^.*:(\d+)/\d+$", lease_owner)
        if not match:
            return None
        pid = int(match.group(1))
        return next((w for w in self.workers if w.pid == pid), None)


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of sample `name` with `labels` in a Prometheus text
    exposition; None when absent."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, label_text = head.partition("{")
        if sample != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', label_text))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


# The module's PostgreSQL: test classes share one server, each with a database of its own.
_shared_pg: PostgresServer | None = None


def shared_postgres() -> PostgresServer:
    global _shared_pg
    if _shared_pg is None:
        _shared_pg = PostgresServer(fsync=False).start()
    return _shared_pg


def stop_shared_postgres() -> None:
    global _shared_pg
    if _shared_pg is not None:
        _shared_pg.cleanup()
        _shared_pg = None


class ClusterTestCase(unittest.TestCase):
    """One cluster per test class on the shared PostgreSQL, in a database
    named after the class; prints every process's log when a test fails."""

    NODES = 2
    WORKERS = 2
    NODE_FLAGS: tuple[str, ...] = ()
    WORKER_FLAGS: tuple[str, ...] = ()
    ENV: dict[str, str] = {}
    API_KEY: str | None = None
    cluster: Cluster

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = shared_postgres()
        cls.cluster = Cluster(cls.pg, f"visor_{cls.__name__}", nodes=cls.NODES, workers=cls.WORKERS,
                              node_flags=cls.NODE_FLAGS, worker_flags=cls.WORKER_FLAGS, env=cls.ENV,
                              api_key=cls.API_KEY, name=cls.__name__).start()
        cls.nodes = cls.cluster.nodes
        cls.workers = cls.cluster.workers

    @classmethod
    def tearDownClass(cls):
        cls.cluster.cleanup()
        super().tearDownClass()

    def run(self, result=None):
        before = (len(result.failures), len(result.errors)) if result is not None else None
        out = super().run(result)
        if result is not None and (len(result.failures), len(result.errors)) != before:
            sys.stderr.write(f"\n=== cluster logs for {self.id()} ===\n{self.cluster.log()}\n")
        return out

    def assertDetail(self, response: requests.Response, status: int, *words: str) -> str:
        self.assertEqual(response.status_code, status, response.text)
        body = response.json()
        self.assertIsInstance(body, dict, response.text)
        self.assertIsInstance(body.get("detail"), str, response.text)
        for word in words:
            self.assertIn(word.lower(), body["detail"].lower(), body["detail"])
        return body["detail"]

    def assertRetryAfter(self, response: requests.Response, low: int = 1, high: int = 120) -> int:
        self.assertIn("Retry-After", response.headers, f"{response.status_code} {response.text}")
        value = int(response.headers["Retry-After"])
        self.assertTrue(low <= value <= high, f"Retry-After {value}")
        return value


__all__ = ["ApiNode", "Cluster", "ClusterTestCase", "VisorWorker", "metric_value", "parse_log_line",
           "shared_postgres", "stop_shared_postgres", "wait_until"]
