#!/usr/bin/env python3
"""bench/realworld.py: Visor on the real-world folders of ../shared/corpus/gt,
scored with what each folder's truth allows (docs/quality.md has the
definitions and the results):

  docbank-samples      95 born-digital arXiv pages (PDF) and 5 page images
                       (JPEG, 200 DPI): every token with its box and one of
                       13 layout labels. Scored: bag-of-words F1 of the text
                       against the tokens; token coverage (tokens whose
                       centre lies in an element) and token category
                       accuracy (covered tokens whose element's category is
                       the one their label maps to).
  olmocr-bench-sample  20 pages with 99 checkable facts. Scored on the
                       lightonocr Markdown: present / absent / order / table
                       / math / baseline (blank page), pass rates by type.
  publaynet-examples   20 journal page images (about 72 DPI) with layout
                       boxes, no text. Scored: detection and category F1 at
                       IoU >= 0.5 (bench/quality's matching) on the dotsocr boxes, which are pixels of
                       the image itself.

Usage: bench/realworld.py [--build build] [--ocr-mode auto] [--sets docbank,olmocr,publaynet]
                          [--jobs 2] [--json report.json]

Runs `visor ocr` once per file and model (two at a time), standard library
only.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import importlib.machinery
import importlib.util
import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "gt"


def load_quality():
    """bench/quality (a script without .py) as a module: its box matching
    is the one both benchmarks score detection with."""
    loader = importlib.machinery.SourceFileLoader("visor_bench_quality", str(ROOT / "bench" / "quality"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


quality = load_quality()


# -- running visor ------------------------------------------------------

def run_visor(visor: Path, path: Path, model: str, mode: str, dpi: int) -> dict | str:
    """The dotsocr result JSON, or the Markdown for lightonocr."""
    args = [str(visor), "ocr", str(path), "--model", model, "--ocr-mode", mode, "--dpi", str(dpi)]
    if model == "lightonocr":
        args += ["--format", "md"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"visor ocr {path.name} failed: {done.stderr[-500:]}")
    return done.stdout if model == "lightonocr" else json.loads(done.stdout)


def run_all(visor: Path, paths: list[Path], model: str, mode: str, dpi: int, jobs: int) -> dict:
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {path: pool.submit(run_visor, visor, path, model, mode, dpi) for path in paths}
        return {path: future.result() for path, future in futures.items()}


def elements(result: dict) -> list[dict]:
    page = result["results"]["page_0"]
    return page["data"] if page["status"] == "success" else []


def sources(results: list[dict]) -> dict:
    counts = collections.Counter(r["results"]["page_0"].get("source", "error") for r in results)
    return dict(sorted(counts.items()))


# -- shared scoring -----------------------------------------------------

def f1(matched: int, truth: int, found: int) -> tuple[float, float, float]:
    p = matched / found if found else 0.0
    r = matched / truth if truth else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def words_of(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())


# -- docbank ------------------------------------------------------------

DOCBANK_CATEGORIES = {
    "abstract": {"Text"}, "author": {"Text", "Page-header"}, "caption": {"Caption"}, "date": {"Text"},
    "equation": {"Formula", "Text"}, "footer": {"Page-footer", "Footnote"}, "list": {"List-item"},
    "paragraph": {"Text"}, "reference": {"Text", "List-item"}, "section": {"Section-header"},
    "table": {"Table"}, "title": {"Title"},
}


def page_points(pdf: Path) -> tuple[float, float]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    return float(found.group(1)), float(found.group(2))


def docbank_tokens(path: Path) -> list[tuple[str, list[float], str]]:
    tokens = []
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split("\t")
        if len(fields) == 10:
            tokens.append((fields[0], [float(v) for v in fields[1:5]], fields[9]))
    return tokens


def bag_f1(truth_words: list[str], found_words: list[str]) -> tuple[int, int, int]:
    truth, found = collections.Counter(truth_words), collections.Counter(found_words)
    return sum((truth & found).values()), sum(truth.values()), sum(found.values())


def score_docbank(folder: Path, visor: Path, mode: str, dpi: int, jobs: int) -> dict:
    inputs = {}
    for tsv in sorted(folder.glob("*.tokens.tsv")):
        stem = tsv.name[: -len(".tokens.tsv")]
        pdf, jpg = folder / f"{stem}.pdf", folder / f"{stem}.jpg"
        inputs[stem] = pdf if pdf.exists() else jpg
    results = run_all(visor, list(inputs.values()), "dotsocr", mode, dpi, jobs)
    report = {}
    for kind, suffix in (("pdf", ".pdf"), ("image", ".jpg")):
        totals = collections.Counter()
        chosen = [stem for stem, path in inputs.items() if path.suffix == suffix]
        for stem in chosen:
            path = inputs[stem]
            found = elements(results[path])
            if path.suffix == ".pdf":
                width_pt, height_pt = page_points(path)
                width, height = width_pt * dpi / 72, height_pt * dpi / 72
            else:
                width, height = 1700, 2200  # the JPEGs' own pixels, which Visor's boxes are in
            tokens = [t for t in docbank_tokens(folder / f"{stem}.tokens.tsv") if t[2] != "figure"]
            matched, truth_n, found_n = bag_f1([w for t in tokens for w in words_of(t[0])],
                                              [w for e in found for w in words_of(e.get("text", ""))])
            totals.update(bow_matched=matched, bow_truth=truth_n, bow_found=found_n)
            for text, box, label in tokens:
                if label not in DOCBANK_CATEGORIES:
                    continue
                cx = (box[0] + box[2]) / 2 * width / 1000
                cy = (box[1] + box[3]) / 2 * height / 1000
                holder = next((e for e in found if e["bbox"][0] <= cx <= e["bbox"][2]
                               and e["bbox"][1] <= cy <= e["bbox"][3]), None)
                totals["tokens"] += 1
                if holder is not None:
                    totals["covered"] += 1
                    totals["right_category"] += holder["category"] in DOCBANK_CATEGORIES[label]
        p, r, bow = f1(totals["bow_matched"], totals["bow_truth"], totals["bow_found"])
        report[kind] = {
            "pages": len(chosen),
            "bow_precision": p, "bow_recall": r, "bow_f1": bow,
            "token_coverage": totals["covered"] / totals["tokens"] if totals["tokens"] else 0.0,
            "token_category_accuracy": totals["right_category"] / totals["covered"] if totals["covered"] else 0.0,
            "sources": sources([results[inputs[stem]] for stem in chosen]),
        }
    return report


# -- olmocr-bench -------------------------------------------------------

OLMOCR_REPLACEMENTS = {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "＿": "_", "–": "-", "—": "-",
                       "‑": "-", "‒": "-", "−": "-", "\u00b5": "\u03bc"}


def olmocr_normalise(text: str) -> str:
    """olmOCR-Bench's normalize_text (tests.upstream.py)."""
    text = re.sub(r"<br/?>", " ", text)
    text = re.sub(r"\*\*(.*?)\*\*", r"\1", text)
    text = re.sub(r"__(.*?)__", r"\1", text)
    text = re.sub(r"</?[bi]>", "", text)
    text = re.sub(r"(\*\*|__)(.*?)\1", r"\2", text)
    text = re.sub(r"(\*|_)(.*?)\1", r"\2", text)
    text = re.sub(r"\s+", " ", text)
    text = unicodedata.normalize("NFC", text)
    for fancy, plain in OLMOCR_REPLACEMENTS.items():
        text = text.replace(fancy, plain)
    return text


