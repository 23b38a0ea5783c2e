// The web UI in a real browser: Debian's chromium driven by playwright-core
// (never a browser that Playwright downloads). Starts `visor serve` on a
// free port, uploads a corpus PDF, watches the progress reach 100 %, checks
// boxes (dotsocr) and rendered Markdown (lightonocr), checks the download
// menu (disabled until the job completes, then links to the server's four
// downloads), reopens a job from the recent list, sees the error for a
// non-PDF, and works against a server with API keys once the key is entered.
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
// What the download menu offers: GET /ocr/download/{job_id}/{format}, each
// named after the uploaded file by the server.
const DOWNLOADS = [
  { format: "pdf", label: "Searchable PDF", type: "application/pdf", name: ".ocr.pdf" },
  { format: "md", label: "Markdown", type: "text/markdown", name: ".md" },
  { format: "txt", label: "Plain text", type: "text/plain", name: ".txt" },
  { format: "json", label: "JSON", type: "application/json", name: ".json" },
];
const uploaded_stem = path.basename(pdf_path, ".pdf");

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

// Records the download menu's state each time the job's status badge
// changes, so that the test sees it before completion however fast the
// job is. Read and cleared by check_downloads_wait_for_completion.
async function watch_download_menu(page) {
  await page.evaluate(() => {
    window.download_menu_states = [];
    const badge = document.querySelector("#job-status");
    new MutationObserver(() => window.download_menu_states.push({
      status: badge.textContent,
      disabled: document.querySelector("#downloads-toggle").disabled,
      links: document.querySelectorAll("#downloads a[href]").length,
    })).observe(badge, { childList: true, characterData: true, subtree: true });
  });
}

async function check_downloads_wait_for_completion(page) {
  const states = await page.evaluate(() => window.download_menu_states.splice(0));
  const unfinished = states.filter((state) => state.status !== "completed");
  assert.ok(unfinished.length > 0, "the menu was seen before the job completed");
  for (const state of unfinished) {
    assert.deepEqual(state, { status: state.status, disabled: true, links: 0 }, "no downloads before completion");
  }
  assert.equal(await page.isEnabled("#downloads-toggle"), true, "downloads once the job completed");
}

async function submit_and_wait(page, model, name, dpi = "100") {
  await page.setInputFiles("#file", pdf_path);
  await page.selectOption("#model", model);
  await page.fill("#dpi", dpi);
  const [submitted] = await Promise.all([
    page.waitForResponse((response) => new URL(response.url()).pathname === "/ocr/submit"),
    page.click("#submit"),
  ]);
  assert.ok(submitted.ok(), `the job was accepted (${submitted.status()})`);
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
  await check_downloads_wait_for_completion(page);
  return (await submitted.json()).job_id;
}

// The menu's links, by their label.
async function download_links(page) {
  return page.$$eval("#downloads a", (links) => links.map((a) => ({
    label: a.firstChild.textContent.trim(), href: a.getAttribute("href"),
  })));
}

// The menu offers the four downloads of `job_id` (with the key when the UI
// holds one), and each link, fetched as the page would, is the server's file.
async function check_download_links(page, job_id, key = "") {
  const links = await download_links(page);
  assert.deepEqual(links.map((link) => link.label), DOWNLOADS.map((d) => d.label), "the four downloads");
  for (const [index, expected] of DOWNLOADS.entries()) {
    const query = key ? "?api_key=" + encodeURIComponent(key) : "";
    assert.equal(links[index].href, `/ocr/download/${job_id}/${expected.format}${query}`, expected.label);
    const reply = await page.evaluate(async (href) => {
      const response = await fetch(href);
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        status: response.status, type: response.headers.get("Content-Type"),
        disposition: response.headers.get("Content-Disposition"),
        head: String.fromCharCode(...bytes.slice(0, 5)), text: new TextDecoder().decode(bytes),
      };
    }, links[index].href);
    assert.equal(reply.status, 200, `${expected.label}: ${reply.text.slice(0, 200)}`);
    assert.ok(reply.type.startsWith(expected.type), `${expected.label} is ${reply.type}`);
    assert.ok(reply.disposition.startsWith(`attachment; filename="${uploaded_stem}${expected.name}"`),
              `${expected.label} is named after the upload: ${reply.disposition}`);
    if (expected.format === "pdf") assert.equal(reply.head, "%PDF-", "the searchable PDF is a PDF");
    else assert.ok(reply.text.trim().length > 100, `${expected.label} has the text`);
    if (expected.format === "json") {
      const result = JSON.parse(reply.text);
      assert.equal(result.job_id, job_id);
      assert.equal(result.status, "completed");
      assert.deepEqual(Object.keys(result.results), ["page_0", "page_1", "page_2"]);
    }
  }
}

