/**
 * The page itself: one HTML shell, one style sheet and one script, served as they are (no build
 * step, no third-party code in the browser). The script opens the event stream, renders the
 * snapshot it gets first and then applies the pushed deltas and status. Flag meanings come from
 * core/flags.ts so the page and the data never disagree. Narrow screens get one column.
 */
import { FLAGS } from '../core/flags.js';

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lantian gateway</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header>
  <h1 id="title">Lantian gateway</h1>
  <span id="conn" class="badge off" data-testid="connection">connecting…</span>
</header>
<main>
  <section id="alarms-box"><h2>Alarms</h2><ul id="alarms" data-testid="alarms"><li class="none">none</li></ul></section>
  <section><h2>Devices</h2><div id="devices"></div></section>
  <section class="two">
    <div><h2>Buses</h2><table id="buses"></table></div>
    <div><h2>Uplinks and backlog</h2><table id="uplinks"></table></div>
  </section>
  <section id="cameras-box" hidden><h2>Cameras</h2><div id="cameras" data-testid="cameras"></div></section>
  <section><h2>Recent events</h2><ul id="events" data-testid="events"></ul></section>
</main>
<footer>Read-only. Values as committed to the gateway's log; flags as in HJ 212.</footer>
</body>
</html>
`;

export const PAGE_STYLE = `
:root { --ok: #1b7f3b; --warn: #b26a00; --bad: #b3261e; --mute: #666; font-family: system-ui, sans-serif; }
body { margin: 0; background: #f4f5f7; color: #1d1d1f; }
header { display: flex; align-items: center; justify-content: space-between; padding: .6rem 1rem; background: #12324a; color: #fff; }
h1 { font-size: 1.1rem; margin: 0; } h2 { font-size: 1rem; margin: .2rem 0 .5rem; }
main { padding: .5rem; display: grid; gap: .5rem; }
section { background: #fff; border-radius: 6px; padding: .6rem .8rem; box-shadow: 0 1px 2px #0002; overflow-x: auto; }
section.two { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
#devices { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr)); gap: .6rem; }
.device { border: 1px solid #ddd; border-radius: 6px; padding: .4rem .6rem; min-width: 0; }
.device h3 { font-size: .95rem; margin: 0 0 .2rem; display: flex; justify-content: space-between; gap: .5rem; }
.device .meta { color: var(--mute); font-size: .75rem; margin-bottom: .3rem; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; }
td, th { padding: .15rem .3rem; text-align: left; white-space: nowrap; }
.device td:first-child { white-space: normal; overflow-wrap: break-word; width: 100%; }
td.value { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .35rem; font-size: .75rem; color: #fff; background: var(--mute); }
.badge.ok, .flag-N { background: var(--ok); } .badge.off { background: var(--mute); }
.badge.warn, .flag-C, .flag-M, .flag-S, .flag-T { background: var(--warn); }
.badge.bad, .flag-B, .flag-D, .flag-F { background: var(--bad); }
svg.spark { width: 90px; height: 22px; vertical-align: middle; }
svg.spark polyline { fill: none; stroke: #12324a; stroke-width: 1.3; }
#alarms li, #events li { font-size: .85rem; padding: .1rem 0; }
#alarms li.alarm { color: var(--bad); font-weight: 600; } #alarms li.none { color: var(--mute); }
.camera { display: inline-block; margin: 0 .8rem .4rem 0; font-size: .85rem; vertical-align: top; }
.camera img { display: block; width: 320px; max-width: 100%; background: #ddd; margin-top: .2rem; }
#events time { color: var(--mute); margin-right: .4rem; font-variant-numeric: tabular-nums; }
footer { color: var(--mute); font-size: .75rem; padding: .5rem 1rem 1rem; }
@media (max-width: 640px) {
  section.two { grid-template-columns: 1fr; }
  #devices { grid-template-columns: 1fr; }
  main { padding: .3rem; }
}
`;

const script = (flags: Record<string, string>) => `'use strict';
const FLAGS = ${JSON.stringify(flags)};
const state = { devices: [], latest: {}, history: {}, events: [], status: null, gateway: null };
const HISTORY = 120;
const $ = (id) => document.getElementById(id);
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
const time = (ts) => new Date(ts).toLocaleTimeString([], { hour12: false });
const fmt = (v) => v === null || v === undefined ? '—' : typeof v === 'number' ? (Math.abs(v) >= 1000 ? v.toFixed(0) : +v.toPrecision(4) + '') : String(v);

function spark(samples) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark'); svg.setAttribute('viewBox', '0 0 90 22');
  const pts = (samples || []).filter((s) => s[1] !== null);
  if (pts.length < 2) return svg;
  const t0 = pts[0][0], t1 = pts[pts.length - 1][0];
  let lo = Infinity, hi = -Infinity;
  for (const p of pts) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); }
  const x = (t) => t1 === t0 ? 0 : ((t - t0) / (t1 - t0)) * 88 + 1;
  const y = (v) => hi === lo ? 11 : 21 - ((v - lo) / (hi - lo)) * 20;
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', pts.map((p) => x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1)).join(' '));
  svg.append(line);
  return svg;
}

function deviceHealth(id) {
  return ((state.status && state.status.devices) || []).find((d) => d.device === id);
}

function renderDevices() {
  const box = $('devices'); box.replaceChildren();
  for (const d of state.devices) {
    const h = deviceHealth(d.id);
    const st = h ? h.state : 'unknown';
    const cls = st === 'ok' ? 'ok' : st === 'unknown' ? 'off' : 'bad';
    const rows = d.points.map((p) => {
      const ref = d.id + '/' + p.key, r = state.latest[ref];
      const flag = r ? r.flag : '';
      return el('tr', { 'data-ref': ref },
        el('td', {}, p.name),
        el('td', { class: 'value', 'data-testid': 'value' }, r ? fmt(r.value) : '—'),
        el('td', {}, p.unit),
        el('td', {}, flag ? el('span', { class: 'badge flag-' + flag, title: FLAGS[flag] || '' }, flag) : ''),
        el('td', {}, spark(state.history[ref])));
    });
    const lat = h && h.latencyMs ? ' · p95 ' + h.latencyMs.p95 + ' ms' : '';
    box.append(el('div', { class: 'device', 'data-device': d.id },
      el('h3', {}, d.name || d.id, el('span', { class: 'badge ' + cls }, st)),
      el('div', { class: 'meta' }, d.id + ' · ' + d.profile + ' · ' + d.bus + ' unit ' + d.unitId + lat),
      el('table', {}, ...rows)));
  }
}

function renderStatus() {
  const s = state.status; if (!s) return;
  $('buses').replaceChildren(el('tr', {}, el('th', {}, 'bus'), el('th', {}, 'link'), el('th', {}, 'requests'), el('th', {}, 'timeouts'), el('th', {}, 'CRC'), el('th', {}, 'p95')),
    ...s.buses.map((b) => el('tr', {}, el('td', {}, b.bus),
      el('td', {}, el('span', { class: 'badge ' + (b.connected ? 'ok' : 'bad') }, b.connected ? 'up' : 'down')),
      el('td', {}, String(b.requests)), el('td', {}, String(b.timeouts)), el('td', {}, String(b.crcErrors)),
      el('td', {}, b.latencyMs ? b.latencyMs.p95 + ' ms' : '—'))));
  const up = s.uplinks.map((u) => el('tr', { 'data-uplink': u.name }, el('td', {}, u.name),
    el('td', {}, el('span', { class: 'badge ' + (u.connected ? 'ok' : 'bad') }, u.connected ? 'connected' : u.state || 'offline')),
    el('td', {}, 'backlog ' + u.backlog)));
  const log = s.log;
  up.push(el('tr', {}, el('td', {}, 'log'), el('td', {}, 'seq ' + log.lastSeq),
    el('td', {}, (log.bytes / 1048576).toFixed(1) + ' MiB' + (log.pendingReadings ? ' · ' + log.pendingReadings + ' waiting' : ''))));
  $('uplinks').replaceChildren(...up);
}

function alarms() {
  const out = [];
  for (const d of state.devices) {
    const h = deviceHealth(d.id);
    if (h && (h.state === 'failing' || h.state === 'backoff'))
      out.push(d.id + ': not answering (' + h.state + (h.lastErrorCode ? ', ' + h.lastErrorCode : '') + ')');
    for (const p of d.points) {
      const r = state.latest[d.id + '/' + p.key];
      if (r && r.flag !== 'N' && r.flag !== 'B') out.push(d.id + '/' + p.key + ': ' + FLAGS[r.flag] + ' (' + r.flag + ')');
    }
  }
  for (const u of (state.status && state.status.uplinks) || [])
    if (!u.connected) out.push('uplink ' + u.name + ': not connected, backlog ' + u.backlog);
  const raised = new Map();
  for (const e of state.events) {
    if (e.kind !== 'alarm' && e.kind !== 'exceedance') continue;
    const p = e.payload || {}, key = e.kind + p.device + p.point + p.period;
    if (p.state === 'cleared') raised.delete(key);
    else raised.set(key, e.kind + ': ' + p.device + '/' + p.point + ' ' + p.period + ' ' + fmt(p.value) + ' ' + (p.unit || '') + ' (limit ' + p.limit + ')');
  }
  return out.concat([...raised.values()]);
}

function renderAlarms() {
  const a = alarms();
  $('alarms').replaceChildren(...(a.length ? a.map((t) => el('li', { class: 'alarm' }, t)) : [el('li', { class: 'none' }, 'none')]));
}

function renderEvents() {
  $('events').replaceChildren(...state.events.slice().reverse().map((e) =>
    el('li', { class: 'event ' + e.kind }, el('time', {}, time(e.ts)), e.kind + ' ' + JSON.stringify(e.payload))));
}

// A picture is fetched again only when the camera's newest snapshot seq changes.
function renderCameras() {
  const list = (state.status && state.status.cameras) || [];
  $('cameras-box').hidden = list.length === 0;
  const box = $('cameras');
  for (const c of list) {
    let card = box.querySelector('[data-camera="' + c.camera + '"]');
    if (!card) {
      card = el('div', { class: 'camera', 'data-camera': c.camera }, el('span', { class: 'head' }), el('img', { alt: 'last snapshot of ' + c.camera }));
      box.append(card);
    }
    const cls = c.state === 'online' ? 'ok' : c.state === 'offline' ? 'bad' : 'off';
    const last = c.lastSnapshot;
    card.querySelector('.head').replaceChildren(c.camera + ' ', el('span', { class: 'badge ' + cls }, c.state),
      last ? ' ' + time(last.ts) + ' · seq ' + last.seq : ' no picture yet',
      c.state === 'offline' && c.lastError ? ' · ' + c.lastError.code : '');
    const img = card.querySelector('img');
    const src = last ? '/api/cameras/' + encodeURIComponent(c.camera) + '/latest.jpg?seq=' + last.seq : '';
    img.hidden = !last;
    if (last && img.getAttribute('src') !== src) img.setAttribute('src', src);
  }
}

function render() { renderDevices(); renderStatus(); renderAlarms(); renderEvents(); renderCameras(); }

function connect() {
  const es = new EventSource('/api/stream');
  const conn = $('conn');
  es.onopen = () => { conn.textContent = 'live'; conn.className = 'badge ok'; };
  es.onerror = () => { conn.textContent = 'reconnecting…'; conn.className = 'badge bad'; };
  es.addEventListener('snapshot', (m) => {
    Object.assign(state, JSON.parse(m.data));
    const g = state.gateway;
    $('title').textContent = (g.name || g.id) + ' · ' + g.site;
    document.title = g.id + ' · Lantian';
    render();
  });
  es.addEventListener('delta', (m) => {
    const d = JSON.parse(m.data);
    for (const [ref, r] of Object.entries(d.latest)) {
      state.latest[ref] = r;
      if (typeof r.value === 'number' || r.value === null) {
        const h = state.history[ref] || (state.history[ref] = []);
        h.push([r.ts, r.value]);
        if (h.length > HISTORY) h.splice(0, h.length - HISTORY);
      }
    }
    state.events = state.events.concat(d.events).slice(-50);
    render();
  });
  es.addEventListener('status', (m) => { state.status = JSON.parse(m.data); render(); });
}
connect();
`;

export const PAGE_SCRIPT = script(FLAGS);
