// The sandbox console: plain browser JavaScript, no build step, no third-party code.
// Every call goes to this page's own origin (/__mock/...), as JSON, with the admin token when one is set.
"use strict";

const TOKEN_KEY = "mocks-admin-token";
const JOURNAL_KEEP = 500;      // entries the page keeps; the sandbox's journal is bounded too
const STATE_PAGE_SIZE = 20;
const REFRESH_MS = 2000;

const $ = (selector, root = document) => root.querySelector(selector);

/** An element with text children only: nothing from the sandbox is ever parsed as HTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("data-")) node.setAttribute(name, value);
    else if (name in node) node[name] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const json = (value) => JSON.stringify(value, null, 2);
const iso = (seconds) => new Date(seconds * 1000).toISOString();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function status(message, isError = false) {
  const node = $("#status");
  node.textContent = message;
  node.classList.toggle("error", isError);
}

// --- the admin API ----------------------------------------------------------------------------

let askingForToken = null;

function askToken() {
  if (!askingForToken) {
    askingForToken = new Promise((resolve) => {
      const dialog = $("#token-dialog");
      const form = $("#token-form");
      form.onsubmit = (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, $("#token-input").value);
        dialog.close();
        askingForToken = null;
        resolve();
      };
      if (!dialog.open) dialog.showModal();
    });
  }
  return askingForToken;
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Fetch /__mock{path}; asks for the admin token on 401 and tries again with it. */
async function call(method, path, { body, raw } = {}) {
  for (;;) {
    const headers = { Accept: "application/json", ...authHeaders() };
    const options = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET" && method !== "HEAD") {
      headers["Content-Type"] = "application/json";  // every write is JSON, as the admin API requires
      options.body = raw !== undefined ? raw : JSON.stringify(body ?? {});
    }
    const response = await fetch(`/__mock${path}`, options);
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askToken();
      continue;
    }
    return response;
  }
}

async function admin(method, path, body) {
  const response = await call(method, path, { body });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${method} ${path}: ${response.status}`);
  return data;
}

/** Save what an admin GET answers as a file (HAR, snapshot): fetched with the token, then handed over. */
async function download(path, fallbackName) {
  const response = await call("GET", path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  const disposition = response.headers.get("content-disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return name;
}

async function copy(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea", { value: text });  // no clipboard permission: select it for Ctrl-C
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1200);
  }
}

const SKIPPED_IN_CURL = new Set(["host", "content-length", "connection", "accept-encoding", "user-agent"]);

function curlOf(method, url, headers, body) {
  const quote = (text) => `'${String(text).replaceAll("'", "'\\''")}'`;
  const words = ["curl", "-i"];
  if (method !== "GET") words.push("-X", method);
  words.push(quote(url));
  for (const [name, value] of Object.entries(headers || {})) {
    if (!SKIPPED_IN_CURL.has(name.toLowerCase())) words.push("-H", quote(`${name}: ${value}`));
  }
  if (body) words.push("--data-raw", quote(body));
  return words.join(" ");
}

// --- panels -----------------------------------------------------------------------------------

let facts = null;
const panels = {};

function showPanel(name) {
  for (const button of document.querySelectorAll("#tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.panel === name));
  }
  for (const section of document.querySelectorAll("main > .panel")) section.hidden = section.id !== name;
  history.replaceState(null, "", `#${name}`);
  refresh(name);
}

function visiblePanel() {
  const section = document.querySelector("main > .panel:not([hidden])");
  return section ? section.id : null;
}

async function refresh(name = visiblePanel()) {
  const panel = panels[name];
  if (!panel || !panel.refresh) return;
  try {
    await panel.refresh();
  } catch (error) {
    status(error.message, true);
  }
}

