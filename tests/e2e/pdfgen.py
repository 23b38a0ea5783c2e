"""A tiny hand-written PDF generator for the end-to-end tests.

Writes PDF 1.4 syntax directly: one Helvetica font (WinAnsiEncoding, so the
bullet "•" is byte 0x95), Letter pages (612 x 792 pt), text lines at given
positions and sizes, and a cross-reference table with correct byte offsets.

    pdf = make_pdf([[Line("Annual Report", 72, 720, 28), ...], ...])

Coordinates are PDF points with the origin at the bottom left, as in PDF.
"""

from __future__ import annotations

from dataclasses import dataclass

LETTER = (612, 792)


@dataclass(frozen=True)
class Line:
    text: str
    x: float
    y: float  # baseline, from the bottom of the page
    size: float = 12


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 32 or byte > 126:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def _content_stream(lines: list[Line]) -> bytes:
    parts = []
    for line in lines:
        parts.append(
            b"BT /F1 %s Tf %s %s Td %s Tj ET"
            % (_num(line.size), _num(line.x), _num(line.y), _pdf_string(line.text))
        )
    return b"\n".join(parts) + b"\n"


def _num(value: float) -> bytes:
    if float(value).is_integer():
        return b"%d" % int(value)
    return (b"%.3f" % value).rstrip(b"0").rstrip(b".")


def make_pdf(pages: list[list[Line]], page_size: tuple[float, float] = LETTER, padding: int = 0,
             background: bytes = b"") -> bytes:
    """Builds a PDF with one page per list of lines.

    `padding` adds a comment of that many bytes (to make large uploads that
    are still valid PDFs); `background` is content drawn on every page
    before its lines.
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    width, height = page_size
    n = len(pages)
    # Object numbers: 1 catalog, 2 page tree, 3 font, then page i at 4+2i
    # and its content stream at 5+2i.
    objects: dict[int, bytes] = {}
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(n))
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    for i, lines in enumerate(pages):
        page_obj, content_obj = 4 + 2 * i, 5 + 2 * i
        objects[page_obj] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (_num(width), _num(height), content_obj)
        )
        stream = background + _content_stream(lines)
        objects[content_obj] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    if padding > 0:
        # Comment lines of at most 80 characters.
        remaining = padding
        while remaining > 0:
            chunk = min(remaining, 80)
            out += b"%" + b"x" * max(chunk - 2, 0) + b"\n"
            remaining -= chunk
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    xref_at = len(out)
    count = max(objects) + 1
    out += b"xref\n0 %d\n" % count
    out += b"0000000000 65535 f \n"
    for number in range(1, count):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, xref_at)
    return bytes(out)


# Text the OCR should find; words chosen to be easy for Tesseract.
TITLE = "Quarterly Report"
PARAGRAPH = [
    "The river flows quietly past the old mill every morning.",
    "Farmers bring their grain to town before the market opens.",
    "Children walk along the road and wave at the passing trains.",
]
ITEMS = ["Fresh bread and butter", "Apples from the orchard"]


def sample_page(page_number: int = 1, title: str = TITLE) -> list[Line]:
    """A page with a large title, a paragraph and two bullet items."""
    lines = [Line(f"{title} {page_number}" if page_number > 1 else title, 72, 700, 28)]
    y = 640
    for text in PARAGRAPH:
        lines.append(Line(text, 72, y, 12))
        y -= 16
    y -= 20
    for item in ITEMS:
        lines.append(Line("\u2022 " + item, 90, y, 12))
        y -= 18
    return lines


def sample_pdf(pages: int = 1, padding: int = 0) -> bytes:
    """`pages` sample pages; page k (from 1) has the title 'Quarterly Report k' after the first."""
    return make_pdf([sample_page(i + 1) for i in range(pages)], padding=padding)


_DENSE_WORDS = ("morning river market grain orchard bread butter apples station window garden "
                "letter harbour winter summer valley bridge forest meadow candle lantern").split()


def dense_page(page_number: int = 1, lines: int = 48) -> list[Line]:
    """A page full of 11pt text: slow to recognise, for jobs that must run a while."""
    out = [Line(f"Dense page {page_number}", 72, 740, 16)]
    for i in range(lines):
        text = " ".join(_DENSE_WORDS[(i * 7 + k * 3 + page_number) % len(_DENSE_WORDS)] for k in range(11))
        out.append(Line(text, 72, 710 - i * 13.5, 11))
    return out


def dense_pdf(pages: int) -> bytes:
    return make_pdf([dense_page(i + 1) for i in range(pages)])


def text_only_pdf(pages: int, words: str = "Page") -> bytes:
    """Lighter pages: one heading line per page, e.g. 'Page 3'."""
    return make_pdf([[Line(f"{words} {i + 1}", 72, 700, 24)] for i in range(pages)])


def slow_render_pdf(fills: int = 100_000) -> bytes:
    """One Letter page that paints itself white `fills` times before its text:
    quick to parse, minutes to render at 200 DPI with the default count."""
    return make_pdf([[Line("Slow page", 72, 700, 24)]],
                    background=b"1 g\n" + b"0 0 612 792 re f\n" * fills + b"0 g\n")


if __name__ == "__main__":  # python3 pdfgen.py > sample.pdf
    import sys

    sys.stdout.buffer.write(sample_pdf(int(sys.argv[1]) if len(sys.argv) > 1 else 1))


def jbig2_bomb_pdf(side: int = 100_000) -> bytes:
    """A 700-byte PDF whose one image is a JBIG2 stream announcing a
    side x side page: decoding it allocates side² / 8 bytes at once (1.25 GB
    for the default), a decompression bomb in miniature."""
    import struct
    page_info = struct.pack(">IIIIBH", side, side, 0, 0, 0, 0)
    jbig2 = (struct.pack(">IBBBI", 0, 48, 0, 1, len(page_info)) + page_info
             + struct.pack(">IBBBI", 1, 49, 0, 1, 0))
    content = b"q 612 0 0 792 0 0 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray /BitsPerComponent 1"
        b" /Filter /JBIG2Decode /Length %d >>\nstream\n%s\nendstream" % (len(jbig2), jbig2),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
