// rollcall's staff pages: the live roll call (Server-Sent Events), forms sent without leaving the
// page, and Today's counts. The pages work without this script; it only makes them live.
"use strict";
(function () {
  window.rollcallLatencies = [];

  function updateCounts(root, counts) {
    for (const name of Object.keys(counts)) {
      const cell = root.querySelector('[data-count="' + name + '"]');
      if (cell) cell.textContent = String(counts[name]);
    }
  }

  // Live roll call: the hub sends the whole roster whenever it changes.
  const live = document.body.dataset.live;
  if (live) {
    const state = document.getElementById("stream-state");
    const source = new EventSource("/live/sessions/" + live + "/stream");
    source.onopen = function () { state.textContent = "Connected."; document.body.dataset.stream = "open"; };
    source.onerror = function () { state.textContent = "Reconnecting…"; document.body.dataset.stream = "lost"; };
    source.addEventListener("refused", function (message) { state.textContent = message.data; });
    source.addEventListener("roster", function (message) {
      const roster = JSON.parse(message.data);
      updateCounts(document, roster.counts);
      for (const line of roster.lines) {
        const row = document.querySelector('[data-person="' + CSS.escape(line.person) + '"]');
        if (!row) continue;
        const badge = row.querySelector(".state");
        const changed = badge.dataset.outcome !== line.outcome || badge.textContent !== line.label;
        badge.dataset.outcome = line.outcome;
        badge.textContent = line.label;
        row.className = "person " + line.outcome;
        row.querySelector(".detail").textContent = line.detail;
        row.querySelector(".flags").textContent = line.flags.length ? "Flags: " + line.flags.join(", ").toLowerCase().replace(/_/g, " ") : "";
        if (changed && line.storedAt) {
          // From the hub storing the record to the page showing it (same clock when on one machine).
          window.rollcallLatencies.push({ person: line.person, outcome: line.outcome, ms: Date.now() - line.storedAt });
        }
      }
      document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
    });
  }

  // Forms: sent in the background; the stream brings the change back.
  for (const form of document.querySelectorAll("form.js-fetch")) {
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      const problem = document.getElementById("form-problem");
      const body = new URLSearchParams(new FormData(form, event.submitter));
      try {
        const answer = await fetch(form.action, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-Rollcall-Script": "1" }
        });
        if (!answer.ok) {
          const page = new DOMParser().parseFromString(await answer.text(), "text/html");
          const message = page.querySelector("main p");
          throw new Error(message ? message.textContent : "The hub refused (" + answer.status + ").");
        }
        if (problem) problem.hidden = true;
        const reason = form.querySelector("input.reason");
        if (reason) reason.value = "";
        const details = form.closest("details");
        if (details) details.open = false;
      } catch (error) {
        if (problem) { problem.textContent = error.message; problem.hidden = false; }
      }
    });
  }

  // Bulk enrollment: the files sent in the background, the hub's report read line by line as it checks each
  // row's photos, into a progress bar and a table. (Without the script the form posts and the hub answers
  // with the report page, filled in the same way.)
  const bulk = document.getElementById("bulk-form");
  if (bulk && window.fetch && window.TextDecoder) {
    const labels = { stored: "stored", partly: "stored, some photos refused", refused: "nothing stored" };
    const part = function (id) { return document.getElementById(id); };
    // When each line arrived (for the end-to-end test: the rows come while the hub works, not at the end).
    window.rollcallBulk = [];
    bulk.addEventListener("submit", async function (event) {
      event.preventDefault();
      const bar = part("bulk-bar"), status = part("bulk-status"), problem = part("bulk-problem");
      const table = part("bulk-results"), rows = table.querySelector("tbody"), summary = part("bulk-summary");
      const download = part("bulk-download"), after = part("bulk-after");
      const button = bulk.querySelector("button[type=submit]");
      part("bulk-progress").hidden = false;
      for (const hidden of [problem, summary, after, table]) hidden.hidden = true;
      rows.textContent = "";
      bar.removeAttribute("value");
      bar.setAttribute("aria-valuetext", "sending the files");
      status.textContent = "Sending the files…";
      button.disabled = true;
      document.body.dataset.bulk = "sending";
      window.rollcallBulk = [];
      let total = 0;
      function cell(row, text) {
        const td = document.createElement("td");
        td.textContent = text;
        row.appendChild(td);
        return td;
      }
      function show(line) {
        window.rollcallBulk.push({ type: line.type, row: line.row || 0, at: Date.now() });
        if (line.type === "start") {
          total = line.rows;
          bar.max = Math.max(1, total);
          bar.value = 0;
          bar.setAttribute("aria-valuetext", "row 0 of " + total);
          status.textContent = "Checking the photos: row 0 of " + total + ".";
          table.hidden = false;
          document.body.dataset.bulk = "running";
        } else if (line.type === "row") {
          const where = "row " + line.row + " of " + total;
          bar.value = line.row;
          bar.setAttribute("aria-valuetext", where);
          status.textContent = "Checking the photos: " + where + ".";
          const row = document.createElement("tr");
          row.className = line.outcome;
          row.dataset.id = line.id;
          for (const text of [String(line.line), line.id, line.name, labels[line.outcome] || line.outcome,
            line.enrolled + " of " + line.photos]) cell(row, text);
          const reasons = cell(row, "");
          for (const refusal of line.refusals) {
            const reason = document.createElement("div");
            reason.textContent = refusal;
            reasons.appendChild(reason);
          }
          if (line.consent) {
            const note = document.createElement("div");
            note.className = "note";
            note.textContent = "consent recorded: " + line.consent;
            reasons.appendChild(note);
          }
          rows.appendChild(row);
        } else if (line.type === "summary") {
          bar.value = bar.max;
          bar.setAttribute("aria-valuetext", "done");
          status.textContent = "Done: " + line.text + ".";
          summary.textContent = line.text + ". " + line.checked + " photos checked in " + line.seconds.toFixed(1) +
            " s." + (line.stopped ? " " + line.stopped + "." : "");
          summary.className = line.problems === 0 && !line.stopped ? "notice" : "problem";
          summary.hidden = false;
          download.href = URL.createObjectURL(new Blob([line.csv], { type: "text/csv" }));
          after.hidden = false;
          document.body.dataset.bulk = "done";
        }
      }
      try {
        const answer = await fetch(bulk.action, {
          method: "POST", body: new FormData(bulk), credentials: "same-origin",
          headers: { "Accept": "application/x-ndjson" }
        });
        if (!answer.ok) {
          const page = new DOMParser().parseFromString(await answer.text(), "text/html");
          const message = page.querySelector("main p");
          throw new Error(message ? message.textContent : "The hub refused (" + answer.status + ").");
        }
        const reader = answer.body.getReader();
        const decoder = new TextDecoder();
        let pending = "";
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          pending += decoder.decode(chunk.value, { stream: true });
          let end;
          while ((end = pending.indexOf("\n")) >= 0) {
            const text = pending.slice(0, end);
            pending = pending.slice(end + 1);
            if (text.trim()) show(JSON.parse(text));
          }
        }
        if (document.body.dataset.bulk !== "done") {
          throw new Error("The answer stopped before its end: the People list shows who was stored.");
        }
      } catch (error) {
        problem.textContent = error.message;
        problem.hidden = false;
        status.textContent = "";
        bar.value = 0;
        bar.setAttribute("aria-valuetext", "stopped");
        document.body.dataset.bulk = "failed";
      } finally {
        button.disabled = false;
      }
    });
  }

  // Today: the counts of each session, every 5 seconds.
  if (document.body.dataset.today) {
    setInterval(async function () {
      try {
        const answer = await fetch("/?format=json", { credentials: "same-origin" });
        if (!answer.ok) return;
        for (const session of await answer.json()) {
          const card = document.querySelector('[data-session="' + CSS.escape(session.session) + '"]');
          if (card) updateCounts(card, session);
        }
      } catch (error) { /* the next round tries again */ }
    }, 5000);
  }
})();
