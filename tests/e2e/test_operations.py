"""Operator endpoints and the additions of issue 6: /healthz, /readyz,
/metrics, JSON request logs, GET /ocr/jobs, SSE ids with resumption and
the opt-in page events."""

from __future__ import annotations

import json
import math
import re
import time
import unittest

import pdfgen
from visor_harness import SSEClient, ServerTestCase, collect_events

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """Types by family and (name, labels, value) samples of a text
    exposition; raises on any line a Prometheus scraper would reject."""
    types: dict[str, str] = {}
    samples = []
    assert text.endswith("\n"), "the exposition must end with a line feed"
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"second TYPE for {name}"
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE_RE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, _, label_text, value = match.groups()
        labels = {}
        if label_text:
            pos = 0
            while pos < len(label_text):
                label = LABEL_RE.match(label_text, pos)
                assert label, f"bad labels in {line!r}"
                labels[label.group(1)] = label.group(2)
                pos = label.end()
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"sample {name} has no TYPE"
        samples.append((name, labels, float(value.replace("Inf", "inf"))))
    return types, samples


def value_of(samples, name: str, **labels) -> float:
    for sample_name, sample_labels, value in samples:
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items()):
            return value
    raise AssertionError(f"no sample {name} {labels}")


class OperationsTest(ServerTestCase):
    SERVER_FLAGS = ("--log-format", "json")

    def test_healthz_answers_ok(self):
        response = self.server.get("/healthz")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"status": "ok"})

    def test_readyz_reports_store_workers_and_models(self):
        response = self.server.get("/readyz")
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(body["status"], "ready")
        self.assertTrue(body["checks"]["store"]["ok"])
        self.assertTrue(body["checks"]["workers"]["ok"])
        self.assertEqual(sorted(body["checks"]["models"]["available"]), ["dotsocr", "lightonocr"])

    def test_metrics_count_jobs_pages_requests_and_parse_cleanly(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(2), dpi="72")
        self.server.wait_for(job["job_id"])
        self.server.get("/ocr/status/fc-01JCFZ8X0000000000000000AB")  # a 404
        # Worker processes report pages on a pipe the server reads every
        # 100 ms, so page counts may trail the job's completion a little.
        deadline = time.monotonic() + 5
        while True:
            response = self.server.get("/metrics")
            if 'visor_page_duration_seconds_count{model="dotsocr"} 2' in response.text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        types, samples = parse_metrics(response.text)
        self.assertEqual(types["visor_jobs"], "gauge")
        self.assertEqual(types["visor_pages_processed_total"], "counter")
        self.assertEqual(types["visor_page_duration_seconds"], "histogram")
        self.assertEqual(types["visor_http_requests_total"], "counter")
        for gauge in ("visor_queue_depth", "visor_oldest_pending_age_seconds", "visor_busy_workers",
                      "visor_sse_streams_open"):
            self.assertEqual(types[gauge], "gauge", gauge)
        self.assertGreaterEqual(value_of(samples, "visor_jobs", status="completed"), 1)
        self.assertGreaterEqual(value_of(samples, "visor_pages_processed_total", model="dotsocr", outcome="success"), 2)
        self.assertGreaterEqual(value_of(samples, "visor_page_duration_seconds_count", model="dotsocr"), 2)
        self.assertEqual(value_of(samples, "visor_page_duration_seconds_bucket", model="dotsocr", le="+Inf"),
                         value_of(samples, "visor_page_duration_seconds_count", model="dotsocr"))
        self.assertGreaterEqual(value_of(samples, "visor_http_requests_total", route="/ocr/submit", code="200"), 1)
        self.assertGreaterEqual(
            value_of(samples, "visor_http_requests_total", route="/ocr/status/{job_id}", code="404"), 1)
        # Route labels are templates, never raw ids.
        self.assertFalse([s for s in samples if "fc-" in s[1].get("route", "")])

    def test_requests_are_logged_as_one_json_object_per_line(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        self.server.get(f"/ocr/status/{job['job_id']}")
        deadline = time.monotonic() + 5
        records = []
        while time.monotonic() < deadline:
            records = [json.loads(line) for line in self.server.log().splitlines() if line.startswith("{")]
            if any(r["route"] == "/ocr/status/{job_id}" and r.get("job_id") == job["job_id"] for r in records):
                break
            time.sleep(0.1)
        status = [r for r in records if r["route"] == "/ocr/status/{job_id}" and r.get("job_id") == job["job_id"]]
        self.assertTrue(status, records[-5:])
        self.assertEqual(status[0]["status"], 200)
        self.assertEqual(status[0]["event"], "http.request")
        self.assertIsInstance(status[0]["ms"], int)
        submit = [r for r in records if r["route"] == "/ocr/submit" and r.get("job_id") == job["job_id"]]
        self.assertTrue(submit, "the submit record names the job it created")


class JobListTest(ServerTestCase):

    def test_lists_newest_first_with_cursor_pages_and_status_filter(self):
        ids = [self.server.submit_ok(pdfgen.text_only_pdf(1), f"list-{i}.pdf", dpi="72")["job_id"] for i in range(3)]
        for job_id in ids:
            self.server.wait_for(job_id)
        first = self.server.get("/ocr/jobs", params={"limit": 2}).json()
        self.assertEqual([j["job_id"] for j in first["jobs"]], ids[::-1][:2])
        self.assertEqual(first["next_cursor"], ids[1])
        second = self.server.get("/ocr/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
        self.assertEqual([j["job_id"] for j in second["jobs"]][:1], [ids[0]])
        entry = first["jobs"][0]
        self.assertEqual(entry["status"], "completed")
        self.assertEqual(entry["filename"], "list-2.pdf")
        self.assertEqual(entry["progress"], {"pages_done": 1, "total_pages": 1})
        completed = self.server.get("/ocr/jobs", params={"status": "completed", "limit": 100}).json()
        self.assertTrue(set(ids) <= {j["job_id"] for j in completed["jobs"]})
        self.assertEqual(self.server.get("/ocr/jobs", params={"status": "failed"}).json()["jobs"], [])

    def test_bad_parameters_answer_422_with_a_detail(self):
        for params, word in (({"limit": 0}, "limit"), ({"limit": "x"}, "limit"), ({"limit": 101}, "limit"),
                             ({"status": "done"}, "status"), ({"cursor": "nope"}, "cursor")):
            self.assertDetail(self.server.get("/ocr/jobs", params=params), 422, word)


class StreamAdditionsTest(ServerTestCase):

    def test_every_event_has_an_id_and_final_events_say_end(self):
        job = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")
        _, events = collect_events(self.server.url(f"/ocr/stream/{job['job_id']}"))
        self.assertTrue(all(e.id for e in events), [(e.event, e.id) for e in events])
        self.assertEqual([e.id for e in events if e.event in ("result", "close")], ["end", "end"])
        self.assertTrue(all(e.id.startswith("p:") for e in events if e.event == "status"))
        self.assertNotIn("page", [e.event for e in events], "page events are opt-in")

    def test_pages_true_sends_each_page_once_before_the_result(self):
        job = self.server.submit_ok(pdfgen.make_pdf([pdfgen.sample_page(i) for i in (1, 2, 3)]), dpi="72")
        _, events = collect_events(self.server.url(f"/ocr/stream/{job['job_id']}?pages=true"))
        names = [e.event for e in events]
        pages = [e.json() for e in events if e.event == "page"]
        self.assertEqual(sorted(p["page_index"] for p in pages), [0, 1, 2], names)
        self.assertLess(max(i for i, n in enumerate(names) if n == "page"), names.index("result"))
        result = events[names.index("result")].json()
        for page in pages:
            self.assertEqual(page["job_id"], job["job_id"])
            self.assertEqual(page["total_pages"], 3)
            self.assertEqual(page["result"], result["results"][f"page_{page['page_index']}"])

    def test_reconnecting_with_the_last_id_skips_what_was_delivered(self):
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(3), dpi="72")["job_id"]
        self.server.wait_for(job_id)
        _, first = collect_events(self.server.url(f"/ocr/stream/{job_id}?pages=true"))
        last_page = [e for e in first if e.event == "page"][1]
        # Resume after the second page event: only the third page is sent again.
        _, resumed = collect_events(self.server.url(f"/ocr/stream/{job_id}?pages=true&last_event_id={last_page.id}"))
        self.assertEqual(len([e for e in resumed if e.event == "page"]), 1, [e.event for e in resumed])
        # After the final event only close comes, whether by header or query.
        by_header = self.server.get(f"/ocr/stream/{job_id}", headers={"Last-Event-ID": "end"})
        self.assertEqual(re.findall(r"^event: (\w+)$", by_header.text, re.M), ["close"])
        _, by_query = collect_events(self.server.url(f"/ocr/stream/{job_id}?last_event_id=end"))
        self.assertEqual([e.event for e in by_query], ["close"])
        # An id that is not ours starts over.
        _, fresh = collect_events(self.server.url(f"/ocr/stream/{job_id}?last_event_id=garbage"))
        self.assertEqual([e.event for e in fresh][-2:], ["result", "close"])

    def test_pages_must_be_a_boolean(self):
        job_id = self.server.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.assertDetail(self.server.get(f"/ocr/stream/{job_id}?pages=maybe"), 422, "pages")

    def test_open_streams_are_counted(self):
        job_id = self.server.submit_ok(pdfgen.dense_pdf(2), dpi="150")["job_id"]
        with SSEClient(self.server.url(f"/ocr/stream/{job_id}")) as client:
            next(iter(client))
            _, samples = parse_metrics(self.server.get("/metrics").text)
            self.assertGreaterEqual(value_of(samples, "visor_sse_streams_open"), 1)
        self.server.wait_for(job_id)


if __name__ == "__main__":
    unittest.main()
