/** The site I/O section as `check-config --plan` describes it: what each pin does. */
import type { SiteIoConfig } from '../../gateway/src/config/schema-site-io.js';

export function formatSiteIo(io: SiteIoConfig | undefined): string[] {
  if (!io) return [];
  const out = [
    `  site I/O: Firmata board on ${io.board.port} at ${io.board.baud} bit/s, readings as device ${io.device} ` +
      `every ${io.periodS} s, inputs stale after ${io.staleAfterMs} ms`,
  ];
  for (const [name, a] of Object.entries(io.analogInputs)) {
    const wiring = a.signal === '4-20mA' ? `shunt ${a.shuntOhms} Ω, NE43 faults flag D` : '2:1 divider';
    out.push(
      `    ${a.pin.padEnd(4)} ${name}: ${a.signal} = ${a.range[0]}…${a.range[1]} ${a.unit} (${wiring})`,
    );
  }
  for (const [name, c] of Object.entries(io.dryContacts)) {
    const what =
      c.role === 'door'
        ? 'opening is a tamper event'
        : c.role === 'mains'
          ? 'active is a mains_failure event'
          : c.role === 'status'
            ? 'logged'
            : `flags ${c.device ?? '?'} ${c.role === 'calibration' ? 'C' : 'M'} while active`;
    out.push(
      `    D${String(c.pin).padEnd(3)} ${name}: contact (${c.role}, active ${c.activeLow ? 'low' : 'high'}): ${what}`,
    );
  }
  for (const [name, r] of Object.entries(io.relays)) {
    const l = r.linkage;
    const rule = l
      ? `on when ${l.point} > ${l.onAbove} for ${l.holdS} s, off below ${l.offBelow}; min on ${l.minOnS} s, ` +
        `min off ${l.minOffS} s, max run ${l.maxRunS} s` +
        (l.windPoint ? `, off while ${l.windPoint} > ${l.windCutOff}` : '') +
        `; orange/red alert: ${l.alertOnS} s on / ${l.alertOffS} s off`
      : 'manual only';
    out.push(`    D${String(r.pin).padEnd(3)} ${name}: relay (fail-safe ${r.failSafe}): ${rule}`);
  }
  const b = io.beacon;
  if (b)
    out.push(
      `    D${String(b.pin).padEnd(3)} beacon: steady when all is well, blinking every ${b.blinkMs} ms on a fault or an alert from ${b.alertFrom}`,
    );
  out.push(`    manual overrides from the platform (relay-override) last at most ${io.overrideMaxS} s`);
  return out;
}
