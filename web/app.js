// Visor's web UI: upload, follow a job over SSE, show each page as it is
// done, list recent jobs, link to the server's downloads. Plain browser
// JavaScript; everything it loads is served by visor itself (no CDN). The
// API is the one in /openapi.json.
"use strict";

const CATEGORY_COLOURS = {
  Text: "#00c000", Title: "#ff0000", "Section-header": "#ff00ff", Picture: "#00bcd4", Table: "#e0b000",
  Formula: "#ffa500", Caption: "#ff7f9f", Footnote: "#808080", "List-item": "#52c452",
  "Page-header": "#5aaee0", "Page-footer": "#b070b0",
};
const PAGE_IMAGE_DPI = 110;          // enough to read on screen, light to send
const RECONNECT_DELAYS_MS = [1000, 2000, 5000, 10000];
const JOBS_PAGE_SIZE = 15;

const $ = (id) => document.getElementById(id);
const API_KEY_STORAGE = "visor.api_key";

// The API key, when the server wants one (it answers 401 without). Kept in
// this browser's local storage only.
let api_key = localStorage.getItem(API_KEY_STORAGE) || "";

// ---------------------------------------------------------------------------
// Small helpers

async function api(path, options = {}) {
  let response;
  const headers = { ...(options.headers || {}) };
  if (api_key) headers.Authorization = "Bearer " + api_key;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (err) {
    throw new Error("The server cannot be reached (" + err.message + "). Is visor still running?");
  }
  const type = response.headers.get("Content-Type") || "";
  const body = type.includes("application/json") ? await response.json() : await response.text();
  if (response.status === 401) ask_for_api_key(body && body.detail);
  return { status: response.status, ok: response.ok, body };
}

// URLs the browser loads itself (EventSource, <img>) cannot carry headers:
// the key goes in the query, which the server accepts there only.
function with_key(url) {
  if (!api_key) return url;
  return url + (url.includes("?") ? "&" : "?") + "api_key=" + encodeURIComponent(api_key);
}

function ask_for_api_key(reason) {
  $("key-form").hidden = false;
  show($("key-error"), api_key ? "The saved API key was refused: " + (reason || "") : reason || "This server needs an API key.");
}

function setup_api_key() {
  $("api-key").value = api_key;
  $("key-form").hidden = !api_key;
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    api_key = $("api-key").value.trim();
    if (api_key) localStorage.setItem(API_KEY_STORAGE, api_key);
    else localStorage.removeItem(API_KEY_STORAGE);
    show($("key-error"), "");
    // Download links carry the key they were made with.
    if (current.job) update_downloads(current.job, $("job-status").textContent);
    load_jobs();
  });
}

// The message a person should read for an API error body.
function describe_error(result) {
  const body = result.body;
  if (body && typeof body === "object") return body.detail || body.error || body.message || JSON.stringify(body);
  return "HTTP " + result.status + (body ? ": " + String(body).slice(0, 200) : "");
}

function show(element, text) {
  element.textContent = text || "";
  element.hidden = !text;
}

function format_seconds(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? s + " s" : Math.floor(s / 60) + " min " + (s % 60) + " s";
}

