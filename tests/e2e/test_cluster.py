"""Many nodes, one service: PostgreSQL + two API-only `visor serve` nodes
(A, B: `--workers 0 --store postgresql://...`) + two standalone
`visor worker` processes, on loopback. A client cannot tell which node it
talks to: jobs, streams, cancellation, keys, idempotency and limits span the
fleet; a killed worker or node, or a PostgreSQL restart, loses and
duplicates nothing.

One PostgreSQL for the module (tests/e2e/postgres_harness.py), a fresh
database per test class (tests/e2e/cluster_harness.py)."""

from __future__ import annotations

import itertools
import os
import subprocess
import threading
import time
import unittest

import requests

import pdfgen
from cluster_harness import (ApiNode, ClusterTestCase, VisorWorker, metric_value, shared_postgres,
                             stop_shared_postgres, wait_until)
from visor_harness import BINARY, JOB_ID_RE, SSEClient, collect_events

ALICE = "alice-cluster-key-0123456789"
BOB = "bob-cluster-key-0123456789ab"
CAROL = "carol-cluster-key-0123456789"
DAVE = "dave-cluster-key-0123456789a"
ERIN = "erin-cluster-key-0123456789a"
KEYS_ENV = {"VISOR_API_KEYS": ",".join((ALICE, BOB, CAROL, DAVE, ERIN))}


def setUpModule():
    shared_postgres()


def tearDownModule():
    stop_shared_postgres()


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def slow_pages_pdf(pages: int, fills: int = 20_000) -> bytes:
    """Pages that paint themselves white `fills` times: quick to parse,
    about a minute each to render at 200 DPI on this 2-core machine."""
    return pdfgen.make_pdf([[pdfgen.Line(f"Slow page {i + 1}", 72, 700, 24)] for i in range(pages)],
                           background=b"1 g\n" + b"0 0 612 792 re f\n" * fills + b"0 g\n")


def page_index(event) -> int:
    return event.json()["page_index"]


def open_stream(node: ApiNode, job_id: str, key: str | None = None, deadline: float = 0.0,
                query: str = "") -> SSEClient:
    """An SSE stream on `node`; with a `deadline` (monotonic), retries a
    429/503 refusal until then (a place freed a moment ago is given back
    when the server notices)."""
    while True:
        client = SSEClient(node.url(f"/ocr/stream/{job_id}{query}"), timeout=30,
                           headers=bearer(key) if key else {})
        if client.response.status_code == 200 or time.monotonic() >= deadline:
            return client
        client.close()
        time.sleep(0.2)


def stream_refusal(node: ApiNode, job_id: str, key: str) -> requests.Response:
    """A stream request expected to be refused (a 200 is closed at once)."""
    response = requests.get(node.url(f"/ocr/stream/{job_id}"), headers=bearer(key), stream=True, timeout=10)
    if response.status_code != 200:
        response.content  # the refusal's small JSON body, read before closing
    response.close()
    return response


def list_all_jobs(node: ApiNode, key: str | None = None) -> list[str]:
    """Every job id of GET /ocr/jobs, following next_cursor."""
    ids, cursor = [], None
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = node.get("/ocr/jobs", params=params, headers=bearer(key) if key else {})
        assert response.status_code == 200, f"{response.status_code} {response.text}"
        body = response.json()
        ids += [job["job_id"] for job in body["jobs"]]
        cursor = body["next_cursor"]
        if not cursor:
            return ids


