// The phone page: pair with the one-time code from the QR code (or typed in), upload a
// clip, follow its progress, then play the overlay video and list the feedback. A clip
// may be compared with a teacher's (picked at upload, or later from "Your clips"): the
// page then shows the score, the count sheet, the ghost and the practice video. The
// clips and comparisons this phone asked for are remembered (localStorage) and listed
// after a reload. "My lessons" lists what the studio keeps of this phone's clips (GET
// /me/jobs), with their videos, reports and the links the phone was sent.
// Plain JavaScript, no framework, nothing fetched from outside this server.
(function () {
  "use strict";

  var TOKEN_KEY = "dance-analysis.token";
  var HISTORY_KEY = "dance-analysis.history";
  var WHOSE_KEY = "dance-analysis.whose";  // the student and class last typed on this phone
  var HISTORY_MAX = 50;
  var API = "/api/v1";
  var POLL_MS = 1000;
  // As the desktop's count sheet (gui/compare_view.py): the parts in result.json's
  // order, their short headers, and the colour thresholds.
  var PARTS = ["head", "torso", "left_arm", "right_arm", "left_leg", "right_leg"];
  var GOOD_SCORE = 80;  // green from here …
  var FAIR_SCORE = 60;  // … amber from here, red below

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

  // A phone is mostly one student's: their name and class stay filled in for the next clip.
  function rememberWhose() {
    var whose = { student: $("student").value.trim(), class_name: $("class-name").value.trim() };
    try { window.localStorage.setItem(WHOSE_KEY, JSON.stringify(whose)); } catch (e) { /* private mode */ }
  }

  function restoreWhose() {
    try {
      var whose = JSON.parse(window.localStorage.getItem(WHOSE_KEY) || "{}") || {};
      if (typeof whose.student === "string") { $("student").value = whose.student; }
      if (typeof whose.class_name === "string") { $("class-name").value = whose.class_name; }
    } catch (e) { /* nothing remembered */ }
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
    try { window.localStorage.removeItem(WHOSE_KEY); } catch (e) { /* private mode */ }
    $("student").value = "";
    $("class-name").value = "";
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

  // extra: {kind: "comparison"} for a comparison, or the teacher an upload was sent
  // with ({reference_job_id, reference_name}), so its comparison can be named later.
  function remember(jobId, filename, extra) {
    var entries = loadHistory().filter(function (e) { return e.job_id !== jobId; });
    var entry = { job_id: jobId, filename: filename, sent_ms: Date.now() };
    Object.keys(extra || {}).forEach(function (key) { entry[key] = extra[key]; });
    entries.unshift(entry);
    saveHistory(entries);
  }

  function findEntry(jobId) {
    return loadHistory().filter(function (e) { return e.job_id === jobId; })[0] || null;
  }

  function comparisonName(studentName, teacherName) {
    return (studentName || "clip") + " vs " + (teacherName || "the teacher's clip");
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
    var verb = status.kind === "comparison" ? "Comparing" : "Analysing";
    return verb + " (" + (status.progress || 0) + "%)";
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
          li.dataset.kind = status.kind || "analysis";
          if (status.status === "finished") {
            li.tabIndex = 0;
            li.addEventListener("click", function (event) {
              if (event.target.closest(".compare-toggle, .compare-form")) { return; }
              openResult(entry.job_id);
            });
            if (status.kind !== "comparison") { addCompare(li, entry); }
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

  // "Compare" on a finished clip: pick the teacher's clip, then a comparison job is made
  // (POST /compare) and followed like an upload.
  function addCompare(li, entry) {
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "link compare-toggle";
    toggle.textContent = "Compare";
    toggle.setAttribute("aria-expanded", "false");
    li.appendChild(toggle);
    toggle.addEventListener("click", function () {
      var open = li.querySelector(".compare-form");
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      if (open) { li.removeChild(open); return; }
      var form = document.createElement("div");
      form.className = "compare-form";
      var label = document.createElement("label");
      label.textContent = "With the teacher's clip";
      var menu = document.createElement("select");
      menu.className = "compare-teacher";
      menu.id = "compare-teacher-" + entry.job_id;
      label.htmlFor = menu.id;
      fillTeacherMenu(menu, "Choose the teacher's clip", entry.job_id);
      var go = document.createElement("button");
      go.type = "button";
      go.className = "compare-button";
      go.textContent = "Compare";
      go.addEventListener("click", function () { startComparison(entry, menu.value, go); });
      form.appendChild(label);
      form.appendChild(menu);
      form.appendChild(go);
      li.appendChild(form);
      menu.focus();
      menu.setAttribute("aria-busy", "true");  // the list may have grown since it was read
      loadTeachers().then(function () {
        fillTeacherMenu(menu, "Choose the teacher's clip", entry.job_id);
        menu.removeAttribute("aria-busy");
      });
    });
  }

  function startComparison(entry, teacherId, button) {
    if (!teacherId) { showError("Choose the teacher's clip to compare with."); return; }
    showError("");
    button.disabled = true;
    api("POST", API + "/compare", { student_job_id: entry.job_id, reference_job_id: teacherId })
      .then(function (accepted) {
        remember(accepted.job_id, comparisonName(entry.filename, teacherName(teacherId)),
          { kind: "comparison" });
        show("result-section", false);
        showHistory();
        follow(accepted.job_id);
      })
      .catch(function (failure) {
        button.disabled = false;
        handleFailure(failure);
      });
  }

  function fetchResult(jobId) {
    return api("GET", API + "/analyze/" + encodeURIComponent(jobId) + "/result");
  }

  function openResult(jobId) {
    showError("");
    fetchResult(jobId)
      .then(showResult)
      .then(function () { $("result-section").scrollIntoView(); })
      .catch(handleFailure);
  }

  var following = null;  // the job whose progress the upload area shows

  // Follows an analysis (and then its comparison, when it was sent with a teacher) or a
  // comparison until it ends, then shows its result.
  function follow(jobId) {
    if (following) { return; }
    following = jobId;
    $("upload-button").disabled = true;
    var entry = findEntry(jobId);
    poll(jobId, entry && entry.kind === "comparison" ? "Comparing" : "Analysing")
      .then(function (status) {
        if (status.comparison_job_id) { return followComparison(jobId, status); }
        setState("Done.", 100);
        return fetchResult(jobId).then(showResult);
      })
      .catch(function (failure) {
        setState("", null);
        handleFailure(failure);
      })
      .then(function () {
        following = null;
        $("upload-button").disabled = false;
        if (getToken()) {
          showHistory();
          loadTeachers();  // a clip that just finished may be someone's teacher
          loadLessons();
        }
      });
  }

  // The analysis finished and its comparison was queued: remember it, follow it, show
  // it. If the comparison fails, the analysis is shown with the reason.
  function followComparison(studentId, status) {
    var comparisonId = status.comparison_job_id;
    var student = findEntry(studentId) || {};
    if (!findEntry(comparisonId)) {
      var teacher = student.reference_name || teacherName(status.reference_job_id);
      remember(comparisonId, comparisonName(student.filename, teacher), { kind: "comparison" });
    }
    setState("Comparing with the teacher's clip…", 0);
    return poll(comparisonId, "Comparing").then(
      function () {
        setState("Done.", 100);
        return fetchResult(comparisonId).then(showResult);
      },
      function (failure) {
        if (failure.status === 401) { throw failure; }
        setState("", null);
        return fetchResult(studentId).then(showResult).then(function () {
          showError(failure.message);
        });
      }
    );
  }

  // -- teachers: the finished analyses on the server, to compare a clip with ----------

  var teachers = [];  // JobPublic of kind "analysis", newest first

  function loadTeachers() {
    return api("GET", API + "/jobs?status=finished&limit=200").then(
      function (body) {
        teachers = ((body && body.data) || [])
          .filter(function (job) { return job.kind === "analysis"; })
          .sort(function (a, b) { return Date.parse(b.created_at) - Date.parse(a.created_at); });
        fillTeacherMenu($("teacher"), "No comparison", null);
      },
      handleFailure
    );
  }

  function teacherName(jobId) {
    var found = teachers.filter(function (job) { return job.id === jobId; })[0];
    return found ? found.filename : "";
  }

  // Fills a teacher menu: the empty choice first, then the analyses by name and date,
  // keeping what was chosen when it is still there.
  function fillTeacherMenu(menu, emptyText, exceptId) {
    var chosen = menu.value;
    menu.textContent = "";
    var none = document.createElement("option");
    none.value = "";
    none.textContent = emptyText;
    menu.appendChild(none);
    var kept = false;
    teachers.forEach(function (job) {
      if (job.id === exceptId) { return; }
      var option = document.createElement("option");
      option.value = job.id;
      option.textContent = (job.filename || "clip") + " · " + sentAt(Date.parse(job.created_at));
      menu.appendChild(option);
      if (job.id === chosen) { kept = true; }
    });
    menu.value = kept ? chosen : "";
  }

  // -- upload ------------------------------------------------------------------------

  function showUpload() {
    show("pair-section", false);
    show("upload-section", true);
    showError("");
    showHistory();
    loadTeachers();
    loadLessons();
  }

  // -- my lessons (the studio's record of this phone's clips) -------------------------

  function lessonState(job) {
    if (job.status === "finished") {
      return job.overall_score === null || job.overall_score === undefined
        ? "Ready" : "Score " + Math.round(job.overall_score);
    }
    return describe({ status: job.status, kind: job.kind, progress: 0 });
  }

  function addLink(parent, className, text, href) {
    var link = document.createElement("a");
    link.className = className;
    link.textContent = text;
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener";
    parent.appendChild(link);
  }

  function lessonItem(job) {
    var li = document.createElement("li");
    li.dataset.jobId = job.job_id;
    li.dataset.status = job.status;
    li.dataset.kind = job.kind;
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = job.kind === "comparison" ? "Compared: " + job.filename : job.filename;
    var when = document.createElement("span");
    when.className = "when";
    when.textContent = sentAt(Date.parse(job.created_at)) +
      (job.student ? " · " + job.student + (job.class_name ? " (" + job.class_name + ")" : "") : "");
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = lessonState(job);
    li.appendChild(name);
    li.appendChild(when);
    li.appendChild(state);
    var downloads = job.downloads || {};
    var actions = document.createElement("span");
    actions.className = "actions";
    var video = downloads.ghost || downloads.overlay;
    if (video) { addLink(actions, "video-link", "Video", video); }
    if (downloads.practice) { addLink(actions, "practice-link", "Practice", downloads.practice); }
    if (downloads.report) { addLink(actions, "report-link", "Report", downloads.report); }
    if (job.status === "finished") {
      var watch = document.createElement("button");
      watch.type = "button";
      watch.className = "link watch";
      watch.textContent = "Watch here";
      watch.addEventListener("click", function () { openResult(job.job_id); });
      actions.appendChild(watch);
    }
    if (actions.children.length) { li.appendChild(actions); }
    // The links this phone was sent for the job (share links): listed as they come.
    var sent = Array.isArray(job.links) ? job.links : [];
    if (sent.length) {
      var list = document.createElement("ul");
      list.className = "sent-links";
      sent.forEach(function (shared) {
        var item = document.createElement("li");
        var until = sentAt(Date.parse(shared.expires_at));  // with the hour: it may be today
        addLink(item, "sent-link", (shared.title || shared.kind || "Shared link") +
          (until ? " (until " + until + ")" : ""), shared.url);
        list.appendChild(item);
      });
      li.appendChild(list);
    }
    return li;
  }

  function loadLessons() {
    return api("GET", API + "/me/jobs").then(
      function (body) {
        var jobs = (body && Array.isArray(body.data)) ? body.data : [];
        var list = $("lessons");
        list.textContent = "";
        jobs.forEach(function (job) { list.appendChild(lessonItem(job)); });
        show("no-lessons", jobs.length === 0);
        show("lessons-section", true);
      },
      function (failure) { if (failure.status === 401) { handleFailure(failure); } }
    );
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

  // verb: what the state line says while the job runs ("Analysing", "Comparing").
  function poll(jobId, verb) {
    return api("GET", API + "/analyze/" + encodeURIComponent(jobId) + "/status").then(function (s) {
      if (s.status === "finished") { return s; }
      if (s.status === "failed" || s.status === "canceled") {
        var what = s.kind === "comparison" ? "The comparison " : "The analysis ";
        var message = (s.error && s.error.message) || s.message || (what + s.status + ".");
        var reason = (s.error && s.error.reason) || s.status;
        throw new ApiFailure(422, { detail: { reason: reason, message: message } });
      }
      var stage = s.stage ? s.stage.replace(/_/g, " ") : s.status;
      setState(verb + ": " + stage + " (" + s.progress + "%)", s.progress);
      return wait(POLL_MS).then(function () { return poll(jobId, verb); });
    });
  }

  function onUpload() {
    var file = $("clip").files[0];
    if (!file) { showError("Choose or record a clip first."); return; }
    if (following) { return; }
    var contentType = file.type || "video/mp4";
    var filename = file.name || "clip.mp4";
    var teacherId = $("teacher").value;
    var sentWith = teacherId
      ? { reference_job_id: teacherId, reference_name: teacherName(teacherId) }
      : null;
    var button = $("upload-button");
    button.disabled = true;
    showError("");
    show("result-section", false);
    setState("Preparing the upload…", 0);
    var query = "?filename=" + encodeURIComponent(filename) +
      "&content_type=" + encodeURIComponent(contentType) + "&size=" + file.size +
      "&style=" + encodeURIComponent($("style").value || "auto") +
      "&student=" + encodeURIComponent($("student").value.trim()) +
      "&class_name=" + encodeURIComponent($("class-name").value.trim());
    api("POST", API + "/analyze/upload-url" + query)
      .then(function (ticket) {
        rememberWhose();
        remember(ticket.job_id, filename, sentWith);
        showHistory();
        return putFile(ticket.upload_url, file, contentType).then(function () { return ticket; });
      })
      .then(function (ticket) {
        setState("Queued for analysis…", 0);
        var confirmQuery = "?job_id=" + encodeURIComponent(ticket.job_id) +
          "&s3_key=" + encodeURIComponent(ticket.s3_key) +
          (teacherId ? "&reference_job_id=" + encodeURIComponent(teacherId) : "");
        return api("POST", API + "/analyze/confirm" + confirmQuery).then(function () { return ticket; });
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

  // The result of an analysis (overlay) or of a comparison (ghost, practice, the score
  // and the count sheet), and its feedback: a comparison lists only its own items.
  function showResult(result) {
    var links = (result && result.downloads) || {};
    var video = $("overlay");
    var picture = links.ghost || links.overlay;
    if (picture) { video.src = picture; } else { video.removeAttribute("src"); }
    var practice = $("practice");
    if (links.practice) { practice.src = links.practice; } else { practice.removeAttribute("src"); }
    show("practice-box", Boolean(links.practice));
    var entry = result && findEntry(result.job_id);
    $("result-title").textContent = result && result.kind === "comparison"
      ? (entry ? entry.filename : "Compared with the teacher's clip")
      : "Result";
    var line = musicLine(result && result.music);
    $("music").textContent = line;
    show("music", line !== "");
    showComparison(null);
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
        var comparison = analysis && analysis.comparison;
        showComparison(comparison || null);
        var items = ((analysis && analysis.feedback) || []).filter(function (item) {
          return !comparison || item.topic === "comparison";
        });
        if (comparison) {  // the comparison's own order: worst first (rank 1), then the rest
          items.sort(function (a, b) { return (a.rank || items.length) - (b.rank || items.length); });
        }
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
          li.addEventListener("click", function () { seek(item.time_ms); });
          list.appendChild(li);
        });
        $("no-feedback").textContent = comparison
          ? "No difference from the teacher worth a note."
          : "No feedback for this clip.";
        show("no-feedback", items.length === 0);
      });
  }

  function seek(ms) {
    var video = $("overlay");
    video.currentTime = (ms || 0) / 1000;
    video.play().catch(function () { /* autoplay may be refused; the seek stands */ });
  }

  // -- comparison: worded and coloured as the desktop's (gui/compare_view.py) ----------

  // Python's round(): an exact half goes to the even neighbour (80.5 → 80), so a score
  // reads the same here as on the desktop.
  function roundHalfEven(x) {
    var nearest = Math.round(x);
    return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : nearest;
  }

  function isNumber(x) { return typeof x === "number" && isFinite(x); }

  function scoreText(score) { return isNumber(score) ? String(roundHalfEven(score)) : "–"; }

  // Coloured by the number shown: a cell reading "80" is green, never amber.
  function scoreClass(score) {
    if (!isNumber(score)) { return "score-none"; }
    var shown = roundHalfEven(score);
    if (shown >= GOOD_SCORE) { return "score-good"; }
    if (shown >= FAIR_SCORE) { return "score-fair"; }
    return "score-poor";
  }

  // "counts 9–16" → "Counts 9–16 of phrase 2"; a time window ("0:04–0:08") as it is.
  function segmentTitle(label) {
    var match = /^counts (\d+)–(\d+)$/.exec(label || "");
    if (!match) { return label || ""; }
    var first = parseInt(match[1], 10);
    var last = parseInt(match[2], 10);
    var phrase = Math.floor((first - 1) / Math.max(last - first + 1, 1)) + 1;
    return "Counts " + first + "–" + last + " of phrase " + phrase;
  }

  // The student's lag in words: positive is behind the teacher, negative ahead.
  function timingText(timingMs) {
    if (!isNumber(timingMs)) { return "–"; }
    var rounded = roundHalfEven(timingMs);
    if (rounded === 0) { return "on time"; }
    return Math.abs(rounded) + " ms " + (rounded > 0 ? "behind" : "ahead");
  }

  // The line under the score: mirror, where and how fast (the desktop's summary_text,
  // less the score shown above it).
  function summaryText(comparison) {
    var parts = [comparison.mirrored
      ? "mirrored: the student dances the teacher's mirror image"
      : "not mirrored"];
    var offset = (Number(comparison.time_offset_ms) || 0) / 1000;
    parts.push("the teacher's start falls at " + (offset < 0 ? "-" : "+") +
      Math.abs(offset).toFixed(1) + " s in the student's clip");
    if (isNumber(comparison.tempo_ratio)) {
      parts.push("tempo " + comparison.tempo_ratio.toFixed(2) + "× the teacher's");
    }
    var method = comparison.alignment && comparison.alignment.method;
    if (method) { parts.push(method === "counts" ? "matched by the counts" : "matched by the moves"); }
    return parts.join(" · ");
  }

  var sheetRows = [];  // [{start_ms, end_ms, row}] of the count sheet shown

  // Fills the score, the summary and the count sheet; null hides them.
  function showComparison(comparison) {
    var body = $("sheet").tBodies[0];
    body.textContent = "";
    sheetRows = [];
    show("comparison", Boolean(comparison));
    show("sheet-box", Boolean(comparison));
    $("result-section").classList.toggle("comparing", Boolean(comparison));
    if (!comparison) { return; }
    var overall = $("overall");
    overall.textContent = scoreText(comparison.overall);
    overall.className = "score " + scoreClass(comparison.overall);
    $("summary").textContent = summaryText(comparison);
    (comparison.segments || []).forEach(function (segment) {
      var row = sheetRow(segment);
      body.appendChild(row);
      sheetRows.push({ start_ms: segment.start_ms, end_ms: segment.end_ms, row: row });
    });
  }

  function sheetRow(segment) {
    var row = document.createElement("tr");
    row.className = "segment-row";
    row.dataset.startMs = String(segment.start_ms || 0);
    row.tabIndex = 0;
    var name = document.createElement("th");
    name.scope = "row";
    var label = document.createElement("span");
    label.className = "label";
    // "Counts 17–24" kept on one line, " of phrase 3" wraps after it on a narrow phone.
    var title = segmentTitle(segment.label);
    var cut = title.indexOf(" of phrase ");
    var counts = document.createElement("span");
    counts.className = "counts";
    counts.textContent = cut < 0 ? title : title.slice(0, cut);
    label.appendChild(counts);
    if (cut >= 0) { label.appendChild(document.createTextNode(title.slice(cut))); }
    var timing = document.createElement("span");
    timing.className = "timing";
    timing.textContent = timingText(segment.timing_ms);
    name.appendChild(label);
    name.appendChild(timing);
    row.appendChild(name);
    var score = document.createElement("td");
    score.className = "score " + scoreClass(segment.score);
    score.textContent = scoreText(segment.score);
    row.appendChild(score);
    var parts = segment.parts && typeof segment.parts === "object" ? segment.parts : {};
    var known = Object.keys(parts).length > 0;
    PARTS.forEach(function (part) {
      var cell = document.createElement("td");
      cell.className = "part " + scoreClass(parts[part]);
      cell.dataset.part = part;
      cell.textContent = scoreText(parts[part]);
      if (part === segment.worst_part) {  // named even without part scores
        cell.className += " worst";
        cell.title = "The weakest part in this segment";
        if (!known) { cell.textContent = "worst"; }
      }
      row.appendChild(cell);
    });
    function onTap() { seek(segment.start_ms); }
    row.addEventListener("click", onTap);
    row.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onTap(); }
    });
    return row;
  }

  // The row under the playhead is marked, so the sheet follows the video.
  function markPlaying() {
    var ms = $("overlay").currentTime * 1000 + 1;  // a seek to a start may land a hair short
    sheetRows.forEach(function (entry) {
      entry.row.classList.toggle("current", entry.start_ms <= ms && ms < entry.end_ms);
    });
  }

  // -- start -------------------------------------------------------------------------

  function start() {
    $("pair-form").addEventListener("submit", onPair);
    $("upload-button").addEventListener("click", onUpload);
    $("forget-button").addEventListener("click", forget);
    $("overlay").addEventListener("timeupdate", markPlaying);
    $("overlay").addEventListener("seeked", markPlaying);
    restoreWhose();
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
