"""An OpenAI-compatible inference server stub for the remote-engine tests.

It answers POST /v1/chat/completions the way dots.ocr or LightOnOCR served
by vLLM would, after checking the request against the models' reference
(../shared/reference/models.md): the prompt byte for byte, the image sent as
a PNG data URI with sides that are multiples of 28 (dots.ocr) or a longest
side of 1540 px (LightOnOCR), and the sampling parameters. A request that
fails a check gets HTTP 400 with the reason, so the test sees a page error.

Behaviour is switched at run time with POST /control {"mode": ..., "count": n,
"delay": s}:
  ok          valid layout JSON (boxes given as fractions of the image it
              received, see BOXES) or Markdown with escaped dollars
  truncated   layout JSON cut in the middle of the last element
  repeat      layout JSON with one element repeated 8 times
  slow        sleeps `delay` seconds, then answers as ok; a client that
              closes the connection meanwhile gets nothing, and its request
              is listed with "disconnected": true
  error500    HTTP 500 for the next `count` requests, then ok
  drop        closes the connection without answering, `count` times
  reject      HTTP 400 for the next `count` requests, then ok
GET /requests lists what was received (image sizes and parameters).

Run: python3 openai_stub.py --port N [--model NAME]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PLACEHOLDER = "<|img|><|imgpad|><|endofimg|>"
REFERENCE = Path(os.environ.get("VISOR_REFERENCE_DIR", Path(__file__).resolve().parents[3] / "shared" / "reference"))

# The layout the stub "sees" on every page, as fractions of the image.
BOXES = [
    ("Title", [0.10, 0.05, 0.90, 0.10], "Quarterly Report"),
    ("Text", [0.10, 0.15, 0.90, 0.40], "Revenue grew in every region."),
    ("Picture", [0.20, 0.45, 0.80, 0.70], None),
    ("Page-footer", [0.45, 0.95, 0.55, 0.97], "1"),
]
MARKDOWN = "# Quarterly Report\n\nRevenue grew by \\$5\\$ million, or \\$x^2\\$.\n"


def dots_prompt() -> str:
    prompts = json.loads((REFERENCE / "dots_ocr_prompts.json").read_text())
    return prompts["prompts"]["prompt_layout_all_en"]


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("the image is not a PNG")
    return struct.unpack(">II", data[16:24])


def layout_reply(width: int, height: int) -> list[dict]:
    elements = []
    for category, fractions, text in BOXES:
        box = [round(fractions[0] * width), round(fractions[1] * height),
               round(fractions[2] * width), round(fractions[3] * height)]
        element = {"bbox": box, "category": category}
        if text is not None:
            element["text"] = text
        elements.append(element)
    return elements


class State:
    def __init__(self, served_model: str):
        self.served_model = served_model
        self.mode = "ok"
        self.count = 0
        self.delay = 0.0
        self.requests: list[dict] = []
        self.lock = threading.Lock()

    def take_mode(self) -> str:
        """The mode for this request; counted modes revert to ok when used up."""
        with self.lock:
            mode = self.mode
            if mode in ("error500", "drop", "reject"):
                self.count -= 1
                if self.count <= 0:
                    self.mode = "ok"
            return mode


def check_request(body: dict, served_model: str) -> tuple[str, tuple[int, int]]:
    """Returns the kind of request ('dots' or 'lighton') and the image size,
    or raises ValueError with what is wrong."""
    if body.get("model") != served_model:
        raise ValueError(f"model is {body.get('model')!r}, expected {served_model!r}")
    messages = body.get("messages")
    if not isinstance(messages, list) or len(messages) != 1 or messages[0].get("role") != "user":
        raise ValueError("expected exactly one user message")
    content = messages[0].get("content")
    if not isinstance(content, list) or not content or content[0].get("type") != "image_url":
        raise ValueError("the first content part must be the image")
    url = content[0]["image_url"]["url"]
    prefix = "data:image/png;base64,"
    if not url.startswith(prefix):
        raise ValueError("the image must be a PNG data URI")
    width, height = png_size(base64.b64decode(url[len(prefix):]))
    if len(content) == 2:
        text = content[1].get("text", "")
        if content[1].get("type") != "text" or text != PLACEHOLDER + dots_prompt():
            raise ValueError("the text part is not the placeholder followed by prompt_layout_all_en")
        if width % 28 or height % 28:
            raise ValueError(f"image {width}x{height} is not smart_resized (multiples of 28)")
        expected = {"max_completion_tokens": 16384, "temperature": 0.1, "top_p": 1.0}
        kind = "dots"
    elif len(content) == 1:
        if max(width, height) != 1540:
            raise ValueError(f"image {width}x{height}: the longest side must be 1540")
        expected = {"max_tokens": 4096, "temperature": 0.2, "top_p": 0.9}
        kind = "lighton"
    else:
        raise ValueError("unexpected content parts")
    for key, value in expected.items():
        if body.get(key) != value:
            raise ValueError(f"{key} is {body.get(key)!r}, expected {value!r}")
    return kind, (width, height)


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def send_json(self, status: int, body) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_json(self):
            length = int(self.headers.get("Content-Length", "0"))
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self):
            if self.path == "/v1/models":
                self.send_json(200, {"object": "list", "data": [{"id": state.served_model, "object": "model"}]})
            elif self.path == "/requests":
                with state.lock:
                    self.send_json(200, state.requests)
            else:
                self.send_json(404, {"error": "not found"})

        def do_POST(self):
            body = self.read_json()
            if self.path == "/control":
                with state.lock:
                    state.mode = body.get("mode", "ok")
                    state.count = int(body.get("count", 1))
                    state.delay = float(body.get("delay", 0))
                self.send_json(200, {"mode": state.mode})
                return
            if self.path != "/v1/chat/completions":
                self.send_json(404, {"error": "not found"})
                return
            mode = state.take_mode()
            try:
                kind, (width, height) = check_request(body, state.served_model)
            except (ValueError, KeyError, TypeError) as error:
                self.send_json(400, {"error": {"message": f"bad request: {error}"}})
                return
            record = {"kind": kind, "width": width, "height": height, "mode": mode,
                      "authorization": self.headers.get("Authorization", "")}
            with state.lock:
                state.requests.append(record)
            if mode == "drop":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            if mode == "error500":
                self.send_json(500, {"error": {"message": "CUDA out of memory (stub)"}})
                return
            if mode == "reject":
                self.send_json(400, {"error": {"message": "rejected by the stub"}})
                return
            if mode == "slow" and not self.wait_while_connected(state.delay):
                with state.lock:
                    record["disconnected"] = True
                self.close_connection = True
                return
            self.send_json(200, self.completion(kind, width, height, mode))

        def wait_while_connected(self, seconds: float) -> bool:
            """Waits `seconds`; False as soon as the client has closed the
            connection (as vLLM notices and aborts the generation)."""
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                readable, _, _ = select.select([self.connection], [], [], 0.05)
                if not readable:
                    continue
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return False
                except OSError:  # reset
                    return False
                # Bytes of a next request: the client is there; just wait.
                time.sleep(max(0.0, end - time.monotonic()))
            return True

        def completion(self, kind: str, width: int, height: int, mode: str) -> dict:
            finish = "stop"
            if kind == "lighton":
                content = MARKDOWN
            else:
                elements = layout_reply(width, height)
                if mode == "repeat":
                    elements = elements[:2] + [elements[1]] * 8 + elements[2:]
                content = json.dumps(elements)
                if mode == "truncated":
                    content = content[: content.rfind('{"bbox"') + 20]
                    finish = "length"
            return {"id": "chatcmpl-stub", "object": "chat.completion", "model": state.served_model,
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": content}}]}

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model", default="stub-model")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(State(args.model)))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
