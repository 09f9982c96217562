/**
 * report.html: one self-contained file an installer hands over. Every text from the config or
 * the devices is HTML-escaped; the report's data sits in a JSON script element (with `<`
 * escaped, so nothing in it can close the element); uPlot's script and style sheet, pinned in
 * package.json, are inlined; a content security policy forbids every network request, so the
 * file shows the same on a laptop without a network years later.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FLAGS, type Flag } from '../core/flags.js';
import type { Check, CommissionReport, DeviceReport, PointReport, Verdict } from './types.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

/** JSON that can sit inside a script element: no `</script>` or `<!--` can form in it. */
export const scriptJson = (v: unknown): string =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

let assets: { js: string; css: string; version: string } | undefined;

/** uPlot's minified script and style sheet, as installed (its exact version is pinned). */
export function uplotAssets(): { js: string; css: string; version: string } {
  if (!assets) {
    const require = createRequire(import.meta.url);
    const read = (p: string) => readFileSync(require.resolve(p), 'utf8');
    assets = {
      // A script's text ends at the first `</script`, whatever the JavaScript around it means.
      js: read('uplot/dist/uPlot.iife.min.js').replace(/<\/(script)/gi, '<\\/$1'),
      css: read('uplot/dist/uPlot.min.css').replace(/<\/(style)/gi, '<\\/$1'),
      version: (JSON.parse(read('uplot/package.json')) as { version: string }).version,
    };
  }
  return assets;
}

const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

const STYLE = `
:root { --pass: #1b7f3b; --warn: #b26a00; --fail: #b3261e; --mute: #666; font-family: system-ui, sans-serif; }
body { margin: 0; background: #f4f5f7; color: #1d1d1f; }
header { padding: .8rem 1.2rem; background: #12324a; color: #fff; display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .6rem; }
header h1 { font-size: 1.25rem; margin: 0; } header p { margin: .2rem 0 0; }
main { padding: .6rem; display: grid; gap: .6rem; max-width: 1200px; margin: 0 auto; }
section { background: #fff; border-radius: 6px; padding: .6rem .9rem; box-shadow: 0 1px 2px #0002; overflow-x: auto; }
h2 { font-size: 1.05rem; margin: .2rem 0 .6rem; } h3 { font-size: 1rem; margin: 0 0 .3rem; display: flex; gap: .5rem; align-items: center; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
td, th { padding: .2rem .4rem; text-align: left; vertical-align: top; border-bottom: 1px solid #eee; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; font-size: .9rem; } dt { color: var(--mute); } dd { margin: 0; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .4rem; font-size: .78rem; font-weight: 600; color: #fff; text-transform: uppercase; }
.v-pass { background: var(--pass); } .v-warn { background: var(--warn); } .v-fail { background: var(--fail); }
.verdict { font-size: 1.3rem; padding: .2rem .8rem; border-radius: 4px; }
.device { border: 1px solid #ddd; border-radius: 6px; padding: .5rem .7rem; margin-bottom: .7rem; }
.meta { color: var(--mute); font-size: .8rem; margin: 0 0 .4rem; }
.points { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr)); gap: .6rem; }
figure { margin: 0; min-width: 0; } figcaption { font-size: .85rem; margin-bottom: .2rem; } figcaption .stats { color: var(--mute); font-size: .78rem; display: block; }
.chart { min-height: 200px; } .empty { color: var(--mute); font-size: .85rem; }
.legend-text { color: var(--mute); font-size: .8rem; margin: .5rem 0 0; }
.sign { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 1rem; font-size: .9rem; }
.sign div { border-bottom: 1px solid #999; padding-top: 2rem; color: var(--mute); }
footer { color: var(--mute); font-size: .75rem; padding: .5rem 1.2rem 1rem; max-width: 1200px; margin: 0 auto; }
@media print { body { background: #fff; } section { box-shadow: none; } figure, tr, .device h3 { break-inside: avoid; } }
`;

