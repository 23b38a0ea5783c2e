"""Fair and safe by default under hostile load, on both stores: one API key
flooding the queue does not hold back another key's job; priority orders
one key's own jobs; a key's queued pages are capped with 429; a
decompression bomb fails fast with the server's default flags."""

from __future__ import annotations

import time
import unittest

import requests

import pdfgen
from postgres_harness import PostgresServer
from visor_harness import ServerTestCase

ALICE = "alice-key-0123456789abcdef"
BOB = "bob-key-0123456789abcdef0"


class FairnessCases:
    """The tests, run on each store by the classes below. One worker thread,
    so that every page waits its turn."""

    WORKERS = 1
    API_KEY = ALICE
    SERVER_ENV = {"VISOR_API_KEYS": f"{ALICE},{BOB}"}
    BASE_FLAGS = ("--max-queued-pages-per-key", "40")

    def submit_as(self, key: str, pdf: bytes, name: str, **params) -> requests.Response:
        return self.server.submit(pdf, name, params, api_key=key)

    def job_as(self, key: str, pdf: bytes, name: str, **params) -> str:
        response = self.submit_as(key, pdf, name, **params)
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()["job_id"]

    def status_as(self, key: str, job_id: str) -> dict:
        return self.server.status(job_id, api_key=key)

    def wait_as(self, key: str, job_id: str, timeout: float = 120) -> dict:
        return self.server.wait_for(job_id, timeout=timeout, api_key=key)

    def cancel_as(self, key: str, *job_ids: str):
        for job_id in job_ids:
            requests.delete(self.server.url(f"/ocr/jobs/{job_id}"), headers={"Authorization": f"Bearer {key}"},
                            timeout=30)

    def test_another_keys_job_finishes_while_the_flood_is_still_queued(self):
        flood = [self.job_as(ALICE, pdfgen.dense_pdf(3), f"flood{i}.pdf", dpi="150") for i in range(4)]
        bob = self.job_as(BOB, pdfgen.text_only_pdf(1), "bob.pdf", dpi="72")
        try:
            finished = self.wait_as(BOB, bob)
            self.assertEqual(finished["status"], "completed")
            waiting = [self.status_as(ALICE, job_id) for job_id in flood]
            unfinished_pages = sum(j["total_pages"] - j["progress"]["pages_done"] for j in waiting)
            # Without fair share Bob's page would wait for all twelve of Alice's.
            self.assertGreaterEqual(unfinished_pages, 8, waiting)
            self.assertEqual(waiting[-1]["status"], "pending", waiting[-1])
        finally:
            self.cancel_as(ALICE, *flood)

    def test_priority_orders_one_keys_jobs(self):
        blocker = self.job_as(ALICE, pdfgen.dense_pdf(2), "blocker.pdf", dpi="150")
        low = self.job_as(ALICE, pdfgen.text_only_pdf(1), "low.pdf", dpi="72", priority="low")
        normal = self.job_as(ALICE, pdfgen.text_only_pdf(1), "normal.pdf", dpi="72")
        high = self.job_as(ALICE, pdfgen.text_only_pdf(1), "high.pdf", dpi="72", priority="high")
        try:
            started = {name: self.wait_as(ALICE, job_id)["started_at"]
                       for name, job_id in (("low", low), ("normal", normal), ("high", high))}
            self.assertLess(started["high"], started["normal"], started)
            self.assertLess(started["normal"], started["low"], started)
            self.assertEqual(self.status_as(ALICE, high)["priority"], "high")
            bad = self.submit_as(ALICE, pdfgen.text_only_pdf(1), "bad.pdf", priority="urgent")
            self.assertEqual(bad.status_code, 422)
            self.assertIn("high, normal, low", bad.json()["detail"])
        finally:
            self.cancel_as(ALICE, blocker)

    def test_a_keys_queued_pages_are_capped_with_429(self):
        first = self.job_as(ALICE, pdfgen.dense_pdf(30), "big.pdf", dpi="150")
        try:
            refused = self.submit_as(ALICE, pdfgen.dense_pdf(12), "more.pdf", dpi="150")
            self.assertEqual(refused.status_code, 429, refused.text)
            self.assertGreater(int(refused.headers["Retry-After"]), 0)
            self.assertIn("--max-queued-pages-per-key", refused.json()["detail"])
            other = self.job_as(BOB, pdfgen.text_only_pdf(2), "bob.pdf", dpi="72")
            self.assertEqual(self.wait_as(BOB, other)["status"], "completed")
        finally:
            self.cancel_as(ALICE, first)
        self.job_as(ALICE, pdfgen.text_only_pdf(1), "after.pdf", dpi="72")  # room again once cancelled

    def test_a_decompression_bomb_fails_fast_with_the_default_flags(self):
        started = time.monotonic()
        job_id = self.job_as(ALICE, pdfgen.jbig2_bomb_pdf(), "bomb.pdf")
        status = self.wait_as(ALICE, job_id, timeout=60)
        self.assertLess(time.monotonic() - started, 20)
        self.assertEqual(status["status"], "completed")
        page = self.server.result(job_id).json()["results"]["page_0"]
        self.assertEqual(page["status"], "error")
        self.assertIn("--page-memory", page["error"])
        self.assertIn("decompression bomb", page["error"])


class SqliteFairnessTest(FairnessCases, ServerTestCase):
    SERVER_FLAGS = FairnessCases.BASE_FLAGS


class PostgresFairnessTest(FairnessCases, ServerTestCase):
    pg: PostgresServer

    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer(fsync=False).start()
        cls.SERVER_FLAGS = (*FairnessCases.BASE_FLAGS, "--store", cls.pg.url())
        try:
            super().setUpClass()
        except Exception:
            cls.pg.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.pg.cleanup()


if __name__ == "__main__":
    unittest.main()
