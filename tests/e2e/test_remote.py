"""The remote engines against OpenAI-compatible stub servers (openai_stub.py):
request shape, box mapping, repair, retries, failover, 503 when no endpoint
is reachable, and the embedded engine for models without a remote backend."""

from __future__ import annotations

import math
import subprocess
import sys
import time
import unittest

import requests

from pdfgen import LETTER, sample_pdf
from visor_harness import HERE, VisorServer, free_port, wait_until

STUB = HERE / "openai_stub.py"
MODEL = "stub-model"
FRACTIONS = {
    "Title": [0.10, 0.05, 0.90, 0.10],
    "Text": [0.10, 0.15, 0.90, 0.40],
    "Picture": [0.20, 0.45, 0.80, 0.70],
    "Page-footer": [0.45, 0.95, 0.55, 0.97],
}


def smart_resize(height: int, width: int) -> tuple[int, int]:
    """Qwen2-VL's rule as the reference states it (factor 28)."""
    factor, min_pixels, max_pixels = 28, 3136, 11289600
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


class Stub:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([sys.executable, str(STUB), "--port", str(self.port), "--model", MODEL],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/v1/models", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("the stub did not start")

    def control(self, mode: str, count: int = 1, delay: float = 0) -> None:
        requests.post(self.url + "/control", json={"mode": mode, "count": count, "delay": delay}, timeout=5)

    def requests(self) -> list[dict]:
        return requests.get(self.url + "/requests", timeout=5).json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class RemoteTestCase(unittest.TestCase):
    def setUp(self):
        self.stubs: list[Stub] = []
        self.servers: list[VisorServer] = []

    def tearDown(self):
        for server in self.servers:
            server.cleanup()
        for stub in self.stubs:
            stub.stop()

    def stub(self) -> Stub:
        stub = Stub()
        self.stubs.append(stub)
        return stub

    def server(self, *flags: str, workers: int = 2) -> VisorServer:
        server = VisorServer(*flags, workers=workers, name="remote")
        self.servers.append(server)
        return server.start()

    def dots_server(self, *stubs: Stub, extra: tuple[str, ...] = (), workers: int = 2) -> VisorServer:
        urls = ",".join(stub.url for stub in stubs)
        return self.server("--dotsocr-url", urls, "--dotsocr-model", MODEL, *extra, workers=workers)

    def run_job(self, server: VisorServer, pdf: bytes, **params) -> dict:
        job = server.submit_ok(pdf, **params)
        server.wait_for(job["job_id"], timeout=120)
        response = server.result(job["job_id"])
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()


class DotsOcrRemoteTest(RemoteTestCase):
    def test_boxes_map_back_to_the_rendered_page_within_one_pixel(self):
        stub = self.stub()
        server = self.dots_server(stub)
        for dpi in (100, 200, 600):
            with self.subTest(dpi=dpi):
                result = self.run_job(server, sample_pdf(1), dpi=dpi, model="dotsocr")
                page_w, page_h = round(LETTER[0] * dpi / 72), round(LETTER[1] * dpi / 72)
                sent = stub.requests()[-1]
                self.assertEqual((sent["height"], sent["width"]), smart_resize(page_h, page_w))
                page = result["results"]["page_0"]
                self.assertEqual(page["status"], "success", page)
                self.assertEqual([e["category"] for e in page["data"]], list(FRACTIONS))
                for element in page["data"]:
                    fx1, fy1, fx2, fy2 = FRACTIONS[element["category"]]
                    expected = [fx1 * page_w, fy1 * page_h, fx2 * page_w, fy2 * page_h]
                    for got, want in zip(element["bbox"], expected):
                        self.assertLessEqual(abs(got - want), 1.0, (dpi, element, expected))
                    self.assertEqual("text" in element, element["category"] != "Picture")
                self.assertEqual(result["metadata"]["engine"], MODEL)

    def test_truncated_and_repetitive_replies_are_repaired_not_failed(self):
        stub = self.stub()
        server = self.dots_server(stub, workers=1)
        stub.control("truncated")
        page = self.run_job(server, sample_pdf(1), dpi=100)["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        self.assertEqual([e["category"] for e in page["data"]], ["Title", "Text", "Picture"])

        stub.control("repeat")
        page = self.run_job(server, sample_pdf(1), dpi=100)["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        self.assertEqual([e["category"] for e in page["data"]], list(FRACTIONS))

    def test_500s_and_dropped_connections_are_retried(self):
        stub = self.stub()
        server = self.dots_server(stub, workers=1)
        stub.control("error500", count=2)
        page = self.run_job(server, sample_pdf(1), dpi=100)["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        stub.control("drop", count=2)
        page = self.run_job(server, sample_pdf(1), dpi=100)["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)

    def test_slow_endpoint_times_out_and_the_other_answers(self):
        slow, fast = self.stub(), self.stub()
        slow.control("slow", delay=5)
        server = self.dots_server(slow, fast, extra=("--remote-timeout", "1s"), workers=1)
        result = self.run_job(server, sample_pdf(2), dpi=100)
        for name, page in result["results"].items():
            self.assertEqual(page["status"], "success", (name, page))

    def test_a_rejected_page_is_a_page_error_and_the_job_completes(self):
        stub = self.stub()
        server = self.dots_server(stub, workers=1)
        stub.control("reject", count=1)
        result = self.run_job(server, sample_pdf(2), dpi=100)
        self.assertEqual(result["status"], "completed")
        self.assertEqual(result["results"]["page_0"]["status"], "error")
        self.assertIn("rejected by the stub", result["results"]["page_0"]["error"])
        self.assertEqual(result["results"]["page_1"]["status"], "success")

    def test_job_survives_an_endpoint_dying_mid_job(self):
        first, second = self.stub(), self.stub()
        first.control("slow", delay=0.3)
        second.control("slow", delay=0.3)
        server = self.dots_server(first, second, workers=2)
        job = server.submit_ok(sample_pdf(8), dpi=100)
        deadline = time.monotonic() + 60
        while server.status(job["job_id"])["progress"]["pages_done"] < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.stop()
        server.wait_for(job["job_id"], timeout=120)
        result = server.result(job["job_id"]).json()
        self.assertEqual(result["status"], "completed")
        for name, page in result["results"].items():
            self.assertEqual(page["status"], "success", (name, page))
        self.assertGreater(len(second.requests()), 0)

    def test_models_lists_the_remote_engine_and_endpoint_health(self):
        up = self.stub()
        down_url = f"http://127.0.0.1:{free_port()}"
        server = self.server("--dotsocr-url", f"{up.url},{down_url}", "--dotsocr-model", MODEL)
        models = {m["id"]: m for m in server.get("/ocr/models").json()["models"]}
        engine = models["dotsocr"]["engine"]
        self.assertEqual(engine["type"], "remote")
        self.assertTrue(models["dotsocr"]["available"])
        health = {e["url"]: e["healthy"] for e in engine["endpoints"]}
        self.assertEqual(health, {up.url: True, down_url: False})
        self.assertEqual(models["lightonocr"]["engine"]["type"], "embedded")

    def test_requests_carry_the_api_key(self):
        stub = self.stub()
        server = self.dots_server(stub, extra=("--dotsocr-api-key", "sekret"))
        self.run_job(server, sample_pdf(1), dpi=100)
        self.assertEqual(stub.requests()[-1]["authorization"], "Bearer sekret")


class RemoteCancelTest(RemoteTestCase):
    """A cancelled job's page on a remote engine: the worker must be free for
    the next page within seconds, and the inference server left alone."""

    def cancel_once_stub_has(self, server: VisorServer, stub: Stub, job_id: str, sent: int) -> None:
        wait_until(lambda: len(stub.requests()) >= sent, timeout=30)
        self.assertEqual(requests.delete(server.url(f"/ocr/jobs/{job_id}"), timeout=10).status_code, 200)

    def assert_worker_free_soon(self, server: VisorServer, message: str) -> None:
        started = time.monotonic()
        # lightonocr has no endpoint here: the embedded engine, on the same worker.
        quick = server.submit_ok(sample_pdf(1), dpi="72", model="lightonocr")["job_id"]
        self.assertEqual(server.wait_for(quick, timeout=60)["status"], "completed")
        self.assertLess(time.monotonic() - started, 10, message)

    def test_a_cancelled_page_stops_retrying_and_frees_its_worker(self):
        stub = self.stub()
        # Leases renewed every second; up to 50 retries with backoff would
        # keep the worker on the page for minutes.
        server = self.dots_server(stub, extra=("--lease-timeout", "3s", "--remote-retries", "50"), workers=1)
        stub.control("error500", count=100_000)
        job_id = server.submit_ok(sample_pdf(1), dpi="100")["job_id"]
        self.cancel_once_stub_has(server, stub, job_id, sent=3)
        self.assert_worker_free_soon(server, "the worker stayed on the cancelled page")
        self.assertIn("page.abandoned", server.log())

    def test_a_cancelled_page_drops_its_request_in_flight(self):
        stub = self.stub()
        server = self.dots_server(stub, extra=("--lease-timeout", "3s"), workers=1)
        stub.control("slow", count=1, delay=120)
        job_id = server.submit_ok(sample_pdf(1), dpi="100")["job_id"]
        self.cancel_once_stub_has(server, stub, job_id, sent=1)
        self.assert_worker_free_soon(server, "the worker waited for the cancelled page's answer")
        wait_until(lambda: stub.requests()[0].get("disconnected"), timeout=10,
                   message="the inference server still works on the cancelled page")
        self.assertEqual(len(stub.requests()), 1, "the abandoned page was sent again")


class UnavailableBackendTest(RemoteTestCase):
    def test_submit_is_503_when_no_endpoint_is_reachable_and_embedded_models_still_work(self):
        dead = f"http://127.0.0.1:{free_port()}"
        server = self.server("--dotsocr-url", dead)
        response = server.submit(sample_pdf(1), params={"model": "dotsocr"})
        self.assertEqual(response.status_code, 503, response.text)
        detail = response.json()["detail"]
        self.assertIn("dotsocr backend not available", detail)
        self.assertIn("vllm serve", detail)
        result = self.run_job(server, sample_pdf(1), model="lightonocr", dpi=100)
        self.assertEqual(result["results"]["page_0"]["status"], "success")
        self.assertIn("tesseract", result["metadata"]["engine"])


class LightOnOcrRemoteTest(RemoteTestCase):
    def test_markdown_comes_back_with_math_delimiters_repaired(self):
        stub = self.stub()
        server = self.server("--lightonocr-url", stub.url, "--lightonocr-model", MODEL)
        result = self.run_job(server, sample_pdf(1), model="lightonocr", dpi=100)
        page = result["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        self.assertEqual(page["data"], "# Quarterly Report\n\nRevenue grew by $5$ million, or $x^2$.\n")
        sent = stub.requests()[-1]
        self.assertEqual(sent["kind"], "lighton")
        self.assertEqual((sent["width"], sent["height"]), (1190, 1540))
        self.assertEqual(result["metadata"]["engine"], MODEL)


if __name__ == "__main__":
    unittest.main()
