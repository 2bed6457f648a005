// The phone page: pair with the one-time code from the QR code (or typed in), upload a
// clip, follow its progress, then play the overlay video and list the feedback. The
// clips this phone sent are remembered (localStorage) and listed after a reload.
// Plain JavaScript, no framework, nothing fetched from outside this server.
(function () {
  "use strict";

  var TOKEN_KEY = "dance-analysis.token";
  var HISTORY_KEY = "dance-analysis.history";
  var HISTORY_MAX = 50;
  var API = "/api/v1";
  var POLL_MS = 1000;

  function $(id) { return document.getElementById(id); }

  function show(id, visible) { $(id).hidden = !visible; }

  function getToken() {
    try { return window.localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function setToken(token) {
    try {
      if (token) { window.localStorage.setItem(TOKEN_KEY, token); }
      else { window.localStorage.removeItem(TOKEN_KEY); }
    } catch (e) { /* private mode: the token lives as long as the page */ }
  }

  function showError(message) {
    var box = $("error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  // An API error body is {"detail": {"reason", "message"}}: the message is the sentence.
  function errorSentence(status, body) {
    var detail = body && body.detail;
    if (detail && typeof detail === "object" && !Array.isArray(detail)) {
      if (detail.message) { return String(detail.message); }
      if (detail.reason) { return String(detail.reason); }
    }
    if (typeof detail === "string" && detail) { return detail; }
    if (status === 0) { return "Could not reach the server. Is this phone on the same network?"; }
    return "The server answered with an error (HTTP " + status + ").";
  }

  function ApiFailure(status, body) {
    this.status = status;
    this.body = body;
    this.message = errorSentence(status, body);
  }

  function parseJson(text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  // fetch with the stored token; resolves to the parsed body or rejects with ApiFailure.
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var token = getToken();
    if (token) { headers.Authorization = "Bearer " + token; }
    var init = { method: method, headers: headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return window.fetch(path, init).then(
      function (response) {
        return response.text().then(function (text) {
          var parsed = parseJson(text);
          if (!response.ok) { throw new ApiFailure(response.status, parsed); }
          return parsed;
        });
      },
      function () { throw new ApiFailure(0, null); }
    );
  }

  function handleFailure(failure) {
    if (failure && failure.status === 401) {
      setToken(null);
      showPairing("This phone is no longer paired. Scan the pairing QR code on the desktop app again.");
      return;
    }
    showError(failure && failure.message ? failure.message : String(failure));
  }

  // -- pairing ---------------------------------------------------------------------

  function pairCode() {
    return new URLSearchParams(window.location.search).get("pair");
  }

  function dropCodeFromUrl() {
    var url = new URL(window.location.href);
    url.searchParams.delete("pair");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
  }

  function showPairing(message) {
    show("upload-section", false);
    show("result-section", false);
    show("pair-section", true);
    show("history-section", false);
    var code = pairCode();
    if (code) { $("pair-code").value = code; }
    $("pair-hint").textContent = code
      ? "Give this phone a name, then pair it with the desktop app."
      : "Scan the pairing QR code shown by the desktop app, or type the code it shows.";
    showError(message || "");
  }

  function onPair(event) {
    event.preventDefault();
    var code = $("pair-code").value.trim();  // the server ignores case, spaces, dashes
    var name = $("device-name").value.trim() || "Phone";
    if (!code) { showError("Type the pairing code the desktop app shows."); return; }
    $("pair-button").disabled = true;
    showError("");
    api("POST", API + "/pair", { code: code, device_name: name }).then(
      function (body) {
        setToken(body.token);
        dropCodeFromUrl();
        showUpload();
      },
      function (failure) { showError(failure.message); }
    ).then(function () { $("pair-button").disabled = false; });
  }

  function forget() {
    setToken(null);
    saveHistory([]);  // the next person to pair this phone does not see these clips
    showPairing();
  }

  // -- history: the clips this phone sent ----------------------------------------------

  function loadHistory() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(saved) ? saved.filter(function (e) { return e && e.job_id; }) : [];
    } catch (e) { return []; }
  }

  function saveHistory(entries) {
    try { window.localStorage.setItem(HISTORY_KEY, JSON.stringify(entries.slice(0, HISTORY_MAX))); }
    catch (e) { /* private mode: the list lives as long as the page */ }
  }

  function remember(jobId, filename) {
    var entries = loadHistory().filter(function (e) { return e.job_id !== jobId; });
    entries.unshift({ job_id: jobId, filename: filename, sent_ms: Date.now() });
    saveHistory(entries);
  }

  function forgetJob(jobId) {
    saveHistory(loadHistory().filter(function (e) { return e.job_id !== jobId; }));
  }

  function describe(status) {
    if (status.status === "finished") { return "Ready"; }
    if (status.status === "failed") {
      return "Failed: " + ((status.error && status.error.message) || status.message || "");
    }
    if (status.status === "canceled") { return "Canceled"; }
    if (status.status === "awaiting_upload") { return "Upload not finished"; }
    return "Analysing (" + (status.progress || 0) + "%)";
  }

  function sentAt(ms) {
    var when = new Date(ms || 0);
    return isNaN(when.getTime()) ? "" : when.toLocaleString([], {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
    });
  }

  // Lists this phone's clips with their state now; a clip still analysing is followed.
  function showHistory() {
    var entries = loadHistory();
    var list = $("history");
    list.textContent = "";
    show("history-section", entries.length > 0);
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.className = "history-item";
      li.dataset.jobId = entry.job_id;
      var name = document.createElement("span");
      name.className = "name";
      name.textContent = entry.filename || "clip";
      var when = document.createElement("span");
      when.className = "when";
      when.textContent = sentAt(entry.sent_ms);
      var state = document.createElement("span");
      state.className = "state";
      state.textContent = "…";
      li.appendChild(name);
      li.appendChild(when);
      li.appendChild(state);
      list.appendChild(li);
      api("GET", API + "/analyze/" + encodeURIComponent(entry.job_id) + "/status").then(
        function (status) {
          state.textContent = describe(status);
          li.dataset.status = status.status;
          if (status.status === "finished") {
            li.tabIndex = 0;
            li.addEventListener("click", function () { openResult(entry.job_id); });
          } else if (status.status === "queued" || status.status === "started") {
            follow(entry.job_id);
          }
        },
        function (failure) {
          if (failure.status === 404) {  // deleted on the desktop: drop it from the list
            forgetJob(entry.job_id);
            list.removeChild(li);
            show("history-section", list.children.length > 0);
          } else if (failure.status === 401) {
            handleFailure(failure);
          } else {
            state.textContent = failure.message;
          }
        }
      );
    });
  }

  function openResult(jobId) {
    showError("");
    api("GET", API + "/analyze/" + encodeURIComponent(jobId) + "/result")
      .then(showResult)
      .then(function () { $("result-section").scrollIntoView(); })
      .catch(handleFailure);
  }

  var following = null;  // the job whose progress the upload area shows

  function follow(jobId) {
    if (following) { return; }
    following = jobId;
    $("upload-button").disabled = true;
    poll(jobId)
      .then(function () {
        setState("Done.", 100);
        return api("GET", API + "/analyze/" + encodeURIComponent(jobId) + "/result");
      })
      .then(showResult)
      .catch(function (failure) {
        setState("", null);
        handleFailure(failure);
      })
      .then(function () {
        following = null;
        $("upload-button").disabled = false;
        if (getToken()) { showHistory(); }
      });
  }

  // -- upload ------------------------------------------------------------------------

  function showUpload() {
    show("pair-section", false);
    show("upload-section", true);
    showError("");
    showHistory();
  }

  function setState(text, percent) {
    $("upload-state").textContent = text;
    var bar = $("progress");
    if (percent === null || percent === undefined) {
      bar.hidden = true;
    } else {
      bar.hidden = false;
      bar.value = Math.max(0, Math.min(100, percent));
    }
  }

  function putFile(url, file, contentType) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.setRequestHeader("Content-Type", contentType);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) {
          var percent = Math.round((event.loaded / event.total) * 100);
          setState("Uploading… " + percent + "%", percent);
        }
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) { resolve(); }
        else { reject(new ApiFailure(xhr.status, parseJson(xhr.responseText))); }
      };
      xhr.onerror = function () { reject(new ApiFailure(0, null)); };
      xhr.send(file);
    });
  }

  function wait(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  function poll(jobId) {
    return api("GET", API + "/analyze/" + encodeURIComponent(jobId) + "/status").then(function (s) {
      if (s.status === "finished") { return s; }
      if (s.status === "failed" || s.status === "canceled") {
        var message = (s.error && s.error.message) || s.message || ("The analysis " + s.status + ".");
        throw new ApiFailure(422, { detail: { reason: s.status, message: message } });
      }
      var stage = s.stage ? s.stage.replace(/_/g, " ") : s.status;
      setState("Analysing: " + stage + " (" + s.progress + "%)", s.progress);
      return wait(POLL_MS).then(function () { return poll(jobId); });
    });
  }

  function onUpload() {
    var file = $("clip").files[0];
    if (!file) { showError("Choose or record a clip first."); return; }
    if (following) { return; }
    var contentType = file.type || "video/mp4";
    var filename = file.name || "clip.mp4";
    var button = $("upload-button");
    button.disabled = true;
    showError("");
    show("result-section", false);
    setState("Preparing the upload…", 0);
    var query = "?filename=" + encodeURIComponent(filename) +
      "&content_type=" + encodeURIComponent(contentType) + "&size=" + file.size +
      "&style=" + encodeURIComponent($("style").value || "auto");
    api("POST", API + "/analyze/upload-url" + query)
      .then(function (ticket) {
        remember(ticket.job_id, filename);
        showHistory();
        return putFile(ticket.upload_url, file, contentType).then(function () { return ticket; });
      })
      .then(function (ticket) {
        setState("Queued for analysis…", 0);
        return api("POST", API + "/analyze/confirm?job_id=" + encodeURIComponent(ticket.job_id) +
          "&s3_key=" + encodeURIComponent(ticket.s3_key)).then(function () { return ticket; });
      })
      .then(function (ticket) { follow(ticket.job_id); })
      .catch(function (failure) {
        setState("", null);
        button.disabled = false;
        handleFailure(failure);
      });
  }

  // -- result ------------------------------------------------------------------------

  function clock(ms) {
    var total = Math.max(0, Math.floor((ms || 0) / 1000));
    var seconds = total % 60;
    return Math.floor(total / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  // "124 BPM · 4/4 · auto", or why there is no beat to count.
  function musicLine(music) {
    if (!music) { return ""; }
    if (!music.present || !music.tempo_bpm) {
      var why = {
        no_audio: "the clip has no sound", silence: "the sound is silent",
        too_short: "too little sound for a few bars", no_steady_beat: "no steady beat"
      }[music.reason] || "no beat found";
      return "No music to count: " + why + ".";
    }
    return Math.round(music.tempo_bpm) + " BPM · " + music.beats_per_bar + "/4 · " + music.style;
  }

  function showResult(result) {
    var links = (result && result.downloads) || {};
    var video = $("overlay");
    if (links.overlay) { video.src = links.overlay; }
    var line = musicLine(result && result.music);
    $("music").textContent = line;
    show("music", line !== "");
    show("result-section", true);
    var list = $("feedback");
    list.textContent = "";
    show("no-feedback", false);
    if (!links.result) { show("no-feedback", true); return null; }
    return window.fetch(links.result, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new ApiFailure(response.status, null); }
        return response.json();
      })
      .then(function (analysis) {
        var items = (analysis && analysis.feedback) || [];
        items.forEach(function (item) {
          var li = document.createElement("li");
          li.className = "feedback-item " + (item.severity || "info");
          var time = document.createElement("span");
          time.className = "time";
          time.textContent = clock(item.time_ms);
          var text = document.createElement("span");
          text.className = "message";
          text.textContent = item.message;
          li.appendChild(time);
          li.appendChild(text);
          if (item.count && item.count.label) {  // "count 5 of phrase 3": where it falls
            var count = document.createElement("span");
            count.className = "count";
            count.textContent = item.count.label;
            li.appendChild(count);
          }
          li.dataset.timeMs = String(item.time_ms || 0);
          li.tabIndex = 0;
          li.addEventListener("click", function () {
            video.currentTime = (item.time_ms || 0) / 1000;
            video.play().catch(function () { /* autoplay may be refused; the seek stands */ });
          });
          list.appendChild(li);
        });
        show("no-feedback", items.length === 0);
      });
  }

  // -- start -------------------------------------------------------------------------

  function start() {
    $("pair-form").addEventListener("submit", onPair);
    $("upload-button").addEventListener("click", onUpload);
    $("forget-button").addEventListener("click", forget);
    if (getToken()) {
      if (pairCode()) { dropCodeFromUrl(); }
      showUpload();
    } else {
      showPairing();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
