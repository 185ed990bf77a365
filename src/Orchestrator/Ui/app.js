// The Orchestrator's dashboard: plain JavaScript over the HTTP API, signed in with an API key (kept for this tab only),
// live through /api/stream (Server-Sent Events read with fetch, so the key travels in a header, never in a URL).
"use strict";

const state = { key: sessionStorage.getItem("orchestrator-key"), migrations: new Map(), stream: null, chart: null, detailId: null, timers: [] };
const $ = (selector) => document.querySelector(selector);

function text(tag, value, className) {
  const element = document.createElement(tag);
  element.textContent = value ?? "";
  if (className) element.className = className;
  return element;
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.key}` } });
  if (response.status === 401 || response.status === 403) throw Object.assign(new Error("The key was refused."), { signIn: true });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function show(section) {
  for (const id of ["sign-in", "overview", "detail"]) $(`#${id}`).hidden = id !== section;
  $("#sign-out").hidden = section === "sign-in";
}

function signIn(message) {
  stop();
  state.key = null;
  sessionStorage.removeItem("orchestrator-key");
  $("#sign-in-error").textContent = message ?? "";
  show("sign-in");
}

function stop() {
  state.stream?.abort();
  state.stream = null;
  state.timers.forEach(clearInterval);
  state.timers = [];
  state.chart?.destroy();
  state.chart = null;
  $("#live").textContent = "○ offline";
  $("#live").classList.remove("on");
}

// Reads Server-Sent Events from /api/stream until aborted; calls onEvent(kind, data) for each.
async function listen(path, onEvent) {
  const controller = new AbortController();
  state.stream = controller;
  try {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${state.key}` }, signal: controller.signal });
    if (!response.ok) throw new Error(`stream: ${response.status}`);
    $("#live").textContent = "● live";
    $("#live").classList.add("on");
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
        const kind = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (kind && data) onEvent(kind, JSON.parse(data));
      }
    }
  } catch (error) {
    if (controller.signal.aborted) return;
  }
  if (state.stream === controller) {
    // The connection dropped: try again shortly.
    $("#live").textContent = "○ reconnecting";
    $("#live").classList.remove("on");
    setTimeout(() => state.stream === controller && route(), 2000);
  }
}

const age = (at) => {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(at)) / 1000));
  return seconds < 120 ? `${seconds} s` : seconds < 7200 ? `${Math.round(seconds / 60)} min` : `${Math.round(seconds / 3600)} h`;
};

function progress(summary) {
  const total = summary.memoryBytes || 0;
  if (summary.state === "Completed") return 1;
  if (!total || !summary.rounds) return 0;
  return Math.max(0, Math.min(1, 1 - summary.bytesRemaining / total));
}

function migrationRow(summary) {
  const row = document.createElement("tr");
  row.className = "link";
  row.dataset.id = summary.id;
  row.onclick = () => { location.hash = `#/m/${summary.id}`; };
  row.append(text("td", summary.id), text("td", summary.vmId), text("td", summary.state, `state state-${summary.state}`));
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = progress(summary);
  const cell = document.createElement("td");
  cell.append(bar, ` round ${summary.rounds}`);
  row.append(cell, text("td", `${summary.sourceHost ?? "?"} → ${summary.targetHost ?? "?"}`), text("td", age(summary.requestedAt)));
  return row;
}

function renderMigrations() {
  const body = $("#migrations tbody");
  const rows = [...state.migrations.values()].sort((a, b) => Date.parse(b.requestedAt) - Date.parse(a.requestedAt)).slice(0, 200);
  body.replaceChildren(...rows.map(migrationRow));
}

async function renderFleet() {
  const [hosts, attention, drains] = await Promise.all([api("/api/hosts"), api("/api/attention"), api("/api/drains/recent")]);
  $("#hosts tbody").replaceChildren(...hosts.map((h) => {
    const row = document.createElement("tr");
    row.append(text("td", h.id), text("td", h.activeOutbound), text("td", h.activeInbound), text("td", h.queuedOutbound + h.queuedInbound));
    return row;
  }));
  $("#attention tbody").replaceChildren(...attention.map((a) => {
    const row = document.createElement("tr");
    row.className = "link";
    row.onclick = () => { location.hash = `#/m/${a.migrationId}`; };
    row.append(text("td", a.vmId ?? a.migrationId), text("td", a.kind), text("td", a.reason, "reason"));
    return row;
  }));
  $("#drains tbody").replaceChildren(...drains.map((d) => {
    const row = document.createElement("tr");
    row.append(text("td", d.host), text("td", d.state), text("td", `${d.moved} of ${d.total}`));
    return row;
  }));
}

async function overview() {
  show("overview");
  const page = await api("/api/migrations?pageSize=200");
  state.migrations = new Map(page.items.map((s) => [s.id, s]));
  renderMigrations();
  await renderFleet();
  state.timers.push(setInterval(() => renderFleet().catch(() => {}), 5000));
  listen("/api/stream", (kind, data) => {
    if (kind !== "summary") return;
    const known = state.migrations.get(data.id);
    if (known && known.lastEventVersion >= data.lastEventVersion) return;
    state.migrations.set(data.id, data);
    renderMigrations();
  });
}

function renderSummary(summary) {
  const fields = [["VM", summary.vmId], ["state", summary.state], ["hosts", `${summary.sourceHost} → ${summary.targetHost}`],
    ["strategy", summary.strategy], ["rounds", summary.rounds], ["downtime", summary.downtimeMs == null ? "" : `${summary.downtimeMs.toFixed(1)} ms`],
    ["reason", summary.reason ?? ""]];
  $("#detail-summary").replaceChildren(...fields.flatMap(([name, value]) => [text("dt", name), text("dd", value, name === "state" ? `state-${value}` : "")]));
}

function newChart(limitMs) {
  const mib = (bytes) => bytes / 1048576;
  state.chart = new Chart($("#rounds"), {
    type: "line",
    data: { labels: [], datasets: [
      { label: "remaining (MiB)", data: [], yAxisID: "bytes", borderColor: "#0969da" },
      { label: "dirty rate (MiB/s)", data: [], yAxisID: "bytes", borderColor: "#bf8700" },
      { label: "expected downtime (ms)", data: [], yAxisID: "ms", borderColor: "#cf222e" },
      { label: "downtime limit (ms)", data: [], yAxisID: "ms", borderColor: "#8c959f", borderDash: [4, 4], pointRadius: 0 },
    ] },
    options: { animation: false, maintainAspectRatio: false, scales: { x: { title: { display: true, text: "round" } },
      bytes: { position: "left", beginAtZero: true }, ms: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } } } },
  });
  state.chart.addRound = (round) => {
    const chart = state.chart;
    chart.data.labels.push(round.round);
    chart.data.datasets[0].data.push(mib(round.bytesRemaining));
    chart.data.datasets[1].data.push(mib(round.dirtyRateBytesPerSecond));
    chart.data.datasets[2].data.push(round.expectedDowntimeMs);
    chart.data.datasets[3].data.push(limitMs ?? null);
    chart.update();
    $("#rounds").dataset.points = String(chart.data.labels.length);
  };
}