class ClusterApiTest(ClusterTestCase):
    """Jobs, streams, cancellation, keys and idempotency across nodes."""

    ENV = KEYS_ENV
    API_KEY = ALICE
    # Leases renewed every second: a worker learns of a cancellation in about one.
    WORKER_FLAGS = ("--lease-timeout", "3s")

    def test_a_job_submitted_on_a_streams_and_fetches_on_b_with_the_same_result(self):
        a, b = self.nodes
        job = a.submit_ok(pdfgen.dense_pdf(3), "fleet.pdf", dpi="72")
        job_id = job["job_id"]
        self.assertRegex(job_id, JOB_ID_RE)
        response, events = collect_events(b.url(f"/ocr/stream/{job_id}?pages=true&api_key={ALICE}"), timeout=120)
        self.assertEqual(response.status_code, 200)
        names = [e.event for e in events]
        self.assertEqual(names[0], "status", names)
        self.assertEqual(names[-2:], ["result", "close"], names)
        # B followed the job live: it opened before the job was done.
        self.assertLess(events[0].json()["progress"]["pages_done"], 3, names)
        pages = [e for e in events if e.event == "page"]
        self.assertEqual(sorted(page_index(e) for e in pages), [0, 1, 2], names)
        self.assertLess(max(i for i, n in enumerate(names) if n == "page"), names.index("result"))
        self.assertEqual([e.id for e in events if e.event in ("result", "close")], ["end", "end"])
        result = events[-2].json()
        self.assertEqual(result["status"], "completed")
        for page in pages:
            self.assertEqual(page.json()["result"], result["results"][f"page_{page_index(page)}"])

        from_a, from_b = a.result(job_id), b.result(job_id)
        self.assertEqual(from_a.status_code, 200, from_a.text)
        self.assertEqual(from_b.status_code, 200, from_b.text)
        self.assertEqual(from_a.json(), from_b.json())
        self.assertEqual(result["results"], from_a.json()["results"])
        self.assertEqual([p["status"] for p in result["results"].values()], ["success"] * 3)
        self.assertEqual(b.status(job_id)["status"], "completed")
        for node in (a, b):
            self.assertFalse((node.data_dir / "visor.db").exists(), f"{node.name} made a SQLite store")

    def test_cancelling_on_b_a_job_running_from_a_abandons_its_pages_on_the_workers(self):
        a, b = self.nodes
        job_id = a.submit_ok(slow_pages_pdf(4), "slow.pdf", dpi="200")["job_id"]
        stream = SSEClient(a.url(f"/ocr/stream/{job_id}"), timeout=60, headers=bearer(ALICE))
        events = []

        def follow():
            try:
                for event in stream:
                    if not event.is_comment_only:
                        events.append(event)
            except requests.RequestException:
                pass

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        try:
            # Both workers are on a page of the job (a minute of rendering each).
            holders = wait_until(lambda: (h := self.cluster.lease_holders(job_id)) and len(h) >= 2 and h,
                                 timeout=60, interval=0.1, message="the workers never leased two pages")
            running = {self.cluster.worker_of(owner) for owner, _ in holders.values()}
            self.assertEqual(len(running), 2, holders)
            self.assertNotIn(None, running, holders)
            self.assertEqual(self.cluster.page_events("page.done", job_id), [])

            cancelled = requests.delete(b.url(f"/ocr/jobs/{job_id}"), headers=bearer(ALICE), timeout=30)
            self.assertEqual(cancelled.status_code, 200, cancelled.text)
            self.assertEqual(cancelled.json()["status"], "cancelled")
            for node in (a, b):
                self.assertEqual(node.status(job_id)["status"], "cancelled", node.name)
                result = node.result(job_id)
                self.assertEqual(result.status_code, 409, result.text)
                self.assertEqual(result.json()["status"], "cancelled")

            # The stream on A ends with the cancellation.
            follower.join(30)
            self.assertFalse(follower.is_alive(), "the stream on A did not end after the cancel on B")
            self.assertEqual([e.event for e in events][-2:], ["error", "close"], [e.event for e in events])
            self.assertEqual(events[-2].json()["status"], "cancelled")

            # Each worker drops its page, long before the minute it takes.
            for worker in running:
                wait_until(lambda: worker.events("page.abandoned", job_id=job_id), timeout=30, interval=0.1,
                           message=f"{worker.name} did not abandon its page of the cancelled job")
        finally:
            stream.close()
        # Nothing of the cancelled job is done afterwards, and the workers take new work.
        quick = b.submit_ok(pdfgen.text_only_pdf(2), dpi="72")["job_id"]
        self.assertEqual(a.wait_for(quick, timeout=60)["status"], "completed")
        self.assertEqual(self.cluster.page_events("page.done", job_id), [])
        self.assertEqual(b.status(job_id)["status"], "cancelled")

    def test_keys_and_tenants_hold_on_every_node(self):
        a, b = self.nodes
        job_id = a.submit_ok(pdfgen.text_only_pdf(1), "alice.pdf", dpi="72")["job_id"]
        a.wait_for(job_id, timeout=60)
        routes = [("GET", f"/ocr/status/{job_id}"), ("GET", f"/ocr/result/{job_id}"),
                  ("GET", f"/ocr/stream/{job_id}"), ("GET", f"/ocr/page/{job_id}/0"),
                  ("DELETE", f"/ocr/jobs/{job_id}")]
        for node in (a, b):
            for method, path in routes:
                with self.subTest(node=node.name, method=method, path=path):
                    theirs = requests.request(method, node.url(path), headers=bearer(BOB), timeout=30)
                    self.assertEqual(theirs.status_code, 404, theirs.text)
                    self.assertEqual(theirs.json(), {"detail": f"Job {job_id} not found"})
                    anonymous = requests.request(method, node.url(path), timeout=30)
                    self.assertDetail(anonymous, 401, "api key")
                    self.assertEqual(anonymous.headers.get("WWW-Authenticate"), "Bearer")
            with self.subTest(node=node.name, route="submit"):
                self.assertDetail(requests.post(node.url("/ocr/submit"), timeout=30,
                                                files={"file": ("a.pdf", pdfgen.text_only_pdf(1))}), 401, "api key")
                wrong = requests.get(node.url("/ocr/jobs"), headers=bearer("not-a-key-but-long-enough"), timeout=30)
                self.assertDetail(wrong, 401)
            with self.subTest(node=node.name, route="owner"):
                self.assertEqual(node.status(job_id)["status"], "completed")
                self.assertIn(job_id, list_all_jobs(node, ALICE))
                self.assertNotIn(job_id, list_all_jobs(node, BOB))
        # Bob's job, submitted on B, is his alone on A too.
        bob_job = b.submit(pdfgen.text_only_pdf(1), "bob.pdf", {"dpi": "72"}, headers=bearer(BOB))
        self.assertEqual(bob_job.status_code, 200, bob_job.text)
        bob_id = bob_job.json()["job_id"]
        self.assertEqual(a.get(f"/ocr/status/{bob_id}", headers=bearer(BOB)).status_code, 200)
        self.assertEqual(a.get(f"/ocr/status/{bob_id}").status_code, 404)  # Alice's key
        self.assertNotIn(bob_id, list_all_jobs(a, ALICE))
        self.assertEqual(a.status(job_id)["status"], "completed", "Bob's DELETE touched Alice's job")

    def test_an_idempotent_retry_sent_to_the_other_node_returns_the_same_job(self):
        a, b = self.nodes
        pdf = pdfgen.text_only_pdf(1, "Idem")
        headers = {"Idempotency-Key": "cluster-order-1"}
        first = a.submit(pdf, "a.pdf", {"dpi": "72"}, headers=headers)
        again = b.submit(pdf, "a.pdf", {"dpi": "72"}, headers=headers)
        self.assertEqual(first.status_code, 200, first.text)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(first.json()["job_id"], again.json()["job_id"])
        self.assertNotIn("Idempotent-Replayed", first.headers)
        self.assertEqual(again.headers.get("Idempotent-Replayed"), "true")
        self.assertEqual(list_all_jobs(b, ALICE).count(first.json()["job_id"]), 1)
        # The same key with another document is refused on either node.
        other = b.submit(pdfgen.text_only_pdf(1, "Other"), "a.pdf", {"dpi": "72"}, headers=headers)
        self.assertDetail(other, 422, "idempotency-key")
        # Keys are per API key: Bob's same key is a job of his own.
        bobs = b.submit(pdf, "a.pdf", {"dpi": "72"}, headers={**headers, **bearer(BOB)})
        self.assertEqual(bobs.status_code, 200, bobs.text)
        self.assertNotEqual(bobs.json()["job_id"], first.json()["job_id"])

    def test_concurrent_retries_with_one_key_across_both_nodes_create_one_job(self):
        pdf = pdfgen.text_only_pdf(1, "Race")
        results = []
        barrier = threading.Barrier(8)

        def submit(node):
            barrier.wait()
            results.append(node.submit(pdf, params={"dpi": "72"}, headers={"Idempotency-Key": "cluster-race-1"}))

        threads = [threading.Thread(target=submit, args=(self.nodes[i % 2],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual([r.status_code for r in results], [200] * 8, [r.text for r in results])
        job_ids = {r.json()["job_id"] for r in results}
        self.assertEqual(len(job_ids), 1, job_ids)
        self.assertEqual(sum(r.headers.get("Idempotent-Replayed") == "true" for r in results), 7)
        self.assertEqual(list_all_jobs(self.nodes[0], ALICE).count(job_ids.pop()), 1)

    def test_api_only_nodes_are_ready_without_local_workers(self):
        for node in self.nodes:
            with self.subTest(node=node.name):
                response = node.get("/readyz")
                self.assertEqual(response.status_code, 200, response.text)
                body = response.json()
                self.assertEqual(body["status"], "ready")
                self.assertTrue(body["checks"]["store"]["ok"], body)
                self.assertEqual(node.get("/healthz").json(), {"status": "ok"})

    def test_visor_store_environment_variable_selects_the_store(self):
        # A third node given the store by VISOR_STORE only, not --store.
        node = ApiNode(None, name="env-node", env={**KEYS_ENV, "VISOR_STORE": self.cluster.store}, api_key=ALICE)
        self.addCleanup(node.cleanup)
        node.start()
        job_id = self.nodes[0].submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        self.assertEqual(node.wait_for(job_id, timeout=60)["status"], "completed")
        self.assertFalse((node.data_dir / "visor.db").exists(), "the node made a SQLite store besides")

    def test_migrate_creates_the_schema_once_even_when_run_concurrently(self):
        database = "visor_migrate_test"
        self.pg.drop_database(database)
        self.pg.create_database(database)
        url = self.pg.url(database)
        runs = [subprocess.Popen([str(BINARY), "migrate", "--store", url], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items()
                                                                 if not k.startswith("VISOR_")})
                for _ in range(3)]
        outputs = [(run.wait(60), run.stdout.read().decode(errors="replace")) for run in runs]
        for run in runs:
            run.stdout.close()
        self.assertEqual([rc for rc, _ in outputs], [0, 0, 0], outputs)
        tables = {row[0] for row in self.pg.psql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()", db=database)}
        self.assertLessEqual({"jobs", "pages", "documents", "idempotency", "workers"}, tables)
        columns = {row[0] for row in self.pg.psql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'pages' "
            "AND table_schema = current_schema()", db=database)}
        self.assertLessEqual({"job_id", "page_index", "state", "attempts", "lease_token", "lease_owner",
                              "lease_expires_at", "result", "engine"}, columns)
        again = subprocess.run([str(BINARY), "migrate", "--store", url], capture_output=True, text=True, timeout=60)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.pg.drop_database(database)


class ClusterLimitsTest(ClusterTestCase):
    """Limits kept in the store: two nodes together admit no more than one.
    No workers: jobs stay pending, so their streams stay open."""

    ENV = KEYS_ENV
    WORKERS = 0
    NODE_FLAGS = ("--submit-rate", "3/min", "--submit-burst", "3",
                  "--max-streams-per-key", "2", "--max-streams", "3")

    def setUp(self):
        for node in self.nodes:
            if node.proc is None:
                node.start()

    def submit(self, node: ApiNode, key: str, pages: int = 1) -> requests.Response:
        return node.submit(pdfgen.text_only_pdf(pages), params={"dpi": "72"}, headers=bearer(key))

    def pending_job(self, key: str) -> str:
        response = self.submit(self.nodes[0], key)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["job_id"]

    def test_the_submit_rate_is_summed_across_nodes(self):
        a, b = self.nodes
        answers = [self.submit(node, ALICE) for node in (a, b, a, b, a, b)]
        self.assertEqual([r.status_code for r in answers], [200, 200, 200, 429, 429, 429],
                         [(r.status_code, r.text) for r in answers])
        for refused in answers[3:]:
            self.assertDetail(refused, 429, "3/min")
            self.assertRetryAfter(refused, 1, 60)
        self.assertEqual(len(list_all_jobs(b, ALICE)), 3)
        # Another key has its own bucket, on either node.
        self.assertEqual(self.submit(b, CAROL).status_code, 200)

    def test_stream_caps_per_key_and_in_total_are_summed_across_nodes(self):
        a, b = self.nodes
        bob_job, carol_job = self.pending_job(BOB), self.pending_job(CAROL)
        deadline = time.monotonic() + 30  # places of earlier tests' streams come back
        streams = [open_stream(a, bob_job, BOB, deadline), open_stream(b, bob_job, BOB, deadline)]
        try:
            self.assertEqual([s.response.status_code for s in streams], [200, 200])
            for node in (a, b):
                with self.subTest(node=node.name, cap="per key"):
                    third = stream_refusal(node, bob_job, BOB)
                    self.assertDetail(third, 429, "2 streams open")
                    self.assertRetryAfter(third)
            streams.append(open_stream(b, carol_job, CAROL, deadline))
            self.assertEqual(streams[-1].response.status_code, 200)
            for node in (a, b):
                with self.subTest(node=node.name, cap="total"):
                    fourth = stream_refusal(node, carol_job, CAROL)
                    self.assertDetail(fourth, 503, "3 streams open")
                    self.assertRetryAfter(fourth)
            # A closed stream gives its place back, to a stream on the other node.
            streams.pop(0).close()
            streams.append(open_stream(b, bob_job, BOB, time.monotonic() + 30))
            self.assertEqual(streams[-1].response.status_code, 200, "the closed stream kept its place")
            # Bob is at his cap again (and the fleet at its total).
            self.assertIn(stream_refusal(a, bob_job, BOB).status_code, (429, 503))
        finally:
            for stream in streams:
                stream.close()

    def test_streams_of_a_killed_node_give_their_places_back(self):
        a, b = self.nodes
        job_id = self.pending_job(ERIN)
        deadline = time.monotonic() + 30
        streams = [open_stream(a, job_id, ERIN, deadline), open_stream(a, job_id, ERIN, deadline)]
        try:
            self.assertEqual([s.response.status_code for s in streams], [200, 200])
            self.assertIn(stream_refusal(b, job_id, ERIN).status_code, (429, 503))
            a.kill()
            # The dead node's places are not held for ever: B admits the key's streams again.
            replacement = open_stream(b, job_id, ERIN, time.monotonic() + 60)
            streams.append(replacement)
            self.assertEqual(replacement.response.status_code, 200, "a killed node's streams still count")
            streams.append(open_stream(b, job_id, ERIN, time.monotonic() + 30))
            self.assertEqual(streams[-1].response.status_code, 200)
        finally:
            for stream in streams:
                stream.close()

    def test_metrics_on_every_node_report_the_fleet_queue_from_the_store(self):
        a, b = self.nodes
        job = a.submit(pdfgen.text_only_pdf(3), params={"dpi": "72"}, headers=bearer(DAVE))
        self.assertEqual(job.status_code, 200, job.text)

        def queued() -> int:
            return int(self.cluster.sql("SELECT count(*) FROM pages WHERE state = 'queued'")[0][0])

        def agree():
            expected = queued()
            texts = [node.get("/metrics").text for node in (a, b)]
            depths = [metric_value(text, "visor_queue_depth") for text in texts]
            return depths == [expected, expected] and texts

        texts = wait_until(agree, timeout=30, interval=0.2,
                           message="visor_queue_depth of the nodes differs from the store's queued pages")
        self.assertGreaterEqual(queued(), 3)
        for node, text in zip((a, b), texts):
            with self.subTest(node=node.name):
                self.assertEqual(metric_value(text, "visor_busy_workers"), 0)
                self.assertEqual(metric_value(text, "visor_workers"), 0)
                self.assertIsNotNone(metric_value(text, "visor_oldest_pending_age_seconds"))
        # The oldest pending job ages on every node.
        wait_until(lambda: all((metric_value(node.get("/metrics").text, "visor_oldest_pending_age_seconds") or 0) >= 1
                               for node in (a, b)), timeout=30, interval=0.2,
                   message="visor_oldest_pending_age_seconds does not grow")


class ClusterWorkerCrashTest(ClusterTestCase):
    """A worker killed mid-page: its page goes back at once, through the
    worker heartbeat (the 120 s lease would be far too late)."""

    WORKER_FLAGS = ("--lease-timeout", "120s", "--heartbeat-timeout", "5s")
    # Whichever process runs the fleet's maintenance judges the heartbeats:
    # the same timeout everywhere.
    NODE_FLAGS = ("--heartbeat-timeout", "5s")

    def setUp(self):
        for worker in self.workers:
            if not worker.alive():
                worker.start()

    def holder_of_first_page(self, job_id: str):
        holders = self.cluster.lease_holders(job_id)
        return holders.get(0) and self.cluster.worker_of(holders[0][0])

    def test_a_page_of_a_killed_worker_finishes_on_the_other_worker_once(self):
        a, b = self.nodes
        job_id = a.submit_ok(pdfgen.dense_pdf(1), "dense.pdf", dpi="600")["job_id"]  # seconds of OCR
        victim = wait_until(lambda: self.holder_of_first_page(job_id), timeout=60, interval=0.02,
                            message="no worker of ours leased the page")
        survivor = next(w for w in self.workers if w is not victim)
        victim.kill()
        killed_at = time.monotonic()
        self.assertEqual(victim.events("page.done", job_id=job_id), [], "the page was done before the kill")

        body = b.wait_for(job_id, timeout=110)
        recovered_in = time.monotonic() - killed_at
        self.assertEqual(body["status"], "completed")
        self.assertLess(recovered_in, 60, "recovery waited for the 120 s lease, not the 5 s heartbeat")
        result = a.result(job_id).json()
        self.assertEqual(result["results"]["page_0"]["status"], "success", result["results"])
        self.assertEqual(self.cluster.page_events("page.done", job_id), [(survivor.name, 0)])
        self.assertTrue(survivor.alive())

    def test_metrics_count_live_workers_and_busy_ones_of_the_fleet(self):
        a, b = self.nodes

        def values(name: str) -> list[float | None]:
            return [metric_value(node.get("/metrics").text, name) for node in (a, b)]

        # Two live workers (a replaced, killed one no longer counts).
        wait_until(lambda: values("visor_workers") == [2, 2], timeout=30, interval=0.2,
                   message="visor_workers is not 2 on both nodes")
        job_id = a.submit_ok(pdfgen.dense_pdf(1), dpi="600")["job_id"]
        wait_until(lambda: values("visor_busy_workers") == [1, 1], timeout=30, interval=0.05,
                   message="visor_busy_workers did not show the page in flight on both nodes")
        a.wait_for(job_id, timeout=60)
        wait_until(lambda: values("visor_busy_workers") == [0, 0], timeout=30, interval=0.2)
        # A killed worker stops counting once its heartbeat is older than 5 s.
        self.workers[1].kill()
        wait_until(lambda: values("visor_workers") == [1, 1], timeout=30, interval=0.2,
                   message="a killed worker still counts in visor_workers")


class ClusterHeartbeatSettingTest(ClusterTestCase):
    """A worker started with a long --heartbeat-timeout beats seldom (a fifth
    of it); a node with the default must not take it for dead meanwhile."""

    NODES = 1
    WORKERS = 0  # started in the test, once the node runs the fleet's maintenance

    def test_a_busy_worker_with_a_long_heartbeat_timeout_keeps_its_page(self):
        node, = self.nodes
        # Whichever process holds the maintenance lead judges heartbeats
        # (white-box: the leaders table); here the node with its 10 s default.
        wait_until(lambda: self.cluster.sql(
            f"SELECT 1 FROM leaders WHERE name = 'maintenance' AND holder LIKE '%:{node.pid}'"),
            timeout=30, interval=0.1, message="the node did not take the maintenance lead")
        worker = VisorWorker(self.cluster.store, "--heartbeat-timeout", "60s", name="patient-worker")
        self.cluster.workers.append(worker)  # its log on failure, its cleanup with the class
        worker.start()
        # About 20 s of rendering: longer than the node's own 10 s timeout
        # and than the worker's 12 s between beats.
        job_id = node.submit_ok(slow_pages_pdf(1, fills=5_000), "slow.pdf", dpi="200")["job_id"]
        self.assertEqual(node.wait_for(job_id, timeout=150)["status"], "completed")
        page = node.result(job_id).json()["results"]["page_0"]
        self.assertEqual(page["status"], "success", page)
        attempts = self.cluster.sql(f"SELECT attempts FROM pages WHERE job_id = '{job_id}'")
        self.assertEqual(attempts, [("1",)], "the page was taken from its live worker")
        self.assertNotIn("worker.silent", node.log_text())


class ClusterNodeCrashTest(ClusterTestCase):
    """An API node killed with streams open: its clients go on at B."""

    def setUp(self):
        for node in self.nodes:
            if node.proc is None:
                node.start()

    def test_streams_cut_by_a_killed_node_resume_on_the_other_with_last_event_id_and_miss_nothing(self):
        a, b = self.nodes
        pages = 6
        job_id = a.submit_ok(pdfgen.dense_pdf(pages), "resume.pdf", dpi="150")["job_id"]
        clients = 3
        before_kill: list[list] = [[] for _ in range(clients)]
        after_kill: list[list] = [[] for _ in range(clients)]
        cut = [threading.Event() for _ in range(clients)]
        killed = threading.Event()
        errors = []

        def follow(i: int) -> None:
            try:
                last_id = None
                try:
                    with SSEClient(a.url(f"/ocr/stream/{job_id}?pages=true"), timeout=60) as first:
                        for event in first:
                            if not event.is_comment_only:
                                before_kill[i].append(event)
                                last_id = event.id or last_id
                except requests.RequestException:
                    pass
                cut[i].set()
                if not killed.is_set():
                    errors.append(f"client {i}: the stream on A ended before the kill: "
                                  f"{[e.event for e in before_kill[i]]}")
                    return
                headers = {"Last-Event-ID": last_id} if last_id else {}
                with SSEClient(b.url(f"/ocr/stream/{job_id}?pages=true"), timeout=60, headers=headers) as second:
                    self.assertEqual(second.response.status_code, 200)
                    for event in second:
                        if not event.is_comment_only:
                            after_kill[i].append(event)
            except BaseException as e:  # reported by the main thread
                errors.append(f"client {i}: {e!r}")

        threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(clients)]
        for thread in threads:
            thread.start()
        # Kill A once every client has seen a page, with pages still to come.
        wait_until(lambda: all(any(e.event == "page" for e in events) for events in before_kill) or errors,
                   timeout=90, interval=0.02, message="the clients got no page event from A")
        self.assertEqual(errors, [])
        done_at_kill = int(self.cluster.sql(
            f"SELECT count(*) FROM pages WHERE job_id = '{job_id}' AND state = 'done'")[0][0])
        self.assertLess(done_at_kill, pages, "the job was done before the kill: nothing to resume")
        killed.set()
        a.kill()
        for thread in threads:
            thread.join(120)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in threads), "a client's stream on B did not end")

        final = b.result(job_id).json()
        for i in range(clients):
            with self.subTest(client=i):
                first, second = before_kill[i], after_kill[i]
                self.assertTrue(cut[i].is_set())
                self.assertNotIn("result", [e.event for e in first])
                self.assertEqual([e.event for e in second][-2:], ["result", "close"], [e.event for e in second])
                page_events = [e for e in first + second if e.event == "page"]
                self.assertEqual(sorted(page_index(e) for e in page_events), list(range(pages)),
                                 f"before: {[e.id for e in first]}, after: {[e.id for e in second]}")
                self.assertEqual([e.event for e in first + second].count("result"), 1)
                result = second[-2].json()
                self.assertEqual(result["results"], final["results"])
                for event in page_events:
                    self.assertEqual(event.json()["result"], final["results"][f"page_{page_index(event)}"])
        self.assertEqual([p["status"] for p in final["results"].values()], ["success"] * pages)


