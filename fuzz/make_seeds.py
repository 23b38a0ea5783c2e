#!/usr/bin/env python3
"""Writes the generated seeds of fuzz/corpus/: multipart inputs in the
layout fuzz/multipart.cpp reads, and small PDFs that each reach another part
of MuPDF (compressed streams, object and xref streams, images, Type 3 fonts,
annotations, incremental updates, broken cross-reference tables).

    fuzz/make_seeds.py        # rewrites fuzz/corpus/{multipart,document}/gen-*

The files it writes are committed; run it again only after changing it.
The other seeds of fuzz/corpus/document/ are copied from qpdf (see
fuzz/README.md).
"""

from __future__ import annotations

import pathlib
import zlib

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

# ---------------------------------------------------------------- multipart


def control(file_limit=255, field_limit=255, header_limit=255, parts=8, pieces=(0, 6, 63, 254)) -> bytes:
    """The 8 control bytes: limit codes (see fuzz/multipart.cpp), then piece sizes minus one."""
    return bytes([file_limit, field_limit, header_limit, parts, *pieces])


def field(boundary: bytes, name: bytes, value: bytes) -> bytes:
    return b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value + b"\r\n"


def upload(boundary: bytes, filename: bytes, data: bytes, content_type=b"application/pdf") -> bytes:
    return (b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="' + filename +
            b'"\r\nContent-Type: ' + content_type + b"\r\n\r\n" + data + b"\r\n")


def close(boundary: bytes) -> bytes:
    return b"--" + boundary + b"--\r\n"


def multipart_seeds() -> dict[str, bytes]:
    b = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
    header = b"multipart/form-data; boundary=" + b + b"\n"
    pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
    return {
        "gen-upload": control() + header + field(b, b"model", b"dotsocr") + upload(b, b"a.pdf", pdf) + close(b),
        "gen-curl": control(pieces=(0, 0, 0, 0)) +
        b"multipart/form-data; boundary=------------------------d74496d66958873e\n" +
        upload(b"------------------------d74496d66958873e", b"scan.pdf", pdf) +
        close(b"------------------------d74496d66958873e"),
        # Preamble, LWSP after a delimiter, an unquoted name, delimiter-like
        # data, an epilogue.
        "gen-tricky": control(pieces=(2, 0, 4, 9)) + b'multipart/form-data; boundary="xyz"\n' +
        b"preamble --xyz x\r\n--xy\r\n--xyz \t\r\ncontent-disposition: form-data; name=lang\r\n\r\neng\r\n" +
        upload(b"xyz", b"a.pdf", b"%PDF\r\n--xy\r\r\n-\r\n--xy-x--xyz\0\r") + close(b"xyz") + b"epilogue\r\n",
        # filename* (RFC 5987) beside a plain filename, escapes in quoted strings.
        "gen-ext-filename": control() + b"Multipart/Form-Data;boundary=AaB03x; charset=utf-8\n" +
        b"--AaB03x\r\nContent-Disposition: form-data; name=\"f\\\"ile\"; filename=\"a\\\\b.pdf\";"
        b" filename*=UTF-8''%E2%82%AC%20rates.pdf\r\nContent-Type: application/octet-stream\r\n\r\n"
        b"data\r\n" + close(b"AaB03x"),
        # A file over its limit (16 bytes), then a field over its (4 bytes).
        "gen-too-large": control(file_limit=1, field_limit=1) + b"multipart/form-data; boundary=q\n" +
        upload(b"q", b"big.pdf", b"0123456789abcdef0") + field(b"q", b"dpi", b"20000") + close(b"q"),
        # More parts than allowed (2).
        "gen-many-parts": control(parts=2) + b"multipart/form-data; boundary=q\n" +
        b"".join(field(b"q", b"n%d" % i, b"%d" % i) for i in range(4)) + close(b"q"),
        # Header block over its limit (8 bytes).
        "gen-long-headers": control(header_limit=2) + b"multipart/form-data; boundary=q\n" +
        field(b"q", b"a-rather-long-field-name", b"v") + close(b"q"),
        # Errors in the framing.
        "gen-no-close": control() + b"multipart/form-data; boundary=q\n" + field(b"q", b"a", b"1") + b"--q-",
        "gen-bad-delimiter": control() + b"multipart/form-data; boundary=q\n--q x\r\n" + field(b"q", b"a", b"1"),
        "gen-no-disposition": control() + b"multipart/form-data; boundary=q\n--q\r\nContent-Type: text/plain\r\n\r\n"
        b"x\r\n" + close(b"q"),
        "gen-empty": control() + b"multipart/form-data; boundary=q\n" + close(b"q"),
        "gen-bad-type": control() + b"text/plain; boundary=q\n" + close(b"q"),
    }

# ---------------------------------------------------------------- PDF


