import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commission } from '../../../gateway/src/cli/commands/commission.js';
import { parseDuration } from '../../../gateway/src/commission/duration.js';
import { escapeHtml, renderHtml } from '../../../gateway/src/commission/html.js';
import { isLantianError } from '../../../gateway/src/core/errors.js';
import type { CommissionReport } from '../../../gateway/src/commission/types.js';
import { packageRoot } from '../../helpers/cli.js';

describe('--duration', () => {
  it('reads the units an installer types, alone or combined', () => {
    expect(parseDuration('3m')).toBe(180_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('1h')).toBe(3_600_000);
  });

  it('refuses anything else with a coded error naming the option and the value', () => {
    for (const bad of ['', '3', 'm', '3x', '3m junk', '-3s', '500ms', '25h']) {
      let error: unknown;
      try {
        parseDuration(bad);
      } catch (e) {
        error = e;
      }
      expect(isLantianError(error, 'COMMISSION_OPTION_INVALID'), bad).toBe(true);
      expect((error as { context: unknown }).context).toEqual({ option: '--duration', value: bad });
    }
  });

  it('makes the command exit 2 before anything runs', async () => {
    const err: string[] = [];
    const code = await commission(
      { config: 'does-not-matter.yaml', duration: 'soon', progress: false },
      { out: () => undefined, err: (l) => err.push(l) },
    );
    expect(code).toBe(2);
    expect(err).toEqual([
      'lantian commission: COMMISSION_OPTION_INVALID: --duration: "soon" is not a duration such as 90s, 3m or 1m30s',
    ]);
  });
});

describe('the HTML report', () => {
  const hostile = '</script><img src=x onerror=alert(1)> & "quoted" \'single\'';
  const report: CommissionReport = {
    format: 'lantian-commissioning/1',
    lantian: '0.1.0',
    site: { id: 'plant-a', name: hostile, timezone: 'Asia/Shanghai' },
    gateway: { id: 'gw1', name: hostile },
    config: '/etc/lantian/site.yaml',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:03:00.000Z',
    durationMs: 180_000,
    log: { fromSeq: 0, throughSeq: 2, readings: 2, events: 0 },
    verdict: 'pass',
    counts: { pass: 1, warn: 0, fail: 0 },
    checks: [
      {
        id: 'device:d1:flags',
        group: 'device',
        subject: 'd1',
        check: 'flags',
        verdict: 'pass',
        detail: hostile,
      },
    ],
    devices: [
      {
        id: 'd1',
        name: hostile,
        polls: 0,
        failedPolls: 0,
        requests: 0,
        replies: 0,
        timeouts: 0,
        crcErrors: 0,
        exceptions: 0,
        badReplies: 0,
        linkErrors: 0,
        answerRate: null,
        latencyMs: null,
        flags: { N: 2 },
        points: [
          {
            key: 'p',
            name: hostile,
            unit: hostile,
            range: null,
            readings: 2,
            values: 2,
            min: 1,
            max: 2,
            mean: 1.5,
            outOfRange: 0,
            flags: { N: 2 },
            samples: [
              [Date.UTC(2026, 0, 1), 1, 'N'],
              [Date.UTC(2026, 0, 1, 0, 0, 1), 2, 'N'],
            ],
          },
        ],
      },
    ],
    uplinks: { mqtt: null, hj212: [] },
    events: [],
    thresholds: {},
  };

  it('escapes every text from the config and devices, in markup and in the embedded data', () => {
    const html = renderHtml(report);
    expect(html).not.toContain('<img');
    expect(html).not.toContain(hostile);
    expect(html).toContain(escapeHtml(hostile));
    // Exactly the page's own three scripts: the data, uPlot and the charts.
    expect(html.match(/<script\b/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    const data = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(data)).toEqual(report);
  });

  it('asks for nothing from the network: a policy that forbids it and no external reference', () => {
    const html = renderHtml(report);
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    );
    const markup = html.replace(/<(script|style)\b[^>]*>.*?<\/\1>/gs, '');
    expect(markup).not.toMatch(/<[^>]*\s(src|href)=/);
    expect(markup).not.toMatch(/<(link|img|iframe|object)\b/);
    // The uPlot inlined is the one package.json pins, to the exact version.
    const pinned = (
      JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      }
    ).dependencies.uplot!;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect(html).toContain(`uPlot ${pinned}`);
  });
});
