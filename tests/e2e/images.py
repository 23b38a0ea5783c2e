"""Image files for the image tests, made from generated PDFs by the
make_test_image helper (tests/support/make_test_image.cpp, Leptonica's
writers), so Python needs no image library."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

DEFAULT_HELPER = Path(__file__).resolve().parents[2] / "build" / "tests" / "make_test_image"
HELPER = Path(os.environ.get("VISOR_MAKE_TEST_IMAGE") or DEFAULT_HELPER)


def make_image(pdf: bytes, fmt: str, dpi: int, pages: list[int] | None = None) -> bytes:
    """Pages (0-based; default the first) of `pdf` rendered in gray at `dpi`
    as one `fmt` file (png, jpeg, tiff, gif, bmp, jp2, pnm) whose resolution
    says `dpi`; a tiff holds every page, other formats the first."""
    if not HELPER.exists():
        raise unittest.SkipTest(f"make_test_image not found at {HELPER} (set VISOR_MAKE_TEST_IMAGE)")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.pdf"
        target = Path(tmp) / f"out.{fmt}"
        source.write_bytes(pdf)
        pages = pages or [0]
        subprocess.run([str(HELPER), str(source), str(target), fmt, str(dpi), *map(str, pages)], check=True,
                       timeout=60)
        return target.read_bytes()
