// The jobs page: every job on this server, newest first, refreshed every few seconds,
// with Cancel (a job that has not ended) and Retry (a failed or canceled analysis).
// It reads the API with a device token the studio's admin pastes once (`main.py token
// create NAME`); this browser keeps it (localStorage). Rows are updated in place, keyed
// by job id, so a refresh neither flickers nor moves the scroll. Plain JavaScript, no
// framework, nothing fetched from outside this server.
(function () {
  "use strict";

  var TOKEN_KEY = "dance-analysis.jobs-token";
  var API = "/api/v1";
  var REFRESH_MS = 3000;
  var PAGE = 50;  // rows shown at first, and added by "Show more"
  var API_MAX = 500;  // the most GET /jobs answers at once
  var CANCELABLE = { awaiting_upload: true, queued: true, started: true };
  var RETRYABLE = { failed: true, canceled: true };

  var memoryToken = null;  // when storage is refused (private mode): the page's lifetime
  var wanted = PAGE;
  var generation = 0;  // a newer refresh (or filter) makes an older answer stale
  var timer = null;
  var refreshFailed = false;

  function $(id) { return document.getElementById(id); }

  function getToken() {
    try { return window.localStorage.getItem(TOKEN_KEY) || memoryToken; } catch (e) { return memoryToken; }
  }

  function setToken(token) {
    memoryToken = token || null;
    try {
      if (token) { window.localStorage.setItem(TOKEN_KEY, token); }
      else { window.localStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* kept in memory only */ }
  }

  function showMessage(id, text) {
    var box = $(id);
    box.textContent = text || "";
    box.hidden = !text;
  }

  // An API error body is {"detail": {"reason", "message"}}: the message is the sentence.
  function ApiFailure(status, body) {
    var detail = body && body.detail;
    this.status = status;
    this.reason = detail && typeof detail === "object" ? detail.reason || null : null;
    if (detail && typeof detail === "object" && detail.message) {
      this.message = String(detail.message);
    } else if (status === 0) {
      this.message = "Could not reach the server.";
    } else {
      this.message = "The server answered with an error (HTTP " + status + ").";
    }
  }

  function api(method, path) {
    var headers = { "Accept": "application/json" };
    var token = getToken();
    if (token) { headers.Authorization = "Bearer " + token; }
    return window.fetch(path, { method: method, headers: headers, cache: "no-store" }).then(
      function (response) {
        return response.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (!response.ok) { throw new ApiFailure(response.status, body); }
          return body;
        });
      },
      function () { throw new ApiFailure(0, null); }
    );
  }

  // -- the token ---------------------------------------------------------------------

  function showTokenForm(message) {
    window.clearTimeout(timer);
    generation += 1;  // answers still on their way are dropped
    $("toolbar").hidden = true;
    $("jobs-section").hidden = true;
    $("token-section").hidden = false;
    showMessage("notice", "");
    showMessage("error", message || "");
    $("token").value = "";
    $("token").focus();
  }

  function showJobs() {
    $("token-section").hidden = true;
    $("toolbar").hidden = false;
    $("jobs-section").hidden = false;
  }

  function onTokenSubmit(event) {
    event.preventDefault();
    var token = $("token").value.trim();
    if (!token) { return; }
    setToken(token);
    showMessage("error", "");
    showJobs();
    refresh();
  }

  function onForget() {
    setToken(null);
    $("jobs").tBodies[0].textContent = "";
    showTokenForm("");
  }

  // A 401 means no token, or one that is unknown or revoked: ask for a current one.
  function handleFailure(failure) {
    if (failure && failure.status === 401) {
      setToken(null);
      showTokenForm(
        "The server refused the token: " + failure.message +
        " Paste a current one (make one with: python main.py token create NAME)."
      );
      return true;
    }
    return false;
  }

  // -- reading the jobs ----------------------------------------------------------------

  // The newest `want` jobs (one more, to know whether there are more), in pages the
  // API allows; a job seen twice (the list moved between pages) is kept once.
  function fetchJobs(want, status) {
    var jobs = [];
    var seen = {};
    function page(offset) {
      var limit = Math.min(API_MAX, want + 1 - jobs.length);
      var query = "?limit=" + limit + "&offset=" + offset;
      if (status) { query += "&status=" + encodeURIComponent(status); }
      return api("GET", API + "/jobs" + query).then(function (body) {
        var data = (body && body.data) || [];
        data.forEach(function (job) {
          if (!seen[job.id]) { seen[job.id] = true; jobs.push(job); }
        });
        if (data.length === limit && jobs.length <= want) { return page(offset + data.length); }
        return { jobs: jobs.slice(0, want), more: jobs.length > want };
      });
    }
    return page(0);
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, REFRESH_MS);
  }

  function refresh() {
    if (!getToken()) { showTokenForm(""); return; }
    window.clearTimeout(timer);
    generation += 1;
    var mine = generation;
    fetchJobs(wanted, $("state-filter").value).then(
      function (answer) {
        if (mine !== generation) { return; }
        render(answer.jobs, answer.more);
        if (refreshFailed) { refreshFailed = false; showMessage("error", ""); }
        $("updated").textContent = "Updated " + clock(new Date());
        schedule();
      },
      function (failure) {
        if (mine !== generation) { return; }
        if (handleFailure(failure)) { return; }
        refreshFailed = true;
        showMessage("error", failure.message + " Trying again in a few seconds.");
        schedule();
      }
    );
  }

  // -- the table -------------------------------------------------------------------------

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function clock(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  function when(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    var now = new Date();
    if (d.toDateString() === now.toDateString()) { return clock(d); }
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function words(value) { return value ? String(value).replace(/_/g, " ") : ""; }

  function setText(node, text) {
    if (node.textContent !== text) { node.textContent = text; }
  }

  function setAttr(node, name, value) {
    if (value === null || value === undefined || value === "") {
      if (node.hasAttribute(name)) { node.removeAttribute(name); }
    } else if (node.getAttribute(name) !== value) {
      node.setAttribute(name, value);
    }
  }

  function el(tag, className, parent) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function makeRow(id) {
    var row = document.createElement("tr");
    row.dataset.jobId = id;
    var c = {};
    var file = el("td", "file", row);
    c.name = el("span", "name", file);
    c.id = el("span", "job-id", file);
    c.kind = el("td", "kind", row);
    c.state = el("span", "badge", el("td", "state", row));
    c.stage = el("td", "stage", row);
    var progressCell = el("td", "progress", row);
    c.bar = el("progress", null, progressCell);
    c.bar.max = 100;
    c.bar.value = 0;  // a <progress> without a value is drawn as "working…"
    c.pct = el("span", "pct", progressCell);
    c.attempts = el("td", "attempts num", row);
    c.worker = el("td", "worker", row);
    var failure = el("td", "failure", row);
    c.reason = el("span", "reason", failure);
    c.message = el("span", "message", failure);
    c.created = el("td", "created time", row);
    c.started = el("td", "started time", row);
    c.ended = el("td", "ended time", row);
    var actions = el("td", "actions", row);
    c.cancel = el("button", "cancel-button", actions);
    c.cancel.type = "button";
    c.cancel.textContent = "Cancel";
    c.cancel.addEventListener("click", function () { act(row, "cancel"); });
    c.retry = el("button", "retry-button", actions);
    c.retry.type = "button";
    c.retry.textContent = "Retry";
    c.retry.addEventListener("click", function () { act(row, "retry"); });
    row.cells_ = c;
    return row;
  }

  function updateRow(row, job) {
    var c = row.cells_;
    var kind = job.kind || "analysis";
    setAttr(row, "data-status", job.status);
    setAttr(row, "data-kind", kind);
    setText(c.name, job.filename || "");
    setAttr(c.name, "title", job.filename || "");
    setText(c.id, job.id.slice(0, 8));
    setAttr(c.id, "title", job.id);
    setText(c.kind, kind);
    setText(c.state, words(job.status));
    setAttr(c.state, "class", "badge state-" + job.status);
    setText(c.stage, words(job.stage));
    var progress = Math.max(0, Math.min(100, Number(job.progress) || 0));
    if (c.bar.value !== progress) { c.bar.value = progress; }
    setText(c.pct, progress + "%");
    setText(c.attempts, String(job.attempts));
    setText(c.worker, job.worker_id || "");
    setAttr(c.worker, "title", job.worker_id || "");
    var ended = job.status === "failed" || job.status === "canceled";
    setText(c.reason, ended && job.reason ? job.reason : "");
    setText(c.message, ended && job.message ? job.message : "");
    setAttr(c.message, "title", ended && job.message ? job.message : "");
    setText(c.created, when(job.created_at));
    setAttr(c.created, "title", job.created_at || "");
    setText(c.started, when(job.started_at));
    setAttr(c.started, "title", job.started_at || "");
    setText(c.ended, when(job.ended_at));
    setAttr(c.ended, "title", job.ended_at || "");
    var busy = row.dataset.busy === "1";
    c.cancel.hidden = !CANCELABLE[job.status];
    c.retry.hidden = !RETRYABLE[job.status] || kind !== "analysis";
    c.cancel.disabled = busy;
    c.retry.disabled = busy;
  }

  function render(jobs, more) {
    var body = $("jobs").tBodies[0];
    var old = {};
    Array.prototype.forEach.call(body.rows, function (row) { old[row.dataset.jobId] = row; });
    jobs.forEach(function (job, i) {
      var row = old[job.id] || makeRow(job.id);
      delete old[job.id];
      updateRow(row, job);
      var at = body.rows[i];
      if (at !== row) { body.insertBefore(row, at || null); }
    });
    Object.keys(old).forEach(function (id) { body.removeChild(old[id]); });
    $("empty").hidden = jobs.length > 0;
    $("more-button").hidden = !more;
    setText($("shown"), jobs.length === 0 ? "" :
      (more ? "The newest " + jobs.length + " jobs." : jobs.length + (jobs.length === 1 ? " job." : " jobs.")));
  }

  // -- actions ---------------------------------------------------------------------------

  function act(row, action) {
    var id = row.dataset.jobId;
    var name = row.cells_.name.textContent;
    row.dataset.busy = "1";
    row.cells_.cancel.disabled = true;
    row.cells_.retry.disabled = true;
    showMessage("notice", "");
    showMessage("error", "");
    api("POST", API + "/jobs/" + encodeURIComponent(id) + "/" + action).then(
      function (job) {
        if (action === "retry") {
          showMessage("notice", "“" + name + "” is queued again as a new job (" + job.id.slice(0, 8) +
            "); the " + (row.dataset.status || "old") + " one was removed.");
        } else if (job.status === "started") {
          showMessage("notice", "Canceling “" + name + "”: its worker stops it within moments.");
        } else {
          showMessage("notice", "“" + name + "” was canceled.");
        }
      },
      function (failure) {
        if (!handleFailure(failure)) { showMessage("error", failure.message); }
      }
    ).then(function () {
      delete row.dataset.busy;
      if (getToken()) { refresh(); }
    });
  }

  // -- start ---------------------------------------------------------------------------

  function init() {
    $("token-form").addEventListener("submit", onTokenSubmit);
    $("forget-button").addEventListener("click", onForget);
    $("state-filter").addEventListener("change", function () {
      wanted = PAGE;
      refresh();
    });
    $("more-button").addEventListener("click", function () {
      wanted += PAGE;
      refresh();
    });
    if (getToken()) {
      showJobs();
      refresh();
    } else {
      showTokenForm("");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
