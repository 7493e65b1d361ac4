// The graph page (net/page_assets.h), as one raw string: HTML, CSS and JS inline, no external URL.
// The JS polls /graph?limit=400 and /stats once a second (same origin), draws on a <canvas> sized to
// the window, and never throws out of a poll (a failed fetch shows in the header and data-error).
#include "net/page_assets.h"

namespace chatter {

namespace {

constexpr std::string_view kPage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chatter: hashgraph</title>
<style>
  html, body { margin: 0; height: 100%; background: #14161b; color: #d8dce4;
               font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  #wrap { display: flex; height: 100%; }
  #graph { flex: 1; position: relative; min-width: 0; }
  canvas { display: block; width: 100%; height: 100%; }
  #side { width: 260px; padding: 14px 16px; box-sizing: border-box; background: #1c1f26;
          border-left: 1px solid #2b2f39; overflow-y: auto; }
  h1 { font-size: 15px; margin: 0 0 2px; }
  #sub { color: #8a91a0; margin-bottom: 12px; word-break: break-all; }
  table { border-collapse: collapse; width: 100%; }
  td { padding: 3px 0; border-bottom: 1px solid #262a33; }
  td.v { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 9px; background: #2d6a4f; color: #fff; }
  .state.warn { background: #9c6644; } .state.bad { background: #9b2226; }
  #legend { margin-top: 14px; color: #8a91a0; }
  #legend div { margin: 4px 0; } .sw { display: inline-block; width: 10px; height: 10px;
  border-radius: 50%; margin-right: 6px; vertical-align: -1px; }
  #err { color: #e76f51; margin-top: 10px; min-height: 1em; word-break: break-word; }
</style>
</head>
<body data-updates="0" data-events="0" data-event-count="0" data-last-round="-1" data-witnesses="0"
      data-famous="0" data-committed="0" data-blocks="0" data-state="" data-error="">
<div id="wrap">
  <div id="graph"><canvas id="cv"></canvas></div>
  <div id="side">
    <h1>chatter node <span id="moniker"></span></h1>
    <div id="sub">id <span id="nid">?</span></div>
    <table>
      <tr><td>state</td><td class="v"><span id="state" class="state">?</span></td></tr>
      <tr><td>last round</td><td class="v" id="round">-</td></tr>
      <tr><td>consensus round</td><td class="v" id="cround">-</td></tr>
      <tr><td>blocks</td><td class="v" id="blocks">-</td></tr>
      <tr><td>transactions</td><td class="v" id="txs">-</td></tr>
      <tr><td>tx/s</td><td class="v" id="tps">-</td></tr>
      <tr><td>peers</td><td class="v" id="peers">-</td></tr>
      <tr><td>events (total)</td><td class="v" id="evtotal">-</td></tr>
      <tr><td>events drawn</td><td class="v" id="evdrawn">-</td></tr>
      <tr><td>undetermined</td><td class="v" id="undet">-</td></tr>
      <tr><td>pool</td><td class="v" id="pool">-</td></tr>
    </table>
    <div id="legend">
      <div><span class="sw" style="background:#8a91a0"></span>round received not decided yet</div>
      <div><span class="sw" style="background:#3f4550"></span>ordered, in no block (round without transactions)</div>
      <div><span class="sw" style="background:hsl(200,70%,60%)"></span>coloured by block</div>
      <div><span class="sw" style="border:2px solid #fff;width:8px;height:8px"></span>witness</div>
      <div><span class="sw" style="background:#ffd166;border:2px solid #fff;width:8px;height:8px"></span>famous witness</div>
      <div>strips: rounds (alternating shades; label at left, level with the witnesses)</div>
    </div>
    <div id="err"></div>
  </div>
</div>
<script>
"use strict";
(function () {
  var LIMIT = 400, PERIOD = 1000;
  var cv = document.getElementById("cv"), ctx = cv.getContext("2d"), body = document.body;
  var graph = null, stats = null, updates = 0;
  function $(id) { return document.getElementById(id); }
  function text(id, v) { $(id).textContent = (v === null || v === undefined) ? "-" : String(v); }
  function blockColour(b) { return "hsl(" + ((b * 137.508) % 360).toFixed(1) + ",70%,60%)"; }

  function draw() {
    var dpr = window.devicePixelRatio || 1, W = cv.clientWidth, H = cv.clientHeight;
    if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
      cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#14161b"; ctx.fillRect(0, 0, W, H);
    if (!graph || !graph.events || graph.events.length === 0) {
      ctx.fillStyle = "#8a91a0"; ctx.font = "14px system-ui, sans-serif";
      ctx.fillText(graph ? "no events yet" : "waiting for /graph ...", 20, 30);
      return { events: 0, witnesses: 0, famous: 0, committed: 0 };
    }
    var all = graph.events, creators = graph.creators || [], col = {}, i, newest = -Infinity;
    var top = 34, bottom = 16, left = 48, right = 12, MIN_STEP = 9;
    // Only the newest lamport levels that fit at MIN_STEP pixels each (a tall graph stays legible).
    for (i = 0; i < all.length; i++) if (typeof all[i].lamport === "number") newest = Math.max(newest, all[i].lamport);
    if (!isFinite(newest)) newest = 0;
    var levels = Math.max(4, Math.floor((H - top - bottom) / MIN_STEP));
    var evs = all.filter(function (e) { return typeof e.lamport !== "number" || e.lamport > newest - levels; });
    for (i = 0; i < creators.length; i++) col[creators[i].id] = i;
    var ncol = creators.length;
    var minL = Infinity, maxL = -Infinity, byHash = {};
    for (i = 0; i < evs.length; i++) {
      var e = evs[i];
      if (!(e.creator_id in col)) col[e.creator_id] = ncol++;
      var l = (typeof e.lamport === "number") ? e.lamport : newest;
      e._l = l; byHash[e.hash] = e;
      if (l < minL) minL = l; if (l > maxL) maxL = l;
    }
    ncol = Math.max(1, ncol);
    var colW = (W - left - right) / ncol;
    var step = Math.min(18, (H - top - bottom) / Math.max(1, maxL - minL));
    var r = Math.max(2.5, Math.min(6, step * 0.38, colW * 0.12));
    function X(e) { return left + (col[e.creator_id] + 0.5) * colW; }
    function Y(e) { return top + (maxL - e._l) * step; }

    // Rounds: behind each creator's events of a round a shaded strip (alternating by round), and the
    // round's label at the left, level with its witnesses.
    var strips = {}, labels = {};
    for (i = 0; i < evs.length; i++) {
      var ev = evs[i];
      if (typeof ev.round !== "number") continue;
      var key = ev.round + "/" + ev.creator_id;
      var sp0 = strips[key] || (strips[key] = { round: ev.round, x: X(ev), lo: Infinity, hi: -Infinity });
      sp0.lo = Math.min(sp0.lo, Y(ev)); sp0.hi = Math.max(sp0.hi, Y(ev));
      if (ev.witness) { var lb = labels[ev.round] || (labels[ev.round] = { sum: 0, n: 0 }); lb.sum += Y(ev); lb.n++; }
    }
    var sw = Math.max(8, Math.min(34, colW * 0.35));
    Object.keys(strips).forEach(function (k) {
      var st = strips[k];
      ctx.fillStyle = st.round % 2 ? "rgba(110,140,220,0.22)" : "rgba(110,210,170,0.16)";
      ctx.fillRect(st.x - sw / 2, st.lo - r - 2, sw, st.hi - st.lo + 2 * r + 4);
    });
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#8a91a0";
    Object.keys(labels).forEach(function (k) {
      var lb = labels[k], y = lb.sum / lb.n;
      ctx.fillText("r" + k, 6, y + 4);
      ctx.strokeStyle = "rgba(140,145,160,0.18)"; ctx.beginPath();
      ctx.moveTo(left - 6, y); ctx.lineTo(W - right, y); ctx.stroke();
    });
    // Creator columns and their names.
    for (i = 0; i < ncol; i++) {
      var cx = left + (i + 0.5) * colW;
      ctx.strokeStyle = "#262a33"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(cx, top - 8); ctx.lineTo(cx, H - bottom + 6); ctx.stroke();
      var c = creators[i];
      ctx.fillStyle = "#c0c6d2"; ctx.textAlign = "center";
      ctx.fillText(c ? (c.Moniker || ("id " + c.id)) : "?", cx, 18);
      ctx.textAlign = "left";
    }
    // Parent edges: self parent (own column) and other parent.
    ctx.lineWidth = 1;
    for (i = 0; i < evs.length; i++) {
      var x = evs[i], sp = x.self_parent && byHash[x.self_parent], op = x.other_parent && byHash[x.other_parent];
      if (sp) { ctx.strokeStyle = "rgba(200,205,215,0.35)"; ctx.beginPath();
        ctx.moveTo(X(x), Y(x)); ctx.lineTo(X(sp), Y(sp)); ctx.stroke(); }
      if (op) { ctx.strokeStyle = "rgba(140,170,230,0.30)"; ctx.beginPath();
        ctx.moveTo(X(x), Y(x)); ctx.lineTo(X(op), Y(op)); ctx.stroke(); }
    }
    // Events.
    var counts = { events: evs.length, witnesses: 0, famous: 0, committed: 0 };
    for (i = 0; i < evs.length; i++) {
      var d = evs[i], px = X(d), py = Y(d), committed = typeof d.block === "number";
      if (committed) counts.committed++;
      ctx.beginPath(); ctx.arc(px, py, d.witness ? r * 1.35 : r, 0, 2 * Math.PI);
      var ordered = typeof d.round_received === "number";
      ctx.fillStyle = d.famous === true ? "#ffd166"
                    : committed ? blockColour(d.block) : ordered ? "#3f4550" : "#8a91a0";
      ctx.fill();
      if (d.witness) {
        counts.witnesses++;
        if (d.famous === true) counts.famous++;
        ctx.lineWidth = 2; ctx.strokeStyle = d.famous === false ? "#6c717d" : "#ffffff"; ctx.stroke();
        ctx.lineWidth = 1;
      }
    }
    return counts;
  }

  function render() {
    var counts = draw();
    body.dataset.events = counts.events; body.dataset.witnesses = counts.witnesses;
    body.dataset.famous = counts.famous; body.dataset.committed = counts.committed;
    text("evdrawn", counts.events);
    if (graph) {
      body.dataset.eventCount = graph.event_count; body.dataset.lastRound = graph.last_round;
      text("evtotal", graph.event_count); text("round", graph.last_round);
    }
    if (stats) {
      var blocks = (typeof stats.last_block_index === "number") ? stats.last_block_index + 1 : 0;
      body.dataset.blocks = blocks; body.dataset.state = stats.state;
      text("moniker", stats.moniker); text("nid", stats.id);
      var st = $("state"); st.textContent = stats.state;
      st.className = "state" + (stats.state === "Babbling" ? "" : (stats.state === "Shutdown" ? " bad" : " warn"));
      text("cround", stats.last_consensus_round); text("blocks", blocks); text("txs", stats.transactions);
      text("peers", stats.num_peers); text("undet", stats.undetermined_events); text("pool", stats.transaction_pool);
    }
  }

  function fail(what, e) {
    var msg = what + ": " + (e && e.message ? e.message : String(e));
    body.dataset.error = msg; $("err").textContent = msg;
  }

  function getJson(path) {
    return fetch(path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error(path + " answered " + r.status);
      return r.json();
    });
  }

  function poll() {
    Promise.all([getJson("/graph?limit=" + LIMIT), getJson("/stats")]).then(function (res) {
      graph = res[0]; stats = res[1];
      // tx/s from the events themselves (their creators' timestamps), so the figure does not depend
      // on this browser's clock: transactions packed per second over the events fetched.
      var evs = graph.events || [], tmin = Infinity, tmax = -Infinity, txs = 0, j;
      for (j = 0; j < evs.length; j++) { tmin = Math.min(tmin, evs[j].timestamp); tmax = Math.max(tmax, evs[j].timestamp); }
      for (j = 0; j < evs.length; j++) if (evs[j].timestamp > tmin) txs += evs[j].transactions || 0;
      text("tps", tmax > tmin ? (txs * 1e9 / (tmax - tmin)).toFixed(0) : "-");
      updates++; body.dataset.updates = updates;
      body.dataset.error = ""; $("err").textContent = "";
      render();
    }).catch(function (e) { fail("poll", e); }).then(function () { setTimeout(poll, PERIOD); });
  }

  window.addEventListener("resize", render);
  render();
  poll();
})();
</script>
</body>
</html>
)page";

}  // namespace

std::string_view graph_page_html() { return kPage; }

}  // namespace chatter
