// The web UI in a real browser: Debian's chromium driven by playwright-core
// (never a browser that Playwright downloads). Starts `visor serve` on a
// free port, uploads a corpus PDF, watches the progress reach 100 %, checks
// boxes (dotsocr) and rendered Markdown (lightonocr), downloads the JSON,
// reopens a job from the recent list, sees the error for a non-PDF, and
// works against a server with API keys once the key is entered.
// Screenshots go to VISOR_SCREENSHOT_DIR.
//
// Environment: VISOR_BINARY, VISOR_CORPUS_DIR, VISOR_SCREENSHOT_DIR,
// VISOR_CHROMIUM (default /usr/bin/chromium). Exit 77 (CTest: skipped) when
// chromium, playwright-core or the corpus file is missing.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const SKIP = 77;
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, "../..");
const binary = process.env.VISOR_BINARY || path.join(root, "build", "visor");
const chromium_path = process.env.VISOR_CHROMIUM || "/usr/bin/chromium";
const corpus = process.env.VISOR_CORPUS_DIR || path.resolve(root, "../shared/corpus");
const pdf_path = path.join(corpus, "gt", "doc11_000.pdf");
const shots = process.env.VISOR_SCREENSHOT_DIR || path.join(root, "build", "browser-screenshots");
// The flags the project allows a test browser: no sandbox (CI runs as
// root), no GPU, and nothing that reaches the network on its own.
const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-quic",
];
const JOB_TIME_LIMIT_MS = 240_000;

function skip(reason) {
  console.log(`SKIP: ${reason}`);
  process.exit(SKIP);
}

function load_playwright() {
  try {
    return createRequire(path.join(root, "package.json"))("playwright-core");
  } catch {
    return skip("playwright-core is not installed (run scripts/setup)");
  }
}

function free_port() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function start_server(tmp, env = {}) {
  const port = await free_port();
  const log = fs.openSync(path.join(tmp, "serve.log"), "w");
  const child = spawn(binary, ["serve", "--host", "127.0.0.1", "--port", String(port), "--data", path.join(tmp, "data"),
                               "--workers", "2"], { stdio: ["ignore", log, log], env: { ...process.env, ...env } });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) throw new Error(`visor serve exited: ${fs.readFileSync(path.join(tmp, "serve.log"))}`);
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("visor serve did not answer within 30 s");
}

async function submit_and_wait(page, model, name, dpi = "100") {
  await page.setInputFiles("#file", pdf_path);
  await page.selectOption("#model", model);
  await page.fill("#dpi", dpi);
  await page.click("#submit");
  // The button stays disabled until the reply opened the new job's view;
  // until then the previous job's finished progress is still on screen.
  await page.waitForSelector("#submit:not([disabled])");
  await page.waitForSelector("#job:not([hidden])");
  // All pages can be done a moment before the job is: wait for both.
  await page.waitForFunction(() => document.querySelector("#progress-text")?.dataset.percent === "100" &&
                             document.querySelector("#job-status")?.textContent !== "running",
                             null, { timeout: JOB_TIME_LIMIT_MS });
  // The bar animates its width; wait until it is full before the screenshot.
  await page.waitForFunction(() => {
    const bar = document.querySelector("#progress-bar");
    return Math.abs(bar.getBoundingClientRect().width - bar.parentElement.getBoundingClientRect().width) < 1;
  });
  assert.equal(await page.textContent("#job-status"), "completed");
  assert.match(await page.textContent("#progress-text"), /^3 of 3 pages done/);
  assert.equal(await page.isVisible("#job-error"), false, "no error for a good PDF");
  await page.waitForFunction(() => [...document.querySelectorAll(".page-image")].every((i) => i.complete && i.naturalWidth));
  await page.screenshot({ path: path.join(shots, name), fullPage: true });
}

async function check_dotsocr(page) {
  await submit_and_wait(page, "dotsocr", "dotsocr.png");
  assert.equal(await page.locator(".page").count(), 3, "one card per page");
  const boxes = await page.locator(".box").count();
  assert.ok(boxes > 3, `boxes drawn on the pages (${boxes})`);
  assert.equal(await page.locator(".elements li").count(), boxes, "one list entry per box");
  // Boxes are placed inside the page image.
  const inside = await page.$$eval(".page", (cards) => cards.every((card) => {
    const figure = card.querySelector(".page-figure").getBoundingClientRect();
    return [...card.querySelectorAll(".box")].every((b) => {
      const r = b.getBoundingClientRect();
      return r.width > 0 && r.left >= figure.left - 1 && r.right <= figure.right + 1 && r.bottom <= figure.bottom + 1;
    });
  }));
  assert.ok(inside, "every box lies within its page image");
  // Hovering a list entry highlights its box.
  await page.hover(".elements li >> nth=4");
  assert.equal(await page.locator(".box.active").count(), 1);
  await page.screenshot({ path: path.join(shots, "web-ui.png") });

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-json")]);
  const saved = path.join(shots, "result.json");
  await download.saveAs(saved);
  const result = JSON.parse(fs.readFileSync(saved, "utf8"));
  assert.equal(result.status, "completed");
  assert.equal(result.model, "dotsocr");
  assert.deepEqual(Object.keys(result.results), ["page_0", "page_1", "page_2"]);
  assert.ok(result.results.page_0.data.length > 0);
  return result.job_id;
}

