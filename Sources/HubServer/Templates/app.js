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
