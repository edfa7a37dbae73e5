/// The web page, served from the binary: one HTML document with its CSS and JS, no build step, no CDN.
///
/// It follows `/events` (Server-Sent Events: a `snapshot` to start from, then one `call` per publish call;
/// the browser resumes with `Last-Event-ID` when the stream drops), keeps every video's count (counts only grow),
/// and polls `/stats` and `/status` once a second for the processor's own figures where they are served (not by
/// `playcount-web`). For tests and scripts it sets `data-` attributes: `data-video` and `data-plays` on rows,
/// `data-calls`, `data-videos`, `data-plays` and `data-last-event` on `<body>`, and `window.playcount` offers
/// `reconnect()` (a new stream that resumes from the last event seen).
enum WebPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>playcount</title>
        <style>
          :root { --fg: #1d2330; --muted: #6b7280; --line: #e5e7eb; --accent: #2563eb; --held: #b45309; --new: #fef3c7; }
          * { box-sizing: border-box; }
          body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f8fafc; }
          header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
          header h1 { font-size: 1.2rem; margin: 0; }
          #connection { font-size: .85rem; color: var(--muted); }
          #connection.live::before { content: "● "; color: #16a34a; }
          #connection.down::before { content: "● "; color: #dc2626; }
          main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
          .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(135px, 1fr)); gap: .6rem; }
          .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem .8rem; }
          .card .label { color: var(--muted); font-size: .75rem; text-transform: uppercase; letter-spacing: .04em; }
          .card .value { font-size: 1.35rem; font-variant-numeric: tabular-nums; }
          .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .6rem .8rem; }
          canvas { width: 100%; height: 140px; display: block; }
          .legend { font-size: .8rem; color: var(--muted); }
          .legend .calls { color: var(--accent); } .legend .plays { color: #16a34a; }
          table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
          th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); }
          th { cursor: pointer; user-select: none; color: var(--muted); font-weight: 600; }
          th.sorted::after { content: " ▾"; } th.sorted.asc::after { content: " ▴"; }
          td.plays { text-align: right; } th.plays { text-align: right; }
          td.video { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85rem; }
          tr.changed td { background: var(--new); transition: background 1.5s; }
          .state-held { color: var(--held); } .state-realtime { color: var(--accent); }
          #note { color: var(--muted); font-size: .8rem; }
        </style>
        </head>
        <body data-calls="0" data-videos="0" data-plays="0" data-last-event="">
        <header><h1>playcount</h1><span id="connection">connecting…</span></header>
        <main>
          <section class="cards">
            <div class="card"><div class="label">videos</div><div class="value" id="videos">0</div></div>
            <div class="card"><div class="label">plays shown</div><div class="value" id="plays">0</div></div>
            <div class="card"><div class="label">calls</div><div class="value" id="calls">0</div></div>
            <div class="card"><div class="label">lower bound</div><div class="value" id="bound">–</div></div>
            <div class="card"><div class="label">calls / minute</div><div class="value" id="cpm">0</div></div>
            <div class="card"><div class="label">plays / s</div><div class="value" id="pps">0</div></div>
            <div class="card"><div class="label">held videos</div><div class="value" id="held">–</div></div>
            <div class="card"><div class="label">next deadline</div><div class="value" id="deadline">–</div></div>
          </section>
          <section class="panel">
            <div class="legend">last 2 minutes, per second: <span class="calls">■ calls</span> · <span class="plays">■ plays shown</span></div>
            <canvas id="chart" width="1200" height="140"></canvas>
          </section>
          <section class="panel">
            <table>
              <thead><tr><th data-key="video">video</th><th data-key="plays" class="plays sorted">plays</th><th>state</th><th>last update</th></tr></thead>
              <tbody id="rows"></tbody>
            </table>
            <div id="note"></div>
          </section>
        </main>
        <script>
        "use strict";
        (() => {
          const MAX_ROWS = 5000, HIGHLIGHT_MS = 1500, SPAN_S = 120;
          const videos = new Map();            // id -> {plays, updated, changedAt}
          let threshold = 100, calls = 0, lastEvent = null, totalPlays = 0;
          let sortKey = "plays", descending = true, source = null, renderPending = false;
          const callTimes = [];                // receipt times of calls, for calls per minute
          const perSecond = new Map();         // whole second -> {calls, plays}
          const $ = id => document.getElementById(id);

          function setCount(id, plays, updated, changed) {
            const known = videos.get(id);
            if (known && known.plays >= plays) return 0;
            videos.set(id, { plays, updated, changedAt: changed ? performance.now() : 0 });
            return plays - (known ? known.plays : 0);
          }
          function second(now) {
            const key = Math.floor(now / 1000);
            if (!perSecond.has(key)) perSecond.set(key, { calls: 0, plays: 0 });
            return perSecond.get(key);
          }
          function onSnapshot(event) {
            const snapshot = JSON.parse(event.data);
            threshold = snapshot.realtime_threshold;
            calls = Math.max(calls, snapshot.calls);
            for (const [id, [plays, updated]] of Object.entries(snapshot.videos)) totalPlays += setCount(id, plays, updated, false);
            lastEvent = event.lastEventId;
            schedule();
          }
          function onCall(event) {
            const call = JSON.parse(event.data);
            let added = 0;
            for (const [id, plays] of Object.entries(call.counts)) added += setCount(id, plays, call.published_at, true);
            totalPlays += added;
            calls = Math.max(calls, call.calls);
            const now = Date.now();
            callTimes.push(now);
            const bucket = second(now);
            bucket.calls += 1;
            bucket.plays += added;
            lastEvent = event.lastEventId;
            schedule();
          }
          function connect(resumeFrom) {
            if (source) source.close();
            source = new EventSource(resumeFrom == null || resumeFrom === "" ? "events" : "events?last_event_id=" + encodeURIComponent(resumeFrom));
            source.addEventListener("snapshot", onSnapshot);
            source.addEventListener("call", onCall);
            source.onopen = () => { $("connection").textContent = "live"; $("connection").className = "live"; };
            source.onerror = () => { $("connection").textContent = "reconnecting…"; $("connection").className = "down"; };
          }
          function schedule() {
            if (renderPending) return;
            renderPending = true;
            requestAnimationFrame(render);
          }
          function render() {
            renderPending = false;
            const now = performance.now();
            const entries = [...videos.entries()];
            entries.sort(sortKey === "video"
              ? (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (descending ? -1 : 1)
              : (a, b) => (a[1].plays - b[1].plays) * (descending ? -1 : 1) || (a[0] < b[0] ? -1 : 1));
            const shown = entries.slice(0, MAX_ROWS);
            const rows = $("rows");
            const fragment = document.createDocumentFragment();
            for (const [id, video] of shown) {
              const row = document.createElement("tr");
              row.dataset.video = id;
              row.dataset.plays = String(video.plays);
              if (video.changedAt && now - video.changedAt < HIGHLIGHT_MS) row.className = "changed";
              const held = video.plays >= threshold;
              row.innerHTML = `<td class="video"></td><td class="plays"></td><td class="state ${held ? "state-held" : "state-realtime"}">${held ? "held" : "realtime"}</td><td class="updated"></td>`;
              row.children[0].textContent = id;
              row.children[1].textContent = video.plays.toLocaleString("en-US");
              row.children[3].textContent = video.updated.replace("T", " ").replace(/\.\d+Z$/, "Z");
              fragment.appendChild(row);
            }
            rows.replaceChildren(fragment);
            $("note").textContent = entries.length > MAX_ROWS ? `showing ${MAX_ROWS} of ${entries.length} videos` : "";
            $("videos").textContent = videos.size.toLocaleString("en-US");
            $("plays").textContent = totalPlays.toLocaleString("en-US");
            $("calls").textContent = calls.toLocaleString("en-US");
            document.body.dataset.calls = String(calls);
            document.body.dataset.videos = String(videos.size);
            document.body.dataset.plays = String(totalPlays);
            document.body.dataset.lastEvent = lastEvent == null ? "" : String(lastEvent);
            if (shown.some(([, video]) => video.changedAt && now - video.changedAt < HIGHLIGHT_MS)) setTimeout(schedule, HIGHLIGHT_MS);
          }
          function tick() {
            const now = Date.now();
            while (callTimes.length && now - callTimes[0] > 60000) callTimes.shift();
            $("cpm").textContent = String(callTimes.length);
            let recent = 0;
            for (let s = Math.floor(now / 1000) - 5; s < Math.floor(now / 1000); s++) recent += (perSecond.get(s) || { plays: 0 }).plays;
            $("pps").textContent = Math.round(recent / 5).toLocaleString("en-US");
            for (const key of perSecond.keys()) if (key < Math.floor(now / 1000) - SPAN_S) perSecond.delete(key);
            drawChart(now);
            poll();
          }
          function drawChart(now) {
            const canvas = $("chart"), context = canvas.getContext("2d");
            const width = canvas.width, height = canvas.height, last = Math.floor(now / 1000);
            context.clearRect(0, 0, width, height);
            let maxCalls = 1, maxPlays = 1;
            for (let s = last - SPAN_S; s <= last; s++) {
              const bucket = perSecond.get(s);
              if (bucket) { maxCalls = Math.max(maxCalls, bucket.calls); maxPlays = Math.max(maxPlays, bucket.plays); }
            }
            const step = width / (SPAN_S + 1);
            for (const [series, color, max] of [["plays", "#16a34a", maxPlays], ["calls", "#2563eb", maxCalls]]) {
              context.strokeStyle = color;
              context.lineWidth = 2;
              context.beginPath();
              for (let s = last - SPAN_S, x = 0; s <= last; s++, x += step) {
                const value = (perSecond.get(s) || { calls: 0, plays: 0 })[series];
                const y = height - 4 - (height - 8) * value / max;
                if (s === last - SPAN_S) context.moveTo(x, y); else context.lineTo(x, y);
              }
              context.stroke();
            }
          }
          async function poll() {
            try {
              const stats = await fetch("stats", { cache: "no-store" });
              if (stats.ok) $("bound").textContent = (await stats.json()).lower_bound.toLocaleString("en-US");
              const status = await fetch("status", { cache: "no-store" });
              if (status.ok) {
                const processor = (await status.json()).processorStatus;
                if (processor) {
                  $("held").textContent = String(processor.held_videos);
                  const deadline = processor.next_deadline_ns;
                  $("deadline").textContent = deadline ? Math.max(0, (deadline / 1e6 - Date.now()) / 1000).toFixed(1) + " s" : "–";
                }
              }
            } catch (error) { /* not served here (playcount-web), or the server is gone */ }
          }
          for (const header of document.querySelectorAll("th[data-key]")) {
            header.addEventListener("click", () => {
              const key = header.dataset.key;
              descending = key === sortKey ? !descending : key === "plays";
              sortKey = key;
              for (const other of document.querySelectorAll("th[data-key]")) other.classList.remove("sorted", "asc");
              header.classList.add("sorted");
              if (!descending) header.classList.add("asc");
              schedule();
            });
          }
          window.playcount = { reconnect: () => connect(lastEvent), videos };
          connect(null);
          setInterval(tick, 1000);
        })();
        </script>
        </body>
        </html>
        """#
}
