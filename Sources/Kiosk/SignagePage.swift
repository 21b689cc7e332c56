/// The door screen's page: full screen, legible from two metres, no external resources. It listens
/// to `/events` (Server-Sent Events): `state` (room, the session now, online or offline with the queue)
/// and `decision` (a greeting for a few seconds). Stable ids for tests: `#greeting`, `#idle`,
/// `#offline`, `#room`, `#clock`; after each greeting `body.dataset.lastEvent` and
/// `body.dataset.latencyMs` (commit to screen), and `window.rollcallLatencies`.
enum SignagePage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>rollcall</title>
        <style>
          :root { --bg: #0f1720; --fg: #f4f6f8; --dim: #9aa7b4; --ok: #1f9d55; --late: #d98e04; --bad: #c0392b; }
          * { box-sizing: border-box; }
          html, body { margin: 0; height: 100%; overflow: hidden; background: var(--bg); color: var(--fg);
            font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
          body { display: grid; grid-template-rows: auto 1fr auto; }
          header { display: flex; justify-content: space-between; align-items: baseline; padding: 2.5vh 4vw;
            font-size: clamp(18px, 4.5vh, 48px); color: var(--dim); }
          #room { font-weight: bold; color: var(--fg); }
          main { display: flex; align-items: center; justify-content: center; padding: 0 5vw; text-align: center; }
          #idle { font-size: clamp(28px, 9vh, 110px); font-weight: bold; line-height: 1.15; text-wrap: balance; }
          #greeting { display: none; font-size: clamp(30px, 10vh, 120px); font-weight: bold; line-height: 1.15;
            padding: 4vh 4vw; border-radius: 3vh; text-wrap: balance; }
          body.greeting #idle { display: none; }
          body.greeting #greeting { display: block; }
          #greeting.ok { background: var(--ok); } #greeting.late { background: var(--late); color: #111; }
          #greeting.bad { background: var(--bad); } #greeting.info { background: #2c3e50; }
          footer { display: flex; justify-content: space-between; padding: 2vh 4vw; font-size: clamp(14px, 3.5vh, 36px);
            color: var(--dim); min-height: 7vh; }
          #offline { background: var(--bad); color: #fff; padding: 0.4vh 1.5vw; border-radius: 1vh; font-weight: bold; }
          #connecting { color: var(--late); }
        </style>
        </head>
        <body>
        <header><span id="room">rollcall</span><span id="clock"></span></header>
        <main><div id="idle">starting…</div><div id="greeting" role="status" aria-live="assertive"></div></main>
        <footer><span id="connecting">connecting…</span><span id="offline" hidden>offline</span></footer>
        <script>
        (function () {
          "use strict";
          var $ = function (id) { return document.getElementById(id); };
          var hideTimer = null;
          window.rollcallLatencies = [];

          function two(n) { return (n < 10 ? "0" : "") + n; }
          function hhmm(iso) { var d = new Date(iso); return two(d.getHours()) + ":" + two(d.getMinutes()); }
          function tick() { var d = new Date(); $("clock").textContent = two(d.getHours()) + ":" + two(d.getMinutes()); }
          tick(); setInterval(tick, 1000);

          function duration(seconds) {
            var minutes = Math.floor((seconds || 0) / 60);
            if (minutes < 1) return "less than a minute";
            if (minutes < 60) return minutes + " min";
            return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
          }
          function words(text) { return String(text || "").replace(/_/g, " "); }

          function message(d) {
            var who = d.name || "Welcome";
            switch (d.kind) {
              case "checkin":
                if (d.status === "late") return [who + ", you're checked in, late" + (d.minutes_late ? " · " + d.minutes_late + " min" : ""), "late"];
                return [who + ", you're checked in, on time", "ok"];
              case "entry": return [who + ", signed in", "ok"];
              case "exit": return [who + ", signed out" + (d.duration_seconds == null ? "" : " · " + duration(d.duration_seconds)), "ok"];
              case "rejected_badge": return ["badge not valid" + (d.reason ? ": " + words(d.reason) : ""), "bad"];
              case "no_checkin": return [(d.name ? d.name + ", not" : "not") + " checked in" + (d.reason ? ": " + words(d.reason) : ""), "info"];
              default: return null;
            }
          }

          function showDecision(d) {
            var shown = message(d);
            if (!shown) return;
            var el = $("greeting");
            el.textContent = shown[0];
            el.className = shown[1];
            document.body.classList.add("greeting");
            clearTimeout(hideTimer);
            hideTimer = setTimeout(function () {
              document.body.classList.remove("greeting");
              el.textContent = "";
            }, 6000);
            requestAnimationFrame(function () {
              var latency = Date.now() - d.committed_at_ms;
              window.rollcallLatencies.push(latency);
              document.body.dataset.latencyMs = String(latency);
              document.body.dataset.lastEvent = d.id || d.kind;
            });
          }

          function showState(s) {
            if (s.room) $("room").textContent = "Room " + s.room;
            $("idle").textContent = s.session
              ? s.session.group + " · " + hhmm(s.session.start) + "–" + hhmm(s.session.end)
              : "no class in this room now";
            var off = $("offline");
            if (s.online) { off.hidden = true; off.textContent = ""; }
            else { off.hidden = false; off.textContent = s.queue > 0 ? "offline · " + s.queue + " waiting" : "offline"; }
          }

          // For the browser tests (tools/signage/check_page.py) to render every state without a daemon.
          window.rollcall = { showDecision: showDecision, showState: showState };

          if (location.protocol === "file:") { $("connecting").hidden = true; return; }
          var source = new EventSource("events");
          source.onopen = function () { $("connecting").hidden = true; };
          source.onerror = function () { $("connecting").hidden = false; };
          source.addEventListener("state", function (e) { showState(JSON.parse(e.data)); });
          source.addEventListener("decision", function (e) { showDecision(JSON.parse(e.data)); });
        })();
        </script>
        </body>
        </html>
        """#
}
