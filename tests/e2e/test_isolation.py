"""OCR runs in supervised worker processes: a worker that dies (crash, OOM
kill, kill -9) costs one process, its page is retried at once, a page that
kills its worker three times becomes a page error naming the cause, and the
API never notices."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
import unittest
from pathlib import Path

from pdfgen import dense_pdf, sample_pdf
from visor_harness import VisorServer, child_pids, wait_until


def server_children(server: VisorServer) -> list[int]:
    """The server's child processes, also before their exec: its workers,
    and its document fork server once an upload has been read."""
    return child_pids(server.proc.pid)


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat (R, S, Z, ...)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


def open_descriptor_targets(pid: int) -> list[str]:
    """What each open descriptor of `pid` refers to; a starting process opens
    and closes files while it is listed, so a vanished entry is skipped."""
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            targets.append(os.readlink(fd))
        except FileNotFoundError:
            pass
    return targets


class IsolationTest(unittest.TestCase):
    def setUp(self):
        # A long lease: recovery must come from the supervisor noticing the
        # death, not from the lease running out.
        self.server = VisorServer("--lease-timeout", "120s", workers=1, name="isolation").start()
        self.addCleanup(self.server.cleanup)

    def lease_holder(self, job_id: str, attempt: int) -> int | None:
        """The pid of the worker holding attempt `attempt` of the job's first
        page, read from the store (white-box: the tests know its layout)."""
        with sqlite3.connect(self.server.data_dir / "visor.db", timeout=10) as db:
            row = db.execute("SELECT lease_owner FROM pages WHERE job_id = ? AND page_index = 0 "
                             "AND state = 'leased' AND attempts = ?", (job_id, attempt)).fetchone()
        return int(row[0].split(":")[1].split("/")[0]) if row else None

    def kill_worker_holding(self, job_id: str, attempt: int) -> int:
        pid = wait_until(lambda: self.lease_holder(job_id, attempt), timeout=60)
        os.kill(pid, signal.SIGKILL)
        return pid

    def test_killed_worker_is_replaced_and_its_page_retried_at_once(self):
        job = self.server.submit_ok(dense_pdf(2), dpi=72)
        killed = self.kill_worker_holding(job["job_id"], attempt=1)
        started = time.monotonic()
        self.server.wait_for(job["job_id"], timeout=60)
        self.assertLess(time.monotonic() - started, 60, "recovery waited for the 120 s lease")
        result = self.server.result(job["job_id"]).json()
        self.assertEqual([p["status"] for p in result["results"].values()], ["success", "success"])
        self.assertNotIn(killed, server_children(self.server))
        self.assertIn("worker.died", self.server.log())
        self.assertEqual(self.server.get("/ocr/models").status_code, 200)

    def test_page_that_kills_its_worker_three_times_becomes_a_page_error(self):
        job = self.server.submit_ok(dense_pdf(1), dpi=72)
        for attempt in (1, 2, 3):
            self.kill_worker_holding(job["job_id"], attempt)
        body = self.server.wait_for(job["job_id"], timeout=60)
        self.assertEqual(body["status"], "completed")
        page = self.server.result(job["job_id"]).json()["results"]["page_0"]
        self.assertEqual(page["status"], "error")
        self.assertIn("ended (killed by signal 9", page["error"])
        # The server goes on serving: a new job completes.
        other = self.server.submit_ok(sample_pdf(1), dpi=72)
        self.assertEqual(self.server.wait_for(other["job_id"], timeout=60)["status"], "completed")

    def test_a_restarted_server_returns_its_dead_workers_pages_at_once_without_using_an_attempt(self):
        # The server and its workers killed together, three times in a row
        # (as the OOM killer or `systemctl kill -s KILL` would): the page is
        # neither stuck for the 120 s lease nor counted as crashing its worker.
        job = self.server.submit_ok(dense_pdf(1), dpi=300)
        for _ in range(3):
            holder = wait_until(lambda: self.lease_holder(job["job_id"], 1), timeout=60)
            # Stopped first: a server that saw its worker die would give the
            # page back at once, costing an attempt; the kill is of both.
            os.kill(self.server.proc.pid, signal.SIGSTOP)
            os.kill(holder, signal.SIGKILL)
            self.server.kill()
            self.server.start()
        started = time.monotonic()
        body = self.server.wait_for(job["job_id"], timeout=90)
        self.assertLess(time.monotonic() - started, 60, "recovery waited for the 120 s lease")
        self.assertEqual(body["status"], "completed")
        page = self.server.result(job["job_id"]).json()["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        self.assertEqual(self.server.log().count("worker.orphans_returned"), 3)

    def test_worker_signalled_new_work_while_starting_survives(self):
        # The server sends SIGUSR1 ("new work") to every worker on each
        # submit, so under steady load a worker that has just been started
        # gets it before its own startup code runs; it must not kill it.
        first = server_children(self.server)[0]
        os.kill(first, signal.SIGKILL)
        replacement = wait_until(lambda: [p for p in server_children(self.server) if p != first],
                                 timeout=30, interval=0.0005)[0]
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                os.kill(replacement, signal.SIGUSR1)
            except ProcessLookupError:
                break
            time.sleep(0.0005)
        time.sleep(0.3)  # the supervisor reaps every 100 ms
        self.assertIn(replacement, server_children(self.server))
        self.assertNotEqual(process_state(replacement), "Z", "the worker died and is not reaped yet")
        self.assertNotIn("User defined signal 1", self.server.log())
        job = self.server.submit_ok(sample_pdf(1), dpi=72)
        self.assertEqual(self.server.wait_for(job["job_id"], timeout=60)["status"], "completed")

    def test_replacement_worker_holds_no_socket_of_the_server(self):
        # An open connection, so the server has an accepted socket besides
        # the listening one when the replacement starts.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: visor\r\n\r\n")
            self.assertIn(b"200", client.recv(4096))
            first = server_children(self.server)[0]
            os.kill(first, signal.SIGKILL)
            replacement = wait_until(lambda: [p for p in server_children(self.server) if p != first], timeout=30)[0]
            # Before its exec the child still holds the server's close-on-exec
            # descriptors; the claim is about the worker program.
            wait_until(lambda: Path(f"/proc/{replacement}/cmdline").read_bytes().split(b"\0")[1:2] == [b"worker"],
                       timeout=30, interval=0.001)
            targets = open_descriptor_targets(replacement)
        self.assertEqual([t for t in targets if t.startswith("socket:")], [], targets)

    def test_worker_processes_report_pages_to_the_server_metrics(self):
        job = self.server.submit_ok(sample_pdf(2), dpi=72)
        self.server.wait_for(job["job_id"], timeout=60)
        def successes() -> float:
            text = self.server.get("/metrics").text
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("visor_pages_processed_total{") and 'outcome="success"' in line)

        # Reports trail the store by up to the server's 100 ms read interval.
        wait_until(lambda: successes() >= 2, timeout=10)
        time.sleep(0.3)
        self.assertEqual(successes(), 2)


if __name__ == "__main__":
    unittest.main()