function format_time(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

// OCR output is text from the user's document: any HTML in it (LightOnOCR
// tables) is kept only as inert markup. Scripts, frames, styles, event
// handlers and javascript: links are removed.
function sanitize_html(html) {
  const template = document.createElement("template");
  template.innerHTML = html;
  template.content.querySelectorAll("script,style,iframe,object,embed,link,meta,form,base").forEach((n) => n.remove());
  template.content.querySelectorAll("*").forEach((element) => {
    for (const attribute of [...element.attributes]) {
      const value = attribute.value.trim().toLowerCase();
      if (attribute.name.startsWith("on") || value.startsWith("javascript:") || value.startsWith("data:text")) {
        element.removeAttribute(attribute.name);
      }
    }
  });
  return template.innerHTML;
}

function render_markdown(markdown) {
  const container = document.createElement("div");
  container.className = "markdown";
  if (window.marked && typeof window.marked.parse === "function") {
    container.innerHTML = sanitize_html(window.marked.parse(markdown));
  } else {
    const pre = document.createElement("pre");
    pre.textContent = markdown;
    container.append(pre);
  }
  return container;
}

// ---------------------------------------------------------------------------
// One page on screen

function page_card(job, index) {
  let card = document.querySelector(`.page[data-index="${index}"]`);
  if (card) return card;
  card = $("page-template").content.firstElementChild.cloneNode(true);
  card.dataset.index = index;
  card.querySelector(".page-title").textContent = `Page ${index + 1} of ${job.document_pages || job.total_pages}`;
  const image = card.querySelector(".page-image");
  image.alt = `Page ${index + 1}`;
  image.src = with_key(`/ocr/page/${job.job_id}/${index}?dpi=${Math.min(PAGE_IMAGE_DPI, job.dpi)}`);
  // Keep cards in page order whatever order pages finish in.
  const later = [...$("pages").children].find((c) => Number(c.dataset.index) > index);
  $("pages").insertBefore(card, later || null);
  return card;
}

function link_hover(box, item) {
  const on = () => { box.classList.add("active"); item.classList.add("active"); };
  const off = () => { box.classList.remove("active"); item.classList.remove("active"); };
  for (const element of [box, item]) {
    element.addEventListener("mouseenter", on);
    element.addEventListener("mouseleave", off);
  }
}

// Boxes are pixels of the page at the job's DPI; the image is smaller, so
// they are placed in percent of the image once its size is known.
function draw_boxes(card, job, elements) {
  const image = card.querySelector(".page-image");
  const layer = card.querySelector(".boxes");
  const list = document.createElement("ol");
  list.className = "elements";
  const boxes = elements.map((element) => {
    const colour = CATEGORY_COLOURS[element.category] || "#888";
    const box = Object.assign(document.createElement("div"), { className: "box" });
    box.style.borderColor = colour;
    box.title = element.category + (element.text ? ": " + element.text.slice(0, 120) : "");
    box.dataset.category = element.category;
    layer.append(box);
    const item = document.createElement("li");
    item.style.borderLeftColor = colour;
    const category = Object.assign(document.createElement("span"), { className: "category", textContent: element.category });
    item.append(category, document.createTextNode(element.text || "(picture)"));
    list.append(item);
    link_hover(box, item);
    return [box, element.bbox];
  });
  const place = () => {
    const scale = Math.min(PAGE_IMAGE_DPI, job.dpi) / job.dpi;
    const width = image.naturalWidth / scale, height = image.naturalHeight / scale;
    for (const [box, [x1, y1, x2, y2]] of boxes) {
      Object.assign(box.style, {
        left: (100 * x1 / width) + "%", top: (100 * y1 / height) + "%",
        width: (100 * (x2 - x1) / width) + "%", height: (100 * (y2 - y1) / height) + "%",
      });
    }
  };
  if (image.complete && image.naturalWidth) place(); else image.addEventListener("load", place, { once: true });
  return list;
}

function show_page(job, index, result) {
  const card = page_card(job, index);
  if (card.dataset.done) return;
  card.dataset.done = "1";
  const content = card.querySelector(".page-content");
  if (result.status !== "success") {
    content.append(Object.assign(document.createElement("p"), {
      className: "page-error", textContent: "This page could not be recognised: " + result.error,
    }));
    return;
  }
  content.append(job.model === "dotsocr" ? draw_boxes(card, job, result.data) : render_markdown(result.data));
}

// ---------------------------------------------------------------------------
// The current job

const current = { job: null, source: null, last_event_id: "", started: 0, timer: 0, retries: 0 };

function stop_following() {
  if (current.source) current.source.close();
  current.source = null;
  clearInterval(current.timer);
  current.timer = 0;
}

function set_progress(job, status) {
  const done = job.progress ? job.progress.pages_done : 0;
  const total = job.total_pages || (job.progress && job.progress.total_pages) || 0;
  const percent = total ? Math.round((100 * done) / total) : 0;
  const bar = $("progress-bar");
  bar.style.width = (status === "completed" ? 100 : percent) + "%";
  bar.classList.toggle("done", status === "completed");
  bar.classList.toggle("bad", status === "failed" || status === "expired" || status === "cancelled");
  $("cancel-job").hidden = !(status === "pending" || status === "running");
  update_downloads(job, status);
  bar.parentElement.setAttribute("aria-valuenow", String(status === "completed" ? 100 : percent));
  const badge = $("job-status");
  badge.textContent = status;
  badge.className = "badge " + status;
  const elapsed = current.started ? format_seconds((Date.now() - current.started) / 1000) : "";
  $("progress-text").textContent =
    `${status === "completed" ? total : done} of ${total} pages done` + (elapsed ? ` · ${elapsed} elapsed` : "");
  $("progress-text").dataset.percent = String(status === "completed" ? 100 : percent);
}

function open_job_view(job) {
  stop_following();
  current.job = job;
  current.last_event_id = "";
  current.retries = 0;
  current.started = job.submitted_at ? Date.parse(job.submitted_at) : Date.now();
  $("welcome").hidden = true;
  $("job").hidden = false;
  $("job-title").textContent = `${job.filename} · ${job.model} · ${job.dpi} dpi`;
  $("pages").replaceChildren();
  show($("job-error"), "");
  show($("job-notice"), "");
  update_downloads(job, job.status);
  document.querySelectorAll(".jobs li").forEach((li) => li.classList.toggle("current", li.dataset.id === job.job_id));
}

function finish_with_result(result) {
  for (const [key, page] of Object.entries(result.results)) show_page(current.job, Number(key.slice(5)), page);
  const failed = Object.values(result.results).filter((p) => p.status !== "success").length;
  if (failed) show($("job-notice"), `${failed} page(s) could not be recognised; the others are shown.`);
  set_progress({ ...current.job, progress: { pages_done: current.job.total_pages } }, "completed");
}

function finish_with_error(message, status) {
  stop_following();
  show($("job-error"), message);
  set_progress(current.job, status);
  load_jobs();
}

// Follows the job's stream with page events. EventSource reconnects by
// itself after a network error and sends Last-Event-ID, so no page arrives
// twice; when it gives up (or the stream timed out) we open a new one that
// resumes from the last id.
function follow(job) {
  stop_following();
  const query = "?pages=true" + (current.last_event_id ? "&last_event_id=" + encodeURIComponent(current.last_event_id) : "");
  const source = new EventSource(with_key(`/ocr/stream/${job.job_id}${query}`));
  current.source = source;
  current.timer = setInterval(() => set_progress(current.job, $("job-status").textContent || "pending"), 1000);
  const on = (name, handle) => source.addEventListener(name, (event) => {
    // A lost connection also fires "error", without data: onerror handles it.
    if (typeof event.data !== "string" || source !== current.source) return;
    if (event.lastEventId) current.last_event_id = event.lastEventId;
    current.retries = 0;
    show($("job-notice"), "");
    handle(JSON.parse(event.data));
  });
  on("status", (data) => {
    current.job.progress = data.progress;
    set_progress(current.job, data.status);
  });
  on("page", (data) => show_page(current.job, data.page_index, data.result));
  on("result", (data) => {
    finish_with_result(data);
    load_jobs();
  });
  on("error", (data) => {
    const status = data.status === "cancelled" ? "cancelled" : data.error && data.error.includes("expired") ? "expired" : "failed";
    finish_with_error(data.error, status);
  });
  on("timeout", () => {
    stop_following();
    follow(current.job);  // the job goes on: keep watching
  });
  on("close", () => stop_following());
  source.onerror = () => {
    if (source !== current.source) return;
    if (source.readyState === EventSource.CONNECTING) {
      show($("job-notice"), "Connection lost; reconnecting…");
      return;
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(current.retries, RECONNECT_DELAYS_MS.length - 1)];
    current.retries += 1;
    show($("job-notice"), `Connection lost; trying again in ${delay / 1000} s…`);
    stop_following();
    setTimeout(() => { if (current.job === job) reopen(job.job_id, true); }, delay);
  };
}

// Shows any job by id: a finished job from its result, a running one by
// following its stream.
async function reopen(job_id, quiet) {
  let status;
  try {
    status = await api(`/ocr/status/${job_id}`);
  } catch (err) {
    if (quiet && current.job && current.job.job_id === job_id) {
      current.source = null;
      setTimeout(() => reopen(job_id, true), RECONNECT_DELAYS_MS[RECONNECT_DELAYS_MS.length - 1]);
      show($("job-notice"), err.message + " Trying again…");
      return;
    }
    throw err;
  }
  if (!status.ok) throw new Error(describe_error(status));
  const job = status.body;
  if (!quiet || !current.job || current.job.job_id !== job_id) open_job_view(job);
  current.job = { ...current.job, ...job };
  set_progress(current.job, job.status);
  if (job.status === "pending" || job.status === "running") return follow(current.job);
  if (job.status === "failed") return finish_with_error("The job failed: " + job.error, "failed");
  if (job.status === "expired") return finish_with_error(job.message, "expired");
  if (job.status === "cancelled") return finish_with_error(job.error, "cancelled");
  const result = await api(`/ocr/result/${job_id}`);
  if (!result.ok) return finish_with_error(describe_error(result), result.body.status || "failed");
  finish_with_result(result.body);
}

// ---------------------------------------------------------------------------
// Upload

function chosen_file() {
  return $("file").files[0] || null;
}

function choose(file) {
  const transfer = new DataTransfer();
  transfer.items.add(file);
  $("file").files = transfer.files;
  on_file_chosen();
}

function on_file_chosen() {
  const file = chosen_file();
  $("drop-text").textContent = file ? `${file.name} (${Math.ceil(file.size / 1024)} KiB)` : "Drop a PDF or image here or choose a file";
  $("drop").classList.toggle("chosen", !!file);
  show($("upload-error"), "");
}

async function submit(event) {
  event.preventDefault();
  const file = chosen_file();
  if (!file) return show($("upload-error"), "Choose a PDF or image first.");
  const form = new FormData();
  form.append("file", file, file.name);
  const query = new URLSearchParams({ model: $("model").value, dpi: $("dpi").value });
  if ($("ocr-mode").value) query.set("ocr_mode", $("ocr-mode").value);
  if ($("page-selection").value.trim()) query.set("pages", $("page-selection").value.trim());
  $("submit").disabled = true;
  show($("upload-error"), "");
  try {
    const reply = await api(`/ocr/submit?${query}`, { method: "POST", body: form });
    if (!reply.ok) return show($("upload-error"), describe_error(reply));
    open_job_view({ ...reply.body, status: "pending", progress: { pages_done: 0, total_pages: reply.body.total_pages } });
    set_progress(current.job, "pending");
    follow(current.job);
    load_jobs();
  } catch (err) {
    show($("upload-error"), err.message);
  } finally {
    $("submit").disabled = false;
  }
}

function setup_drop_zone() {
  const zone = $("drop");
  const over = (on) => (event) => { event.preventDefault(); zone.classList.toggle("over", on); };
  zone.addEventListener("dragenter", over(true));
  zone.addEventListener("dragover", over(true));
  zone.addEventListener("dragleave", over(false));
  zone.addEventListener("drop", (event) => {
    over(false)(event);
    const file = event.dataTransfer.files[0];
    if (file) choose(file);
  });
  $("file").addEventListener("change", on_file_chosen);
}

// ---------------------------------------------------------------------------
// Recent jobs

let jobs_cursor = null;

function job_item(job) {
  const item = document.createElement("li");
  item.dataset.id = job.job_id;
  item.classList.toggle("current", !!current.job && current.job.job_id === job.job_id);
  const name = Object.assign(document.createElement("span"), { className: "name", textContent: job.filename });
  const badge = Object.assign(document.createElement("span"), { className: "badge " + job.status, textContent: job.status });
  const meta = Object.assign(document.createElement("span"), {
    className: "meta",
    textContent: `${job.model} · ${job.progress.pages_done}/${job.total_pages} pages · ${format_time(job.submitted_at)}`,
  });
  item.append(name, badge, meta);
  item.addEventListener("click", () => reopen(job.job_id).catch((err) => show($("job-error"), err.message)));
  return item;
}

async function load_jobs(more) {
  const query = new URLSearchParams({ limit: String(JOBS_PAGE_SIZE) });
  if (more && jobs_cursor) query.set("cursor", jobs_cursor);
  try {
    const reply = await api(`/ocr/jobs?${query}`);
    if (!reply.ok) return show($("jobs-error"), describe_error(reply));
    show($("jobs-error"), "");
    const items = reply.body.jobs.map(job_item);
    if (more) $("jobs").append(...items); else $("jobs").replaceChildren(...items);
    jobs_cursor = reply.body.next_cursor;
    $("more-jobs").hidden = !jobs_cursor;
  } catch (err) {
    show($("jobs-error"), err.message);
  }
}

// ---------------------------------------------------------------------------
// Downloads: the server builds each file (GET /ocr/download/{id}/{format})
// and names it after the upload, so the menu holds plain links to it and
// the browser saves what the server sends.

function download_links() {
  return $("downloads").querySelectorAll("a[data-format]");
}

// Only a completed job has downloads. Before that the menu is disabled and
// its links have no href, which also takes them out of the tab order.
function update_downloads(job, status) {
  const ready = status === "completed";
  $("downloads-toggle").disabled = !ready;
  if (!ready) show_download_menu(false);
  for (const link of download_links()) {
    // A link cannot send the Authorization header: the key goes in the query.
    if (ready) link.href = with_key(`/ocr/download/${job.job_id}/${link.dataset.format}`);
    else link.removeAttribute("href");
  }
}

function show_download_menu(open) {
  $("downloads").hidden = !open;
  $("downloads-toggle").setAttribute("aria-expanded", String(open));
}

// A disclosure: the button opens the list, Tab walks its links. Escape, a
// chosen download, a click elsewhere or the focus leaving closes it.
function setup_download_menu() {
  const toggle = $("downloads-toggle");
  const menu = $("downloads");
  const holder = menu.parentElement;
  toggle.addEventListener("click", () => show_download_menu(menu.hidden));
  holder.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || menu.hidden) return;
    show_download_menu(false);
    toggle.focus();
  });
  menu.addEventListener("click", (event) => { if (event.target.closest("a")) show_download_menu(false); });
  holder.addEventListener("focusout", (event) => {
    if (!holder.contains(event.relatedTarget)) show_download_menu(false);
  });
  document.addEventListener("click", (event) => { if (!holder.contains(event.target)) show_download_menu(false); });
}

// ---------------------------------------------------------------------------

async function cancel_current_job() {
  const job = current.job;
  const reply = await api(`/ocr/jobs/${job.job_id}`, { method: "DELETE" });
  if (!reply.ok) return show($("job-error"), describe_error(reply));
  finish_with_error(reply.body.error, "cancelled");
}

setup_api_key();
setup_drop_zone();
setup_download_menu();
$("cancel-job").addEventListener("click", () => cancel_current_job().catch((err) => show($("job-error"), err.message)));
$("upload").addEventListener("submit", submit);
$("refresh").addEventListener("click", () => load_jobs());
$("more-jobs").addEventListener("click", () => load_jobs(true));
load_jobs();
const opened = new URLSearchParams(location.search).get("job");
if (opened) reopen(opened).catch((err) => show($("job-error"), err.message));