// A person with a keyboard: Enter opens the menu, Tab reaches a download,
// Enter saves it under the server's name; Escape closes the menu.
async function save_with_keyboard(page, label, filename) {
  await page.focus("#downloads-toggle");
  await page.keyboard.press("Enter");
  assert.equal(await page.getAttribute("#downloads-toggle", "aria-expanded"), "true");
  await page.waitForSelector("#downloads", { state: "visible" });
  const position = DOWNLOADS.findIndex((d) => d.label === label);
  for (let i = 0; i <= position; i += 1) await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.firstChild.textContent.trim()), label);
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  assert.equal(download.suggestedFilename(), filename, "the browser saves the server's file name");
  const saved = path.join(shots, filename);
  await download.saveAs(saved);
  await page.waitForSelector("#downloads", { state: "hidden" });
  await page.click("#downloads-toggle");
  await page.keyboard.press("Escape");
  await page.waitForSelector("#downloads", { state: "hidden" });
  assert.equal(await page.evaluate(() => document.activeElement.id), "downloads-toggle", "Escape returns the focus");
  return fs.readFileSync(saved, "utf8");
}

async function check_dotsocr(page) {
  const job_id = await submit_and_wait(page, "dotsocr", "dotsocr.png");
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

  await check_download_links(page, job_id);
  await page.click("#downloads-toggle");
  await page.screenshot({ path: path.join(shots, "download-menu.png") });
  await page.keyboard.press("Escape");
  return job_id;
}

async function check_lightonocr(page) {
  await submit_and_wait(page, "lightonocr", "lightonocr.png");
  const markdown = page.locator(".markdown");
  assert.equal(await markdown.count(), 3, "rendered Markdown beside each page");
  const blocks = await page.locator(".markdown p, .markdown h1, .markdown h2, .markdown li").count();
  assert.ok(blocks > 3, `Markdown rendered as HTML (${blocks} blocks)`);
  const markdown_file = await save_with_keyboard(page, "Markdown", `${uploaded_stem}.md`);
  assert.ok(markdown_file.trim().length > 100, "the Markdown download has the text");
}

async function check_recent_jobs(page, dotsocr_job) {
  await page.click("#refresh");
  await page.waitForFunction(() => document.querySelectorAll("#jobs li").length >= 2);
  await page.click(`#jobs li[data-id="${dotsocr_job}"]`);
  await page.waitForFunction(() => document.querySelectorAll(".box").length > 0 &&
                             document.querySelector("#job-status").textContent === "completed");
  // The menu follows the job on screen, not the last one submitted.
  const links = await download_links(page);
  assert.ok(links.every((link) => link.href.startsWith(`/ocr/download/${dotsocr_job}/`)),
            "downloads of the reopened job");
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
  await check_downloads_wait_for_completion(page);
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
    await watch_download_menu(page);
    const job_id = await submit_and_wait(page, "dotsocr", "with-api-key.png", "72");
    assert.ok(await page.locator(".box").count() > 3, "boxes drawn with the key");
    await check_download_links(page, job_id, key);
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
    await watch_download_menu(page);
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