def near_match_ends(query: str, text: str, max_diffs: int) -> list[int]:
    """End offsets in `text` where `query` occurs with at most `max_diffs`
    edits (Sellers' approximate substring search)."""
    previous = list(range(len(query) + 1))
    ends = []
    for j, c in enumerate(text):
        current = [0]
        for i, q in enumerate(query, 1):
            current.append(min(previous[i] + 1, current[i - 1] + 1, previous[i - 1] + (q != c)))
        if current[-1] <= max_diffs:
            ends.append(j)
        previous = current
    return ends


def markdown_tables(markdown: str) -> list[list[list[str]]]:
    """Pipe tables and HTML tables as rows of normalised cell texts."""
    tables, rows = [], []
    for line in markdown.splitlines() + [""]:
        if line.strip().startswith("|"):
            cells = [olmocr_normalise(c).strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                rows.append(cells)
        elif rows:
            tables.append(rows)
            rows = []
    for html in re.findall(r"<table.*?</table>", markdown, flags=re.S | re.I):
        table = []
        for row in re.findall(r"<tr.*?</tr>", html, flags=re.S | re.I):
            table.append([olmocr_normalise(re.sub(r"<[^>]+>", "", c)).strip()
                          for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S | re.I)])
        tables.append(table)
    return tables


def table_test_passes(test: dict, markdown: str) -> bool:
    want = olmocr_normalise(test["cell"]).strip()
    relations = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
    for table in markdown_tables(markdown):
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                if cell != want:
                    continue
                ok = True
                for key, (dr, dc) in relations.items():
                    if key in test:
                        rr, cc = r + dr, c + dc
                        ok &= 0 <= rr < len(table) and 0 <= cc < len(table[rr]) and \
                            table[rr][cc] == olmocr_normalise(test[key]).strip()
                if "top_heading" in test:
                    ok &= bool(table) and c < len(table[0]) and table[0][c] == olmocr_normalise(test["top_heading"]).strip()
                if "left_heading" in test:
                    ok &= bool(row) and row[0] == olmocr_normalise(test["left_heading"]).strip()
                if ok:
                    return True
    return False