async function check_lightonocr(page) {
  await submit_and_wait(page, "lightonocr", "lightonocr.png");
  const markdown = page.locator(".markdown");
  assert.equal(await markdown.count(), 3, "rendered Markdown beside each page");
  const blocks = await page.locator(".markdown p, .markdown h1, .markdown h2, .markdown li").count();
  assert.ok(blocks > 3, `Markdown rendered as HTML (${blocks} blocks)`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-md")]);
  const saved = path.join(shots, "result.md");
  await download.saveAs(saved);
  assert.ok(fs.readFileSync(saved, "utf8").trim().length > 100, "the Markdown download has the text");
}

async function check_recent_jobs(page, dotsocr_job) {
  await page.click("#refresh");
  await page.waitForFunction(() => document.querySelectorAll("#jobs li").length >= 2);
  await page.click(`#jobs li[data-id="${dotsocr_job}"]`);
  await page.waitForFunction(() => document.querySelectorAll(".box").length > 0 &&
                             document.querySelector("#job-status").textContent === "completed");
}

// A page selection reaches the API: one card, titled with its page of the document.
async function check_page_selection(page) {
  await page.setInputFiles("#file", pdf_path);
  await page.selectOption("#model", "dotsocr");
  await page.fill("#page-selection", "2");
  await page.click("#submit");
  await page.waitForSelector("#submit:not([disabled])");
  await page.waitForFunction(() => document.querySelector("#job-status")?.textContent === "completed",
                             null, { timeout: JOB_TIME_LIMIT_MS });
  await page.waitForFunction(() => document.querySelectorAll(".page .box").length > 0);
  assert.equal(await page.locator(".page").count(), 1, "one card for the one selected page");
  assert.equal(await page.textContent(".page .page-title"), "Page 2 of 3");
  assert.match(await page.textContent("#progress-text"), /^1 of 1 pages done/);
  await page.fill("#page-selection", "");
}

async function check_not_a_pdf(page) {
  await page.setInputFiles("#file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("just text\n") });
  await page.click("#submit");
  await page.waitForSelector("#upload-error:not([hidden])");
  const message = await page.textContent("#upload-error");
  assert.match(message, /PDF/i, `a plain error for a non-PDF: ${message}`);
  await page.screenshot({ path: path.join(shots, "not-a-pdf.png") });
}

// examples/sse_client_example.html served from another origin (as with
// `python3 -m http.server 8080`) must drive the API through CORS.
async function check_cross_origin_example(context, base) {
  const example = fs.readFileSync(path.join(root, "examples", "sse_client_example.html"));
  const other = http.createServer((_, response) => {
    response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    response.end(example);
  });
  await new Promise((resolve) => other.listen(0, "127.0.0.1", resolve));
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${other.address().port}/sse_client_example.html`);
    await page.fill("#api", base);
    await page.setInputFiles("#file", pdf_path);
    await page.fill("#dpi", "72");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.querySelector("#summary").textContent.startsWith("completed"),
                               null, { timeout: JOB_TIME_LIMIT_MS });
    assert.equal(await page.locator("#results section").count(), 3, "one result block per page");
    assert.equal(await page.isVisible("#error"), false);
    await page.screenshot({ path: path.join(shots, "example-cross-origin.png") });
    await page.close();
  } finally {
    other.close();
  }
}

// With keys configured, the UI asks for one, then sends it on every call:
// the header for fetch, ?api_key= for the stream and the page images.
async function check_api_key(context) {
  const key = "browser-key-0123456789abcdef";
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "visor-browser-keys-"));
  const { child, base } = await start_server(tmp, { VISOR_API_KEYS: key });
  try {
    const page = await context.newPage();
    await page.goto(base + "/");
    await page.waitForSelector("#key-form:not([hidden])");
    assert.match(await page.textContent("#key-error"), /API key/i);
    await page.fill("#api-key", key);
    await page.click("#key-form button[type=submit]");
    await page.waitForSelector("#key-error", { state: "hidden" });
    await submit_and_wait(page, "dotsocr", "with-api-key.png", "72");
    assert.ok(await page.locator(".box").count() > 3, "boxes drawn with the key");
    await page.close();
  } finally {
    child.kill("SIGTERM");
    if (!process.env.VISOR_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function main() {
  if (!fs.existsSync(chromium_path)) skip(`${chromium_path} is missing (scripts/setup installs Debian's chromium)`);
  if (!fs.existsSync(pdf_path)) skip(`corpus file ${pdf_path} is missing (set VISOR_CORPUS_DIR)`);
  const { chromium } = load_playwright();
  fs.mkdirSync(shots, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "visor-browser-"));
  const { child, base } = await start_server(tmp);
  // A fresh profile per run, so no state of an earlier run can leak in.
  const context = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: chromium_path, headless: true, args: CHROMIUM_FLAGS, acceptDownloads: true,
    viewport: { width: 1400, height: 1000 },
  });
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(base + "/");
    assert.equal(await page.title(), "Visor OCR");
    const dotsocr_job = await check_dotsocr(page);
    await check_lightonocr(page);
    await check_recent_jobs(page, dotsocr_job);
    await check_page_selection(page);
    await page.screenshot({ path: path.join(shots, "recent-jobs.png"), fullPage: true });
    await check_not_a_pdf(page);
    await check_cross_origin_example(context, base);
    await check_api_key(context);
    await page.goto(base + "/docs");
    await page.waitForSelector(".opblock", { timeout: 30_000 });
    await page.screenshot({ path: path.join(shots, "docs.png") });
    assert.deepEqual(errors, [], "no JavaScript errors on the pages");
    console.log(`browser test passed; screenshots in ${shots}`);
  } finally {
    await context.close();
    child.kill("SIGTERM");
    if (!process.env.VISOR_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
