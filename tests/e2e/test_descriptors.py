"""A server out of file descriptors (its RLIMIT_NOFILE reached by open
connections) waits for connections to close, without spinning on accept or
flooding its log, and then serves the connections that waited."""

from __future__ import annotations

import os
import socket
import sys
import time
import unittest

from visor_harness import VisorServer

NOFILE = 64

# Lowers the soft RLIMIT_NOFILE, then becomes `visor serve` (same pid).
# Soft and hard: the server raises its soft limit to the hard one at start.
_LIMIT_THEN_EXEC = ("import os, resource, sys; "
                    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[1]))); "
                    "os.execv(sys.argv[2], sys.argv[2:])")


class LimitedServer(VisorServer):
    def command(self) -> list[str]:
        return [sys.executable, "-c", _LIMIT_THEN_EXEC, str(NOFILE), *super().command()]


class OutOfDescriptorsTest(unittest.TestCase):
    def setUp(self):
        self.server = LimitedServer(workers=1, name="descriptors").start()
        self.addCleanup(self.server.cleanup)
        self.sockets: list[socket.socket] = []
        self.addCleanup(lambda: [s.close() for s in self.sockets])

    def connect(self, request: bytes) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        s.sendall(request)
        self.sockets.append(s)
        return s

    def log(self) -> str:
        return (self.server.tmp / f"serve-{self.server.starts}.log").read_text(errors="replace")

    def accept_warnings(self) -> int:
        return self.log().count("http.accept_failed")

    def test_server_out_of_descriptors_waits_then_serves_the_waiting_connections(self):
        pid = self.server.proc.pid
        in_use = len(os.listdir(f"/proc/{pid}/fd"))
        # Connections that hold a descriptor each, their headers unfinished.
        held = [self.connect(b"GET /healthz HTTP/1.1\r\n") for _ in range(NOFILE - in_use + 8)]
        # A complete request that has to wait in the backlog.
        waiting = self.connect(b"GET /healthz HTTP/1.1\r\nHost: visor\r\nConnection: close\r\n\r\n")
        deadline = time.monotonic() + 10
        while self.accept_warnings() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertGreater(self.accept_warnings(), 0, "the server never ran out of descriptors")
        time.sleep(1)  # an accept loop retrying at once logged ~200,000 warnings a second
        # One warning per run of failures; a descriptor freed meanwhile (one
        # accept succeeds) may start a second run.
        self.assertLessEqual(self.accept_warnings(), 3, "accept retried at once, a warning per try")

        for s in held:
            s.close()
        waiting.settimeout(30)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = waiting.recv(4096)
            if not chunk:
                break
            reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.1 200"), reply)
        self.assertEqual(self.server.get("/healthz").status_code, 200)
        self.assertIn("http.accept_resumed", self.log())


if __name__ == "__main__":
    unittest.main()