class ClusterStoreRestartTest(ClusterTestCase):
    """PostgreSQL going away: 503 with Retry-After meanwhile, no crash, no
    lost or duplicated job afterwards."""

    # A result a worker could not record while the store was down is done
    # again when its lease runs out; short, so the test need not wait 30 s.
    WORKER_FLAGS = ("--lease-timeout", "10s")

    def assert_same_processes(self, before: dict):
        self.assertEqual(self.cluster.processes(), before, "a node or worker died or was replaced")

    def ensure_pg_running(self):
        if not self.pg.running():
            self.pg.start_again()

    def test_while_postgresql_is_down_after_a_crash_requests_get_503_with_retry_after_and_nodes_recover(self):
        a, b = self.nodes
        processes = self.cluster.processes()
        known = a.submit_ok(pdfgen.text_only_pdf(1), dpi="72")["job_id"]
        a.wait_for(known, timeout=60)
        self.addCleanup(self.ensure_pg_running)
        self.pg.kill()  # a crash: connections end without goodbye, recovery runs at the start
        for node in (a, b):
            with self.subTest(node=node.name):
                self.assertEqual(node.get("/healthz", timeout=30).status_code, 200)
                ready = node.get("/readyz", timeout=30)
                self.assertEqual(ready.status_code, 503, ready.text)
                self.assertFalse(ready.json()["checks"]["store"]["ok"], ready.text)
                submit = node.submit(pdfgen.text_only_pdf(1), params={"dpi": "72"}, timeout=30)
                self.assertEqual(submit.status_code, 503, submit.text)
                self.assertRetryAfter(submit)
                listed = node.get("/ocr/jobs", timeout=30)
                self.assertEqual(listed.status_code, 503, listed.text)
                self.assertRetryAfter(listed)
                status = node.get(f"/ocr/status/{known}", timeout=30)
                self.assertIn(status.status_code, (200, 503), status.text)
                if status.status_code == 503:
                    self.assertRetryAfter(status)
        self.pg.start_again()
        for node in (a, b):
            wait_until(lambda: node.get("/readyz", timeout=30).status_code == 200, timeout=60, interval=0.2,
                       message=f"{node.name} is not ready again after PostgreSQL came back")
        job_id = b.submit_ok(pdfgen.text_only_pdf(2), dpi="72")["job_id"]
        self.assertEqual(a.wait_for(job_id, timeout=60)["status"], "completed")
        self.assert_same_processes(processes)

    def test_a_postgresql_restart_under_load_loses_and_duplicates_no_job(self):
        a, b = self.nodes
        processes = self.cluster.processes()
        earlier_jobs = set(list_all_jobs(a))
        counter = itertools.count()
        lock = threading.Lock()
        accepted: dict[str, str] = {}      # idempotency key -> job id
        logical: list[str] = []            # every logical submission's key
        failures: list[str] = []
        refusals: list[tuple[float, str]] = []  # (when, what) of every 503 or connection error
        stop = threading.Event()
        give_up = time.monotonic() + 150

        def submit_one(key: str, pdf: bytes, nodes) -> None:
            while time.monotonic() < give_up:
                node = next(nodes)  # a retry may reach the other node, as behind a load balancer
                try:
                    response = node.submit(pdf, f"{key}.pdf", {"dpi": "72"}, timeout=30,
                                           headers={"Idempotency-Key": key})
                except requests.RequestException as e:
                    with lock:
                        refusals.append((time.monotonic(), type(e).__name__))
                    time.sleep(0.3)
                    continue
                if response.status_code == 200:
                    with lock:
                        accepted[key] = response.json()["job_id"]
                    return
                if response.status_code in (429, 503):
                    with lock:
                        refusals.append((time.monotonic(), str(response.status_code)))
                    retry_after = response.headers.get("Retry-After")
                    if retry_after is None or not retry_after.isdigit():
                        with lock:
                            failures.append(f"{key}: {response.status_code} without Retry-After")
                        return
                    time.sleep(min(int(retry_after), 10))
                    continue
                with lock:
                    failures.append(f"{key}: {response.status_code} {response.text[:200]}")
                return
            with lock:
                failures.append(f"{key}: not accepted in time")

        def client(c: int) -> None:
            nodes = itertools.cycle((a, b) if c % 2 == 0 else (b, a))
            while not stop.is_set():
                n = next(counter)
                key = f"load-{n}"
                with lock:
                    logical.append(key)
                submit_one(key, pdfgen.text_only_pdf(2, f"Load {n}"), nodes)
                time.sleep(0.1)

        threads = [threading.Thread(target=client, args=(c,), daemon=True) for c in range(3)]
        for thread in threads:
            thread.start()
        try:
            wait_until(lambda: len(accepted) >= 6 or failures, timeout=60, message="the load did not start")
            self.addCleanup(self.ensure_pg_running)
            stopped_at = time.monotonic()
            self.pg.stop("fast")
            # Down until the load has met it, then back.
            wait_until(lambda: any(t > stopped_at for t, _ in refusals) or failures, timeout=30,
                       message="no request noticed PostgreSQL was down")
            self.pg.start_again()
            at_restart = len(accepted)
            wait_until(lambda: len(accepted) >= at_restart + 6 or failures, timeout=90,
                       message="submissions did not resume after PostgreSQL came back")
        finally:
            stop.set()
            for thread in threads:
                thread.join(180)
        self.assertEqual(failures, [])
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(sorted(accepted), sorted(logical), "a logical submission was never accepted")

        # Every accepted job completes, each page a success.
        nodes = itertools.cycle((a, b))
        for key, job_id in accepted.items():
            node = next(nodes)
            body = wait_until(lambda: self._status_when_done(node, job_id), timeout=120, interval=0.2,
                              message=f"job {job_id} ({key}) did not complete")
            self.assertEqual(body["status"], "completed", body)
            result = node.result(job_id).json()
            self.assertEqual([p["status"] for p in result["results"].values()], ["success", "success"],
                             f"{key}: {result['results']}")
        # One job per logical submission, none duplicated.
        listed = [job_id for job_id in list_all_jobs(b) if job_id not in earlier_jobs]
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual(len(set(accepted.values())), len(logical))
        self.assertEqual(sorted(listed), sorted(accepted.values()))
        self.assertGreater(len(refusals), 0)
        self.assert_same_processes(processes)

    @staticmethod
    def _status_when_done(node: ApiNode, job_id: str) -> dict | None:
        try:
            response = node.get(f"/ocr/status/{job_id}", timeout=30)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        return body if body["status"] in ("completed", "failed", "cancelled") else None


if __name__ == "__main__":
    unittest.main()
