#!/usr/bin/env python3
"""Submits every PDF of a corpus folder to a running-from-scratch `visor serve`
and reports how each ended: refused at submit (with the reason), completed
(pages ok / page errors), failed (with the reason), or still running after
the time limit. The server must never die or restart because of a file.

Usage: bench/robustness.py [--corpus DIR] [--binary build/visor] [--dpi 72]
                           [--limit SECONDS_PER_FILE] [--workers N]
                           [--serve-args "--page-timeout 20s ..."]

Jobs take the server's ocr_mode (auto unless --serve-args says otherwise);
each completed file lists its successful pages by source (text-layer, ocr),
and the summary counts worker processes that died and were restarted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "pdfs"))
    parser.add_argument("--binary", default=str(ROOT / "build" / "visor"))
    parser.add_argument("--dpi", type=int, default=72)
    parser.add_argument("--limit", type=float, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-pages", type=int, default=2000)
    parser.add_argument("--serve-args", default="", help="more arguments for visor serve, e.g. its limits")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="visor-robustness-")
    port = free_port()
    log = open(Path(data) / "serve.log", "wb")
    server = subprocess.Popen([args.binary, "serve", "--port", str(port), "--data", data + "/data",
                               "--workers", str(args.workers), "--max-pages", str(args.max_pages),
                               *shlex.split(args.serve_args)],
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/ocr/models", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.1)

    counts: dict[str, int] = {}
    pages_by_source: dict[str, int] = {}  # successful pages by the path that made them (text-layer, ocr)
    files = sorted(p for p in Path(args.corpus).rglob("*") if p.is_file() and p.suffix.lower() in (".pdf", ""))
    for path in files:
        if server.poll() is not None:
            print(f"SERVER DIED (exit {server.returncode}) before {path}")
            return 1
        started = time.monotonic()
        try:
            response = requests.post(base + "/ocr/submit", params={"dpi": args.dpi},
                                     files={"file": (path.name, path.read_bytes())}, timeout=args.limit)
        except requests.RequestException as error:
            outcome = f"submit-error {error}"
        else:
            if response.status_code != 200:
                outcome = f"refused {response.status_code} {response.json().get('detail', '')[:90]}"
            else:
                job_id = response.json()["job_id"]
                outcome = "timeout"
                while time.monotonic() - started < args.limit:
                    status = requests.get(f"{base}/ocr/status/{job_id}", timeout=10).json()
                    if status["status"] == "completed":
                        results = requests.get(f"{base}/ocr/result/{job_id}", timeout=60).json()["results"]
                        errors = sum(1 for page in results.values() if page["status"] != "success")
                        sources = {}
                        for page in results.values():
                            if page["status"] == "success":
                                source = page.get("source", "ocr")
                                sources[source] = sources.get(source, 0) + 1
                                pages_by_source[source] = pages_by_source.get(source, 0) + 1
                        outcome = f"completed pages={len(results)} page_errors={errors} " + " ".join(
                            f"{source}={n}" for source, n in sorted(sources.items()))
                        first_error = next((p["error"] for p in results.values() if p["status"] != "success"), "")
                        if first_error:
                            outcome += f" first error: {first_error[:160]}"
                        break
                    if status["status"] == "failed":
                        outcome = f"failed {status.get('error', '')[:90]}"
                        break
                    time.sleep(0.2)
        kind = outcome.split()[0]
        counts[kind] = counts.get(kind, 0) + 1
        print(f"{time.monotonic() - started:6.1f}s {path.relative_to(args.corpus)}: {outcome}", flush=True)

    alive = server.poll() is None
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        print("server did not stop within 30 s of SIGTERM (a page still rendering); killed")
        server.kill()
        server.wait()
    log.close()
    serve_log = (Path(data) / "serve.log").read_text(errors="replace")
    worker_deaths = serve_log.count("worker.died")
    print("summary:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
          f"server {'alive' if alive else 'DIED'} after {len(files)} files;",
          f"worker processes died and were restarted: {worker_deaths};",
          "successful pages by source:", ", ".join(f"{k}={v}" for k, v in sorted(pages_by_source.items())))
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main())