function addEvent(event) {
  $("#timeline").append(text("li", `${new Date(event.timestamp).toLocaleTimeString()} · v${event.version} · ${event.type}`));
  if (event.type === "PreCopyRoundCompleted") state.chart.addRound(event.data);
}

async function detail(id) {
  show("detail");
  $("#detail-id").textContent = id;
  $("#timeline").replaceChildren();
  const summary = await api(`/api/migrations/${id}`);
  renderSummary(summary);
  newChart(summary.downtimeLimitMs ?? summary.policy?.maxDowntimeMs);
  $("#rounds").dataset.points = "0";
  let version = 0;
  listen(`/api/stream?migrationId=${id}`, async (kind, data) => {
    if (kind === "summary" && data.id === id) renderSummary(data);
    if (kind === "event" && data.version > version) {
      version = data.version;
      addEvent(data);
      if (["MigrationCompleted", "MigrationFailed", "MigrationRolledBack", "MigrationCancelled", "MigrationRejected"].includes(data.type)) await verify(id);
    }
  });
  await verify(id);
}

async function verify(id) {
  try {
    const verdict = await api(`/api/migrations/${id}/verify`);
    $("#verdict").textContent = verdict.intact ? `intact (${verdict.events} events)` : `TAMPERED at version ${verdict.firstBrokenVersion}: ${verdict.problem}`;
  } catch {
    $("#verdict").textContent = "not yet recorded";
  }
}

async function route() {
  stop();
  if (!state.key) return signIn();
  try {
    const match = /^#\/m\/([0-9a-f-]{36})$/.exec(location.hash);
    if (match) await detail(match[1]);
    else await overview();
  } catch (error) {
    if (error.signIn) signIn(error.message);
    else console.error(error);
  }
}

$("#sign-in-form").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  state.key = $("#key").value;
  try {
    await api("/api/migrations?pageSize=1");
    sessionStorage.setItem("orchestrator-key", state.key);
    $("#key").value = "";
    route();
  } catch (error) {
    signIn(error.signIn ? "That key is not accepted." : `The orchestrator cannot be reached (${error.message}).`);
  }
});
$("#sign-out").addEventListener("click", () => signIn());
window.addEventListener("hashchange", route);
route();