def olmocr_test_passes(test: dict, markdown: str) -> bool:
    text = olmocr_normalise(markdown)
    diffs = int(test.get("max_diffs", 0))
    kind = test["type"]
    if kind in ("present", "absent"):
        found = bool(near_match_ends(olmocr_normalise(test["text"]), text, diffs))
        return found if kind == "present" else not found
    if kind == "order":
        before = olmocr_normalise(test["before"])
        after = olmocr_normalise(test["after"])
        starts_before = [end - len(before) + 1 for end in near_match_ends(before, text, diffs)]
        starts_after = [end - len(after) + 1 for end in near_match_ends(after, text, diffs)]
        return any(b < a for b in starts_before for a in starts_after)
    if kind == "table":
        return table_test_passes(test, markdown)
    if kind == "math":
        # The LaTeX must appear as written (after normalisation); Visor emits no LaTeX.
        return bool(near_match_ends(olmocr_normalise(test["math"]), text, 0))
    if kind == "baseline":
        return len("".join(c for c in markdown if c.isalnum())) <= int(test.get("max_length", 10**9))
    raise ValueError(f"unknown olmOCR test type {kind}")


def score_olmocr(folder: Path, visor: Path, mode: str, dpi: int, jobs: int) -> dict:
    tests = [json.loads(line) for name in ("dataset.jsonl", "blanks.jsonl")
             for line in (folder / name).read_text().splitlines() if line.strip()]
    pdfs = sorted({folder / "pdfs" / test["pdf"] for test in tests})
    markdown = run_all(visor, pdfs, "lightonocr", mode, dpi, jobs)
    by_type: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    failed = []
    for test in tests:
        passed = olmocr_test_passes(test, markdown[folder / "pdfs" / test["pdf"]])
        by_type[test["type"]][0] += passed
        by_type[test["type"]][1] += 1
        if not passed:
            failed.append(test["id"])
    passed_all = sum(p for p, _ in by_type.values())
    return {"pages": len(pdfs), "tests": len(tests), "passed": passed_all,
            "by_type": {k: {"passed": p, "tests": n} for k, (p, n) in sorted(by_type.items())}, "failed": failed}


# -- publaynet ----------------------------------------------------------

PUBLAYNET_OF = {"Text": "text", "Caption": "text", "Footnote": "text", "Formula": "text", "Title": "title",
                "Section-header": "title", "List-item": "list", "Table": "table", "Picture": "figure"}


def score_publaynet(folder: Path, visor: Path, mode: str, dpi: int, jobs: int) -> dict:
    coco = json.loads((folder / "samples.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    truth_by_image = collections.defaultdict(list)
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        truth_by_image[a["image_id"]].append({"bbox": [x, y, x + w, y + h], "category": names[a["category_id"]]})
    images = {folder / image["file_name"]: image for image in coco["images"] if (folder / image["file_name"]).exists()}
    results = run_all(visor, list(images), "dotsocr", mode, dpi, jobs)
    totals = collections.Counter()
    per_category = collections.defaultdict(lambda: [0, 0])
    for path, image in images.items():
        truth = truth_by_image[image["id"]]
        # PubLayNet does not annotate running headers and footers.
        found = [{"bbox": e["bbox"], "category": PUBLAYNET_OF[e["category"]]}
                 for e in elements(results[path]) if e["category"] in PUBLAYNET_OF]
        pairs = quality.greedy_matches([t["bbox"] for t in truth], [f["bbox"] for f in found])
        totals.update(truth=len(truth), found=len(found), matched=len(pairs),
                      same=sum(truth[i]["category"] == found[j]["category"] for i, j in pairs))
        for i, t in enumerate(truth):
            per_category[t["category"]][1] += 1
        for i, j in pairs:
            per_category[truth[i]["category"]][0] += truth[i]["category"] == found[j]["category"]
    p, r, det = f1(totals["matched"], totals["truth"], totals["found"])
    _, _, cat = f1(totals["same"], totals["truth"], totals["found"])
    return {"pages": len(images), "det_precision": p, "det_recall": r, "det_f1": det, "cat_f1": cat,
            "recall_by_category": {k: {"found": f, "truth": n} for k, (f, n) in sorted(per_category.items())},
            "sources": sources(list(results.values()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--build", type=Path, default=ROOT / "build")
    parser.add_argument("--ocr-mode", default="auto", choices=("auto", "ocr", "text"))
    parser.add_argument("--dpi", type=int, default=200, help="for PDF pages; images are read in their own pixels")
    parser.add_argument("--sets", default="docbank,olmocr,publaynet")
    parser.add_argument("--jobs", type=int, default=2, help="visor ocr processes at once")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    visor = args.build / "visor"
    scorers = {"docbank": ("docbank-samples", score_docbank), "olmocr": ("olmocr-bench-sample", score_olmocr),
               "publaynet": ("publaynet-examples", score_publaynet)}
    report = {"ocr_mode": args.ocr_mode, "dpi": args.dpi}
    for name in args.sets.split(","):
        folder, scorer = scorers[name]
        report[name] = scorer(args.corpus / folder, visor, args.ocr_mode, args.dpi, args.jobs)
        print(name, json.dumps(report[name], indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