def stream(dictionary: bytes, data: bytes, compress=False) -> bytes:
    if compress:
        data = zlib.compress(data)
        dictionary += b" /Filter /FlateDecode"
    return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def write_pdf(objects: list[bytes], version=b"1.4", root=1) -> bytes:
    """Objects 1..n with a classic cross-reference table."""
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    return bytes(out)


def write_pdf_with_object_stream(objects: list[bytes], packed: set[int]) -> bytes:
    """PDF 1.5: the objects numbered in `packed` go into one object stream;
    a cross-reference stream replaces the table."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    count = len(objects)
    objstm_number, xref_number = count + 1, count + 2
    entries: dict[int, tuple[int, int, int]] = {}
    index, payload = [], bytearray()
    for number in sorted(packed):
        entries[number] = (2, objstm_number, len(index))
        index.append(b"%d %d" % (number, len(payload)))
        payload += objects[number - 1] + b"\n"
    for number, body in enumerate(objects, start=1):
        if number in packed:
            continue
        entries[number] = (1, len(out), 0)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    header = b" ".join(index) + b"\n"
    entries[objstm_number] = (1, len(out), 0)
    out += b"%d 0 obj\n" % objstm_number + stream(
        b"/Type /ObjStm /N %d /First %d" % (len(index), len(header)), header + payload, compress=True) + b"\nendobj\n"
    entries[xref_number] = (1, len(out), 0)
    rows = bytearray(b"\x00\x00\x00\x00\xff\xff")
    for number in range(1, xref_number + 1):
        kind, field2, field3 = entries[number]
        rows += bytes([kind]) + field2.to_bytes(4, "big") + field3.to_bytes(1, "big")
    xref_offset = len(out)
    out += b"%d 0 obj\n" % xref_number + stream(
        b"/Type /XRef /Size %d /W [1 4 1] /Root 1 0 R" % (xref_number + 1), bytes(rows), compress=True)
    out += b"\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"


def text_pdf() -> bytes:
    content = b"BT /F1 24 Tf 72 700 Td (Visor fuzz seed) Tj 0 -30 Td /F1 12 Tf (caf\\351 \\(x\\) ligature fi) Tj ET"
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        HELVETICA,
        stream(b"", content),
    ])


def inherited_pdf() -> bytes:
    # Attributes inherited from the page tree, a CropBox, and a /Count that
    # claims one page more than the tree holds.
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [0 0 300 400] /Rotate 90"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /CropBox [10 10 200 300] /Rotate 270 /UserUnit 2 /Contents [6 0 R 7 0 R] >>",
        HELVETICA,
        stream(b"", b"BT /F1 18 Tf 20 350 Td (rotated) Tj ET"),
        stream(b"", b"0 0 1 rg 20 20 100 50 re f"),
    ])


def vector_pdf() -> bytes:
    content = (b"q 1 0 0 RG 4 w 1 J 1 j [6 3] 0 d 50 50 m 300 400 l 550 50 l h S Q\n"
               b"q /GS1 gs 0 0.5 0 rg 100 500 m 200 700 250 450 400 600 c f* Q\n"
               b"q 72 72 200 200 re W n /Sh1 sh Q\n"
               b"q 0.5 0 0 0.5 300 100 cm /X1 Do Q\n"
               b"BT /F1 30 Tf 2 Tr 0.2 0.4 0.6 RG 72 740 Td (outlined) Tj ET")
    form = stream(b"/Type /XObject /Subtype /Form /BBox [0 0 200 200] /Group << /S /Transparency >>",
                  b"1 0 0 rg 0 0 200 200 re f", compress=True)
    return write_pdf_with_object_stream([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources <<"
        b" /Font << /F1 5 0 R >> /ExtGState << /GS1 6 0 R >> /Shading << /Sh1 7 0 R >> /XObject << /X1 8 0 R >> >> >>",
        stream(b"", content, compress=True),
        HELVETICA,
        b"<< /Type /ExtGState /ca 0.5 /CA 0.5 /BM /Multiply >>",
        b"<< /ShadingType 2 /ColorSpace /DeviceRGB /Coords [72 72 272 272]"
        b" /Function << /FunctionType 2 /Domain [0 1] /C0 [1 0 0] /C1 [0 0 1] /N 1 >> /Extend [true true] >>",
        form,
    ], packed={1, 2, 3, 5, 6, 7})


def images_pdf() -> bytes:
    gray = bytes((x * 32 + y * 4) % 256 for y in range(8) for x in range(8))
    rgb = bytes(v for y in range(4) for x in range(4) for v in (x * 60, y * 60, 128))
    content = (b"q 200 0 0 200 50 550 cm /Im1 Do Q\n"
               b"q 200 0 0 200 300 550 cm /Im2 Do Q\n"
               b"q 0 0 1 rg 100 0 0 100 50 350 cm /Mask Do Q\n"
               b"q 100 0 0 100 300 350 cm BI /W 4 /H 2 /BPC 8 /CS /G /F /AHx ID 00FF80408020C0E0> EI Q")
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /XObject << /Im1 5 0 R /Im2 6 0 R /Mask 8 0 R >> >> >>",
        stream(b"", content),
        # PNG-style predictor, and a Decode array.
        stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray /BitsPerComponent 8"
               b" /Decode [1 0] /DecodeParms << /Predictor 15 /Columns 8 /Colors 1 >>",
               b"".join(b"\x00" + gray[row * 8:row * 8 + 8] for row in range(8)), compress=True),
        stream(b"/Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceRGB /BitsPerComponent 8"
               b" /SMask 7 0 R /Interpolate true", rgb, compress=True),
        stream(b"/Type /XObject /Subtype /Image /Width 4 /Height 4 /ColorSpace /DeviceGray /BitsPerComponent 8",
               bytes(range(0, 256, 16))),
        stream(b"/Type /XObject /Subtype /Image /Width 8 /Height 8 /ImageMask true /BitsPerComponent 1",
               bytes([0xAA, 0x55] * 4)),
    ])


def type3_pdf() -> bytes:
    square = stream(b"", b"100 0 0 0 100 100 d1 0 0 100 100 re f")
    triangle = stream(b"", b"100 0 d0 0 0 m 100 0 l 50 100 l f")
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /T3 5 0 R >> >> >>",
        stream(b"", b"BT /T3 48 Tf 72 600 Td (abba) Tj 0 -60 Td 3 Tz [(ab) -500 (ba)] TJ ET"),
        b"<< /Type /Font /Subtype /Type3 /FontBBox [0 0 100 100] /FontMatrix [0.01 0 0 0.01 0 0]"
        b" /CharProcs << /sq 6 0 R /tri 7 0 R >> /Encoding << /Type /Encoding /Differences [97 /sq /tri] >>"
        b" /FirstChar 97 /LastChar 98 /Widths [100 100] /Resources << >> >>",
        square,
        triangle,
    ])


def annotations_pdf() -> bytes:
    return write_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /NeedAppearances true >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [4 0 R 6 0 R] >>",
        b"<< /Type /Annot /Subtype /Square /Rect [100 100 300 200] /C [1 0 0] /IC [0 1 0] /BS << /W 3 >>"
        b" /AP << /N 5 0 R >> >>",
        stream(b"/Type /XObject /Subtype /Form /BBox [0 0 200 100]", b"0 1 0 rg 1 0 0 RG 3 w 1.5 1.5 197 97 re B"),
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (name) /V (Jane) /Rect [100 300 300 330]"
        b" /DA (/Helv 12 Tf 0 g) /MK << /BG [0.9 0.9 0.9] >> >>",
    ])


def incremental_pdf() -> bytes:
    """text_pdf() with an update that replaces the page's contents and adds a page."""
    base = text_pdf()
    previous_xref = int(base.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    update = bytearray(base)
    offsets = {}
    for number, body in {
        2: b"<< /Type /Pages /Kids [3 0 R 7 0 R] /Count 2 >>",
        6: stream(b"", b"BT /F1 24 Tf 72 650 Td (updated) Tj ET", compress=True),
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >>"
           b" /Contents 6 0 R >>",
        7: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    }.items():
        offsets[number] = len(update)
        update += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(update)
    update += b"xref\n"
    for number in sorted(offsets):
        update += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    update += b"trailer\n<< /Size 8 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (previous_xref, xref)
    return bytes(update)


def broken_xref_pdf() -> bytes:
    """text_pdf() with junk inserted after the header: every offset is wrong,
    so MuPDF has to rebuild the table."""
    pdf = text_pdf()
    split = pdf.index(b"1 0 obj")
    return pdf[:split] + b"% junk that moves every object\n" * 3 + pdf[split:]


def truncated_pdf() -> bytes:
    pdf = vector_pdf()
    return pdf[: len(pdf) * 2 // 3]


def document_seeds() -> dict[str, bytes]:
    return {
        "gen-text.pdf": text_pdf(),
        "gen-inherited.pdf": inherited_pdf(),
        "gen-vector-objstm.pdf": vector_pdf(),
        "gen-images.pdf": images_pdf(),
        "gen-type3.pdf": type3_pdf(),
        "gen-annotations.pdf": annotations_pdf(),
        "gen-incremental.pdf": incremental_pdf(),
        "gen-broken-xref.pdf": broken_xref_pdf(),
        "gen-truncated.pdf": truncated_pdf(),
    }


def write(folder: str, seeds: dict[str, bytes]) -> None:
    directory = CORPUS / folder
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("gen-*"):
        old.unlink()
    for name, data in seeds.items():
        (directory / name).write_bytes(data)


def main() -> None:
    write("multipart", multipart_seeds())
    write("document", document_seeds())


if __name__ == "__main__":
    main()