panels.overview = {
  async refresh() {
    const list = $("#base-urls");
    list.replaceChildren(...Object.entries(facts.base_urls).map(([listener, url]) =>
      el("li", {}, el("strong", {}, listener), " ", el("code", {}, url), " ",
         el("button", { type: "button", class: "small", onclick: (e) => copy(url, e.target) }, "Copy"))));
    const example = facts.example;
    $("#example-operation").textContent = example ? `${example.method} ${example.path}` : "an operation";
    const origin = new URL(facts.base_urls[Object.keys(facts.base_urls)[0]]).origin;
    $("#credentials").replaceChildren(...facts.credentials.map((credential) => {
      const values = Object.entries(credential.schemes || {}).map(([scheme, value]) =>
        el("li", {}, `${scheme}: `, el("code", {}, value), " ",
           el("button", { type: "button", class: "small", onclick: (e) => copy(String(value), e.target) }, "Copy")));
      const curl = example ? curlOf(example.method, origin + example.path, credential.headers) : "";
      return el("article", { class: "card", "data-principal": credential.principal },
        el("h3", {}, credential.principal, " ", el("small", {}, `scopes: ${credential.scopes.join(", ")}`)),
        el("p", {}, credential.description || ""),
        el("ul", {}, values),
        credential.grant ? el("p", { class: "hint" }, "Log-in grant: ",
          el("code", {}, Object.entries(credential.grant).map(([k, v]) => `${k}=${v}`).join(" "))) : null,
        curl ? el("div", { class: "row" }, el("pre", { class: "curl" }, curl),
          el("button", { type: "button", class: "small", onclick: (e) => copy(curl, e.target) }, "Copy curl")) : null);
    }));
  },
};

panels.scenarios = {
  loaded: false,
  async refresh() {
    if (this.loaded) return;  // the list only changes with the files: keep results on screen
    const { scenarios } = await admin("GET", "/scenarios");
    $("#scenario-list").replaceChildren(...scenarios.map((scenario) => {
      const result = el("div", { class: "result" });
      const load = el("button", { type: "button", "data-action": "load", onclick: () => this.load(scenario, result) }, "Load");
      const check = el("button", { type: "button", "data-action": "check", onclick: () => this.check(scenario, result) }, "Run check");
      return el("article", { class: "card", "data-scenario": scenario.name },
        el("h3", {}, scenario.name), el("p", {}, scenario.summary), el("div", { class: "row" }, load, check), result);
    }));
    if (!scenarios.length) $("#scenario-list").append(el("p", { class: "hint" }, "No scenarios for this API."));
    this.loaded = true;
  },
  async load(scenario, result) {
    try {
      const loaded = await admin("POST", `/scenarios/${encodeURIComponent(scenario.name)}`);
      result.replaceChildren(el("p", {}, `Loaded. ${loaded.faults.length} fault(s) installed:`),
        el("ul", { class: "scenario-faults" }, loaded.faults.map((fault) => el("li", {}, describeFault(fault)))));
      status(`scenario ${scenario.name} loaded`);
    } catch (error) {
      result.replaceChildren(el("p", { class: "error" }, error.message));
    }
  },
  async check(scenario, result) {
    result.replaceChildren(el("p", {}, "Running the scenario's steps…"));
    try {
      const report = await admin("POST", `/scenarios/${encodeURIComponent(scenario.name)}/check`);
      result.replaceChildren(
        el("p", { class: report.passed ? "pass" : "fail" }, report.passed ? "Every step passed" : "A step failed"),
        el("ol", { class: "steps" }, report.steps.map((step) =>
          el("li", { class: step.passed ? "pass" : "fail" }, `${step.passed ? "pass" : "FAIL"} · ${step.request}: ${step.detail}`))));
    } catch (error) {
      result.replaceChildren(el("p", { class: "error" }, error.message));
    }
  },
};

