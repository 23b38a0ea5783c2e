#!/usr/bin/env python3
"""Throughput, side by side on the same documents and cores: Visor in
`ocr_mode=auto`, Visor in `ocr_mode=ocr`, the command-line pipeline a user
would script (`pdftoppm -r DPI -gray` and `tesseract` per page, `xargs -P
CORES`), and plain `tesseract` alone on pages rendered beforehand (the
recognition limit). Prints pages/s of each and the ratios; results and the
commands are in docs/performance.md.

Usage: bench/throughput.py [--variants digital,scan] [--repeat-text 10]
                           [--workers 2] [--dpi 200] [--json report.json]

- Documents: every NAME.pdf (born-digital) and NAME.scan.pdf (scanned, no
  text layer) of ../shared/corpus/gt.
- Visor: a fresh `visor serve` with the server's defaults except
  `--workers` (default 2, the server's own default); every document of a
  variant is submitted at once, and the time runs from the first submit to
  the last job completed (polled every 20 ms). Text-layer pages take
  milliseconds, so the auto run of the born-digital variant submits each
  document --repeat-text times to measure more than HTTP latency.
- CLI pipeline: `pdftoppm` for each document and then `tesseract PAGE OUT
  tsv` for each page, both through `xargs -P WORKERS`, with
  OMP_THREAD_LIMIT=1 as Visor's engine runs; rendering is timed.
- Pure recognition: the pages rendered beforehand by visor_render_pages
  (the very pixels Visor's engine sees), then only the timed `xargs -P
  WORKERS tesseract` run.

Only Python's standard library and requests; poppler-utils and tesseract-ocr
from Debian (scripts/setup installs both).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "gt"


def documents(corpus: Path, variant: str) -> list[Path]:
    suffix = ".scan.pdf" if variant == "scan" else ".pdf"
    return sorted(p for p in corpus.glob("doc11_*" + suffix) if variant == "scan" or not p.name.endswith(".scan.pdf"))


def visor_run(docs: list[Path], mode: str, repeat: int, workers: int, dpi: int) -> dict:
    """Pages/s of one `visor serve` for every document submitted at once."""
    import requests
    from visor_harness import VisorServer

    server = VisorServer("--ocr-mode", mode, workers=workers, name=f"throughput-{mode}").start()
    try:
        payloads = [(doc.name, doc.read_bytes()) for doc in docs] * repeat
        session = requests.Session()
        started = time.monotonic()
        jobs = {}
        for name, data in payloads:
            reply = session.post(server.url("/ocr/submit"), params={"dpi": str(dpi), "ocr_mode": mode},
                                 files={"file": (name, data)}, timeout=60)
            reply.raise_for_status()
            jobs[reply.json()["job_id"]] = reply.json()["total_pages"]
        pending = set(jobs)
        while pending:
            for job_id in list(pending):
                status = session.get(server.url(f"/ocr/status/{job_id}"), timeout=30).json()["status"]
                if status in ("completed", "failed", "cancelled"):
                    if status != "completed":
                        raise RuntimeError(f"job {job_id} ended {status}")
                    pending.discard(job_id)
            if pending:
                time.sleep(0.02)
        seconds = time.monotonic() - started
        sources = {}
        for job_id in jobs:
            result = session.get(server.url(f"/ocr/result/{job_id}"), timeout=60).json()
            for page in result["results"].values():
                source = page.get("source", "error")
                sources[source] = sources.get(source, 0) + 1
        pages = sum(jobs.values())
        return {"pages": pages, "seconds": seconds, "pages_per_s": pages / seconds, "sources": sources}
    finally:
        server.cleanup()


def xargs(items: list[str], command: str, workers: int, env: dict) -> float:
    """Seconds to run `command {}` for every item through xargs -P."""
    started = time.monotonic()
    subprocess.run(["xargs", "-0", "-P", str(workers), "-I{}", "sh", "-c", command], input="\0".join(items),
                   text=True, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


def tesseract_env() -> dict:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def cli_pipeline(docs: list[Path], workers: int, dpi: int) -> dict:
    """pdftoppm + tesseract per page, as a user scripts it."""
    with tempfile.TemporaryDirectory(prefix="visor-throughput-cli-") as tmp:
        out = Path(tmp)
        env = tesseract_env()
        render = xargs([str(doc) for doc in docs],
                       f"pdftoppm -r {dpi} -gray {{}} {shlex.quote(str(out))}/$(basename {{}} .pdf)", workers, env)
        pages = sorted(str(p) for p in out.glob("*.pgm"))
        recognise = xargs(pages, f"tesseract {{}} {{}}.out --dpi {dpi} tsv", workers, env)
        seconds = render + recognise
        return {"pages": len(pages), "seconds": seconds, "render_seconds": render, "pages_per_s": len(pages) / seconds}


def pure_recognition(docs: list[Path], workers: int, dpi: int, render_tool: Path) -> dict:
    """tesseract alone on the pages Visor's engine would see."""
    with tempfile.TemporaryDirectory(prefix="visor-throughput-pure-") as tmp:
        out = Path(tmp)
        for doc in docs:
            target = out / doc.name
            target.mkdir()
            subprocess.run([str(render_tool), str(doc), str(dpi), str(target)], check=True,
                           stdout=subprocess.DEVNULL)
        pages = sorted(str(p) for p in out.glob("*/page_*.png"))
        seconds = xargs(pages, f"tesseract {{}} {{}}.out --dpi {dpi} tsv", workers, tesseract_env())
        return {"pages": len(pages), "seconds": seconds, "pages_per_s": len(pages) / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--build", type=Path, default=ROOT / "build")
    parser.add_argument("--variants", default="digital,scan")
    parser.add_argument("--repeat-text", type=int, default=10,
                        help="submissions of each born-digital document in the auto run")
    parser.add_argument("--workers", type=int, default=2, help="Visor workers and xargs -P (default: 2)")
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("VISOR_BINARY", str(args.build / "visor"))
    render_tool = args.build / "bench" / "visor_render_pages"

    report = {"workers": args.workers, "dpi": args.dpi, "cores": os.cpu_count(), "variants": {}}
    for variant in args.variants.split(","):
        docs = documents(args.corpus, variant)
        runs = {
            "visor_auto": visor_run(docs, "auto", args.repeat_text if variant == "digital" else 1, args.workers,
                                    args.dpi),
            "visor_ocr": visor_run(docs, "ocr", 1, args.workers, args.dpi),
            "cli_pipeline": cli_pipeline(docs, args.workers, args.dpi),
            "pure_tesseract": pure_recognition(docs, args.workers, args.dpi, render_tool),
        }
        report["variants"][variant] = runs
        print(f"# {variant}: {len(docs)} documents, {args.workers} workers, {args.dpi} DPI")
        print("| run | pages | seconds | pages/s | x visor ocr | time / pure tesseract |")
        print("|---|---:|---:|---:|---:|---:|")
        ocr_rate = runs["visor_ocr"]["pages_per_s"]
        pure_rate = runs["pure_tesseract"]["pages_per_s"]
        for name, run in runs.items():
            print(f"| {name} | {run['pages']} | {run['seconds']:.2f} | {run['pages_per_s']:.2f} | "
                  f"{run['pages_per_s'] / ocr_rate:.2f} | {pure_rate / run['pages_per_s']:.3f} |")
        print(f"sources: auto {runs['visor_auto']['sources']}, ocr {runs['visor_ocr']['sources']}\n")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