/** The page's own script: one uPlot chart per point, flagged readings (not N) as red dots. */
const CHARTS = `'use strict';
(function () {
  var report = JSON.parse(document.getElementById('report-data').textContent);
  var tz = report.site.timezone;
  var points = {};
  report.devices.forEach(function (d) {
    d.points.forEach(function (p) { points[d.id + '/' + p.key] = p; });
  });
  document.querySelectorAll('.chart').forEach(function (el) {
    var p = points[el.getAttribute('data-ref')];
    if (!p || p.samples.length === 0) return;
    var xs = [], ys = [], flagged = [];
    p.samples.forEach(function (s) {
      xs.push(s[0] / 1000);
      ys.push(s[1]);
      flagged.push(s[2] === 'N' ? null : s[1]);
    });
    new uPlot({
      width: Math.max(260, el.clientWidth),
      height: 200,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), tz); },
      scales: { x: { time: true } },
      // The caption names the point and its unit; a legend under every chart only repeats it.
      legend: { show: false },
      series: [
        {},
        { label: p.unit ? p.name + ' [' + p.unit + ']' : p.name, stroke: '#12324a', width: 1.5 },
        { label: 'flagged', stroke: '#b3261e', fill: '#b3261e', paths: function () { return null; },
          points: { show: true, size: 6, stroke: '#b3261e', fill: '#b3261e' } }
      ],
      axes: [{}, { size: 64 }]
    }, [xs, ys, flagged], el);
    el.setAttribute('data-rendered', 'true');
  });
})();
`;

const num = (v: number | null): string =>
  v === null ? '–' : Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);

const flagText = (flags: Partial<Record<Flag, number>>): string =>
  (Object.entries(flags) as [Flag, number][]).map(([f, n]) => `${f} ${n}`).join(', ') || 'none';

function badge(v: Verdict): string {
  return `<span class="badge v-${v}">${v}</span>`;
}

function worst(checks: readonly Check[]): Verdict {
  return checks.some((c) => c.verdict === 'fail')
    ? 'fail'
    : checks.some((c) => c.verdict === 'warn')
      ? 'warn'
      : 'pass';
}