function describeFault(fault) {
  const where = [fault.operation || "any operation", fault.method, fault.path, fault.principal && `as ${fault.principal}`]
    .filter(Boolean).join(" ");
  const does = [];
  if (fault.respond) does.push(`respond ${Object.entries(fault.respond).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  if (fault.drop) does.push(`drop ${fault.drop}`);
  if (fault.latency) does.push(`${fault.latency}s latency`);
  if (fault.expire_credentials) does.push("expire credentials");
  return `#${fault.id} ${where}: ${does.join(", ")}`;
}

// --- live journal -----------------------------------------------------------------------------

const journal = { entries: [], selected: null, since: 0 };

function entryUrl(entry) {
  const query = Object.entries(entry.query || {}).flatMap(([name, values]) =>
    values.map((value) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)).join("&");
  const host = entry.request_headers.host || location.host;
  return `${entry.scheme || "http"}://${host}${entry.path}${query ? `?${query}` : ""}`;
}

function passesFilters(entry) {
  const operation = $("#filter-operation").value;
  const statusWanted = $("#filter-status").value;
  const principal = $("#filter-principal").value;
  return (!operation || entry.operation === operation)
    && (!statusWanted || String(entry.status) === statusWanted)
    && (!principal || entry.principal === principal);
}

function journalRow(entry) {
  const fault = entry.fault ? describeFault(entry.fault) : "";
  const row = el("tr", { "data-seq": entry.seq, class: entry.fault ? "struck" : "" },
    el("td", {}, entry.seq), el("td", {}, iso(entry.arrived).slice(11, 23)),
    el("td", {}, `${entry.method} ${entry.path}`), el("td", {}, entry.operation || "—"),
    el("td", {}, entry.principal || "—"),
    el("td", { class: entry.dropped ? "fail" : entry.status >= 400 ? "warn" : "" }, entry.dropped ? "dropped" : entry.status),
    el("td", { class: "fault" }, fault));
  row.onclick = () => showEntry(entry);
  return row;
}

function renderJournal() {
  const rows = journal.entries.filter(passesFilters).slice().reverse().map(journalRow);
  $("#journal-table tbody").replaceChildren(...rows);
}

function addEntry(entry) {
  journal.entries.push(entry);
  if (journal.entries.length > JOURNAL_KEEP) journal.entries.shift();
  if (passesFilters(entry)) $("#journal-table tbody").prepend(journalRow(entry));
}

function showEntry(entry) {
  journal.selected = entry;
  const headersText = (headers) => Object.entries(headers || {}).map(([k, v]) => `${k}: ${v}`).join("\n");
  const responseHeaders = { ...entry.response_headers };
  if (entry.response_media_type) responseHeaders["content-type"] = entry.response_media_type;
  $("#detail-title").textContent = `#${entry.seq} ${entry.method} ${entry.path} → ${entry.dropped ? "dropped" : entry.status}`;
  $("#detail-curl").textContent = curlOf(entry.method, entryUrl(entry), entry.request_headers, entry.request_body);
  $("#detail-fault").textContent = entry.fault ? json(entry.fault) : "none";
  $("#detail-request-headers").textContent = headersText(entry.request_headers);
  $("#detail-request-body").textContent = entry.request_body || "(empty)";
  $("#detail-response-headers").textContent = headersText(responseHeaders);
  $("#detail-response-body").textContent = entry.response_body || "(empty)";
  $("#journal-detail").hidden = false;
}

/** Server-sent events read with fetch, so the admin token can go in a header (EventSource cannot send one). */
async function followJournal() {
  for (;;) {
    try {
      const response = await call("GET", `/journal/stream?since=${journal.since}`);
      if (!response.ok) throw new Error(`journal stream: ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)).join("\n");
          if (!data) continue;
          const entry = JSON.parse(data);
          journal.since = entry.seq;
          addEntry(entry);
        }
      }
    } catch (error) {
      status(`live journal: ${error.message}; reconnecting`, true);
    }
    await sleep(1000);
  }
}

panels.journal = {};

// --- faults -----------------------------------------------------------------------------------

panels.faults = {
  async refresh() {
    const { faults } = await admin("GET", "/faults");
    $("#faults-table tbody").replaceChildren(...faults.map((fault) => {
      const left = fault.times == null ? "∞" : String(Math.max(0, fault.times - fault.fired));
      const waiting = Math.max(0, (fault.after || 0) - fault.seen);
      const matches = [fault.operation || "any operation", fault.method, fault.path, fault.principal && `as ${fault.principal}`]
        .filter(Boolean).join(" ");
      const does = [];
      if (fault.respond) does.push(Object.entries(fault.respond).map(([k, v]) => `${k}=${v}`).join(" "));
      if (fault.drop) does.push(`drop ${fault.drop}`);
      if (fault.latency) does.push(`+${fault.latency}s`);
      if (fault.probability !== undefined && fault.probability < 1) does.push(`p=${fault.probability}`);
      return el("tr", { "data-fault": fault.id },
        el("td", {}, fault.id), el("td", {}, matches), el("td", {}, does.join(", ")),
        el("td", { class: "left" }, left + (waiting ? ` (lets ${waiting} more through first)` : "")),
        el("td", {}, `${fault.seen} / ${fault.fired}`),
        el("td", {}, el("button", { type: "button", class: "small", onclick: () => removeFault(fault.id) }, "Remove")));
    }));
  },
};

async function removeFault(id) {
  await admin("DELETE", `/faults/${id}`);
  await refresh("faults");
}

function fillFaultResponses() {
  const operation = facts.operations.find((op) => op.id === $("#fault-operation").value);
  const options = [el("option", { value: "" }, "nothing else (only drop or latency)")];
  const errors = el("optgroup", { label: "declared error codes" },
    facts.errors.map((error) => el("option", { value: `code:${error.code}` }, `${error.code} (${error.status})`)));
  options.push(errors);
  if (operation) {
    const declared = el("optgroup", { label: `responses of ${operation.id}` });
    for (const response of operation.responses) {
      if (response.examples.length === 0) declared.append(el("option", { value: `status:${response.status}:` }, `${response.status}`));
      for (const example of response.examples) {
        declared.append(el("option", { value: `status:${response.status}:${example}` }, `${response.status} · example ${example}`));
      }
    }
    options.push(declared);
  }
  $("#fault-respond").replaceChildren(...options);
}

function faultFromForm() {
  const spec = {};
  const operation = $("#fault-operation").value;
  if (operation) spec.operation = operation;
  const [kind, first, example] = $("#fault-respond").value.split(":");
  const message = $("#fault-message").value.trim();
  if (kind === "code") spec.respond = { code: first };
  if (kind === "status") spec.respond = { status: Number(first), ...(example ? { example } : {}) };
  if (spec.respond && message) spec.respond.message = message;
  if ($("#fault-drop").value) spec.drop = $("#fault-drop").value;
  const number = (selector) => ($(selector).value === "" ? null : Number($(selector).value));
  if (number("#fault-latency")) spec.latency = number("#fault-latency");
  if (number("#fault-times") !== null) spec.times = number("#fault-times");
  if (number("#fault-after")) spec.after = number("#fault-after");
  if (number("#fault-probability") !== null && number("#fault-probability") !== 1) spec.probability = number("#fault-probability");
  return spec;
}

// --- clock, limits, deliveries, state ---------------------------------------------------------

panels.clock = {
  async refresh() {
    const clock = await admin("GET", "/clock");
    $("#clock-now").textContent = clock.iso;
    $("#clock-state").textContent = clock.frozen ? "frozen" : "running";
    $("#clock-freeze").textContent = clock.frozen ? "Unfreeze" : "Freeze";
    $("#clock-freeze").dataset.frozen = String(clock.frozen);
  },
};

async function steerClock(change) {
  try {
    await admin("POST", "/clock", change);
    await refresh("clock");
  } catch (error) {
    status(error.message, true);
  }
}

panels.limits = {
  async refresh() {
    const { policies } = await admin("GET", "/limits/usage");
    $("#limits-none").hidden = policies.length > 0;
    const body = $("#limits-table tbody");
    const editing = body.contains(document.activeElement);
    if (editing) return;  // do not redraw under the person typing a rate
    body.replaceChildren(...policies.map((policy) => {
      const usage = policy.budgets.length
        ? policy.budgets.map((b) => `${b.key || "(all)"}: ${b.used}/${policy.limit}`).join("; ")
        : "unused";
      const rate = el("input", { class: "rate", placeholder: "e.g. 5/min", "aria-label": `new rate of ${policy.name}` });
      const form = el("form", { class: "row" }, rate, el("button", { type: "submit", class: "small" }, "Set"));
      form.onsubmit = async (event) => {
        event.preventDefault();
        await setLimit({ policy: policy.name, rate: rate.value.trim() });
      };
      const toggle = el("input", { type: "checkbox", checked: policy.enabled, "aria-label": `${policy.name} on` });
      toggle.onchange = () => setLimit({ policy: policy.name, enabled: toggle.checked });
      const window = policy.algorithm === "concurrency" ? "in flight" : `per ${policy.window}s`;
      return el("tr", { "data-policy": policy.name },
        el("td", {}, policy.name, " ", el("small", {}, policy.algorithm)), el("td", { class: "rate-now" }, `${policy.limit} ${window}`),
        el("td", { class: "usage" }, usage), el("td", {}, form), el("td", {}, toggle));
    }));
  },
};

async function setLimit(change) {
  try {
    await admin("POST", "/limits", change);
    status(`limit ${change.policy} changed`);
  } catch (error) {
    status(error.message, true);
  }
  document.activeElement?.blur();
  await refresh("limits");
}

panels.deliveries = {
  async refresh() {
    const { deliveries, retry } = await admin("GET", "/deliveries");
    $("#retry-policy").textContent = `Retried up to ${retry.max_attempts} attempts over ${retry.horizon_seconds}s of mock time.`;
    const list = $("#delivery-list");
    if (!deliveries.length) {
      list.replaceChildren(el("p", { class: "hint" }, "No webhook deliveries yet."));
      return;
    }
    list.replaceChildren(...deliveries.slice().reverse().map((delivery) => {
      const steps = delivery.attempts.map((attempt) => el("li", { class: attempt.status >= 200 && attempt.status < 300 ? "pass" : "fail" },
        `#${attempt.number} ${iso(attempt.at).slice(11, 19)} → ${attempt.status ?? attempt.error}`));
      if (delivery.next_attempt_at) steps.push(el("li", { class: "next" }, `next ${iso(delivery.next_attempt_at).slice(11, 19)}`));
      return el("article", { class: "card", "data-delivery": delivery.id },
        el("h3", {}, delivery.event_type || "delivery", " ", el("span", { class: `badge ${delivery.state}` }, delivery.state)),
        el("p", {}, el("code", {}, delivery.url)),
        el("ol", { class: "timeline" }, steps.length ? steps : [el("li", { class: "next" }, "not tried yet")]));
    }));
  },
};

// One collection (and tenant) a page at a time from the server: a sandbox with 100k records stays responsive.
// `cursors[i]` fetched page i (null: the first), so Previous goes back and the periodic refresh re-reads
// the page on screen; `asked` drops an answer that a newer request (another page, collection) overtook.
const stateView = { cursors: [null], page: null, asked: 0 };

function stateQuery() {
  const query = new URLSearchParams({ collection: $("#state-collection").value, limit: String(STATE_PAGE_SIZE) });
  if ($("#state-tenant").value) query.set("scope", $("#state-tenant").value);
  const cursor = stateView.cursors[stateView.cursors.length - 1];
  if (cursor !== null) query.set("cursor", cursor);
  return query;
}

panels.state = {
  async refresh() {
    if (!$("#state-collection").value) return;
    const asked = ++stateView.asked;
    const page = await admin("GET", `/state?${stateQuery()}`);
    if (asked !== stateView.asked) return;
    stateView.page = page;
    renderState();
  },
};

function fillStateFilters() {
  $("#state-collection").replaceChildren(...facts.collections.map((name) => el("option", { value: name }, name)));
  $("#state-tenant").append(...facts.tenants.map((scope) => el("option", { value: scope }, scope)));
}

function pageState(cursors) {
  stateView.cursors = cursors;
  $("#state-previous").disabled = $("#state-next").disabled = true;  // until this page is here
  refresh("state");
}