function checksTable(checks: readonly Check[]): string {
  const rows = checks
    .map(
      (c) =>
        `<tr data-check="${escapeHtml(c.id)}"><td>${badge(c.verdict)}</td><td>${escapeHtml(c.subject)}</td>` +
        `<td>${escapeHtml(c.check)}</td><td>${escapeHtml(c.detail)}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>verdict</th><th>subject</th><th>check</th><th>detail</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="legend-text">pass: as it should be. warn: works, but look at it (and note why) before handing over.
fail: not ready to hand over. The thresholds applied are listed in report.json.</p>`;
}

function pointFigure(deviceId: string, p: PointReport): string {
  const ref = `${deviceId}/${p.key}`;
  const range = p.range ? `range ${p.range[0]}…${p.range[1]}` : 'no range declared';
  const stats =
    `${p.values}/${p.readings} values · min ${num(p.min)} · mean ${num(p.mean)} · max ${num(p.max)} · ` +
    `${range}${p.outOfRange > 0 ? ` · ${p.outOfRange} outside` : ''} · flags ${flagText(p.flags)}`;
  const chart =
    p.samples.length > 0
      ? `<div class="chart" data-ref="${escapeHtml(ref)}"></div>`
      : '<p class="empty">no readings during the run</p>';
  return `<figure class="point" data-ref="${escapeHtml(ref)}"><figcaption><strong>${escapeHtml(p.name)}</strong> (${escapeHtml(p.key)})${p.unit ? ` [${escapeHtml(p.unit)}]` : ''}<span class="stats">${escapeHtml(stats)}</span></figcaption>${chart}</figure>`;
}

function deviceArticle(d: DeviceReport, checks: readonly Check[]): string {
  const own = checks.filter((c) => c.group === 'device' && c.subject === d.id);
  const where = d.profile
    ? `${d.profile} · bus ${d.bus} unit ${d.unitId} · every ${d.periodMs} ms · timeout ${d.timeoutMs} ms · `
    : '';
  const rate = d.answerRate === null ? 'no requests' : `${num(d.answerRate * 100)}% answered`;
  const latency = d.latencyMs ? ` · latency p50 ${d.latencyMs.p50} ms, p99 ${d.latencyMs.p99} ms` : '';
  const meta = `${where}${d.profile ? `${rate}${latency} · ` : ''}flags ${flagText(d.flags)}`;
  return `<article class="device" data-device="${escapeHtml(d.id)}">
<h3>${badge(worst(own))} ${escapeHtml(d.id)}${d.name ? ` · ${escapeHtml(d.name)}` : ''}</h3>
<p class="meta">${escapeHtml(meta)}</p>
<div class="points">${d.points.map((p) => pointFigure(d.id, p)).join('\n')}</div>
</article>`;
}

function uplinks(r: CommissionReport): string {
  const m = r.uplinks.mqtt;
  const mqtt = m
    ? `<table><tr><th>MQTT</th><th>connected</th><th>committed</th><th>acknowledged</th><th>backlog</th><th>reconnects</th><th>publish errors</th></tr>
<tr><td>broker</td><td>${m.connected ? 'yes' : 'no'}</td><td>${m.committed}</td><td>${m.delivered}</td><td>${m.backlog}</td><td>${m.reconnects}</td><td>${m.publishErrors}</td></tr></table>`
    : '<p class="empty">no MQTT uplink configured</p>';
  const rows = r.uplinks.hj212
    .map(
      (h) =>
        `<tr><td>${escapeHtml(h.platform)}</td><td>${escapeHtml(h.state)}</td><td>${h.answered ? 'yes' : 'no'}</td><td>${h.uploads}</td><td>${h.resends}</td><td>${escapeHtml(h.lastError ?? '')}</td></tr>`,
    )
    .join('');
  const hj212 = rows
    ? `<table><tr><th>HJ 212 platform</th><th>state</th><th>answered during the run</th><th>uploads</th><th>resends</th><th>last error</th></tr>${rows}</table>`
    : '<p class="empty">no HJ 212 platform configured</p>';
  return `${mqtt}\n${hj212}`;
}

export function renderHtml(r: CommissionReport): string {
  const { js, css, version } = uplotAssets();
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: r.site.timezone,
    dateStyle: 'medium',
    timeStyle: 'long',
  });
  const at = (iso: string) => escapeHtml(time.format(new Date(iso)));
  const who = `${r.site.name} (${r.site.id}) · gateway ${r.gateway.id}${r.gateway.name ? ` · ${r.gateway.name}` : ''}`;
  const events = r.events
    .map((e) => `<li>${escapeHtml(time.format(new Date(e.ts)))} · ${escapeHtml(e.kind)}</li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="generator" content="Lantian ${escapeHtml(r.lantian)}, uPlot ${escapeHtml(version)}">
<title>Commissioning report · ${escapeHtml(r.site.name)} · ${escapeHtml(r.gateway.id)}</title>
<style>${css}</style>
<style>${STYLE}</style>
</head>
<body>
<header>
<div><h1>Commissioning report</h1><p>${escapeHtml(who)}</p></div>
<div><span class="badge verdict v-${r.verdict}" data-testid="verdict">${r.verdict}</span>
<p>${r.counts.pass} pass · ${r.counts.warn} warn · ${r.counts.fail} fail</p></div>
</header>
<main>
<section id="run"><h2>Run</h2><dl>
<dt>started</dt><dd>${at(r.startedAt)}</dd>
<dt>ended</dt><dd>${at(r.endedAt)}</dd>
<dt>duration</dt><dd>${num(r.durationMs / 1000)} s</dd>
<dt>config</dt><dd>${escapeHtml(r.config)}</dd>
<dt>log</dt><dd>seqs ${r.log.fromSeq + 1}…${r.log.throughSeq}: ${r.log.readings} readings, ${r.log.events} events</dd>
<dt>Lantian</dt><dd>${escapeHtml(r.lantian)}</dd>
</dl></section>
<section id="checks"><h2>Checks</h2>
${checksTable(r.checks)}
</section>
<section id="devices"><h2>Readings per device</h2>
<p class="legend-text">Each chart shows every reading logged during the run (time in ${escapeHtml(r.site.timezone)}); red dots are readings flagged other than N (${escapeHtml(
    (Object.entries(FLAGS) as [Flag, string][])
      .filter(([f]) => f !== 'N')
      .map(([f, m]) => `${f} ${m}`)
      .join(', '),
  )}); gaps are readings without a value.</p>
${r.devices.map((d) => deviceArticle(d, r.checks)).join('\n')}
</section>
<section id="uplinks"><h2>Uplinks</h2>
${uplinks(r)}
</section>
<section id="events"><h2>Events during the run</h2>
${events ? `<ul>${events}</ul>` : '<p class="empty">none</p>'}
</section>
<section id="handover"><h2>Handover</h2>
<div class="sign"><div>installer, date</div><div>operator, date</div></div>
</section>
</main>
<footer>Written by lantian commission. The same data is in report.json. Charts drawn with uPlot ${escapeHtml(version)} (MIT licence), inlined: this file needs no network.</footer>
<script id="report-data" type="application/json">${scriptJson(r)}</script>
<script>${js}</script>
<script>${CHARTS}</script>
</body>
</html>
`;
}