function renderState() {
  const { items, total, next_cursor: next } = stateView.page;
  const columns = [...new Set(items.flatMap((record) => Object.keys(record)))].slice(0, 8);
  $("#state-table thead").replaceChildren(el("tr", {}, columns.map((name) => el("th", {}, name))));
  $("#state-table tbody").replaceChildren(...items.map((record) => el("tr", {}, columns.map((name) => {
    const value = record[name];
    return el("td", {}, value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));
  }))));
  const number = stateView.cursors.length;
  const pages = Math.max(number, Math.ceil(total / STATE_PAGE_SIZE));  // records deleted before this page: not "3 of 2"
  $("#state-page").textContent = `page ${number} of ${pages} · ${total} record(s)`;
  $("#state-previous").disabled = number === 1;
  $("#state-next").disabled = next === null;
}

panels.snapshot = {};

// --- start ------------------------------------------------------------------------------------

function wire() {
  for (const button of document.querySelectorAll("#tabs button")) button.onclick = () => showPanel(button.dataset.panel);
  for (const selector of ["#filter-operation", "#filter-status", "#filter-principal"]) $(selector).oninput = renderJournal;
  $("#journal-filters").onsubmit = (event) => event.preventDefault();
  $("#export-har").onclick = () => download("/journal.har", `${facts.api}-journal.har`).catch((e) => status(e.message, true));
  $("#clear-journal").onclick = async () => {
    await admin("DELETE", "/journal");
    journal.entries = [];
    renderJournal();
  };
  $("#copy-curl").onclick = (event) => copy($("#detail-curl").textContent, event.target);
  $("#fault-operation").onchange = fillFaultResponses;
  $("#fault-form").onsubmit = async (event) => {
    event.preventDefault();
    try {
      const { faults } = await admin("POST", "/faults", faultFromForm());
      $("#fault-result").textContent = `Added ${describeFault(faults[0])}`;
      $("#fault-result").classList.remove("error");
    } catch (error) {
      $("#fault-result").textContent = error.message;
      $("#fault-result").classList.add("error");
    }
    await refresh("faults");
  };
  $("#clear-faults").onclick = async () => { await admin("DELETE", "/faults"); await refresh("faults"); };
  $("#clock-freeze").onclick = () => steerClock({ freeze: $("#clock-freeze").dataset.frozen !== "true" });
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.onclick = () => steerClock({ advance: Number(button.dataset.advance) });
  }
  $("#clock-form").onsubmit = (event) => {
    event.preventDefault();
    steerClock({ advance: Number($("#clock-seconds").value || 0) });
  };
  $("#clock-reset").onclick = () => steerClock({ reset: true });
  $("#state-collection").onchange = () => pageState([null]);
  $("#state-tenant").onchange = () => pageState([null]);
  $("#state-filters").onsubmit = (event) => event.preventDefault();
  $("#state-previous").onclick = () => pageState(stateView.cursors.slice(0, -1));
  $("#state-next").onclick = () => pageState([...stateView.cursors, stateView.page.next_cursor]);
  $("#snapshot-take").onclick = async () => {
    try {
      $("#snapshot-result").textContent = `Saved ${await download("/snapshot", `${facts.api}-snapshot.json`)}`;
    } catch (error) {
      $("#snapshot-result").textContent = error.message;
    }
  };
  $("#snapshot-restore").onclick = async () => {
    const file = $("#snapshot-file").files[0];
    const result = $("#snapshot-result");
    if (!file) {
      result.textContent = "Choose a snapshot file first.";
      return;
    }
    const response = await call("POST", "/snapshot", { raw: await file.text() });
    const data = await response.json().catch(() => ({}));
    result.textContent = response.ok
      ? `Restored ${file.name} (taken ${data.taken_at}): ${Object.entries(data.resources).map(([k, n]) => `${n} ${k}`).join(", ") || "no resources"}, ${data.faults} fault(s)`
      : `Refused: ${data.error || response.status}`;
    result.classList.toggle("error", !response.ok);
  };
  $("#sandbox-reset").onclick = async () => {
    await admin("POST", "/reset");
    $("#snapshot-result").textContent = "Reset to the fixtures.";
  };
}

async function start() {
  wire();
  try {
    facts = await admin("GET", "/console");
  } catch (error) {
    status(`cannot reach the admin API: ${error.message}`, true);
    return;
  }
  document.title = `${facts.title} · sandbox console`;
  $("#api-title").textContent = facts.title;
  $("#peers").replaceChildren(...Object.entries(facts.consoles).map(([name, url]) =>
    name === facts.api ? el("span", { class: "current" }, name) : el("a", { href: url }, name)));
  $("#filter-operation").append(...facts.operations.map((op) => el("option", { value: op.id }, op.id)));
  $("#fault-operation").append(...facts.operations.map((op) => el("option", { value: op.id }, `${op.id} (${op.method} ${op.path})`)));
  $("#filter-principal").append(...facts.credentials.map((c) => el("option", { value: c.principal }, c.principal)));
  fillFaultResponses();
  fillStateFilters();
  followJournal();
  const wanted = location.hash.slice(1);
  showPanel(panels[wanted] ? wanted : "overview");
  status("connected");
  setInterval(() => { if (!["overview", "scenarios", "snapshot", "journal"].includes(visiblePanel())) refresh(); }, REFRESH_MS);
}

start();
