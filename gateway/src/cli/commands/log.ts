/**
 * `lantian log recover FILE [--issued-at-least SEQ]`: replaces a damaged log (docs/store.md,
 * "Recovering a damaged log"). Moves the file and its -wal/-shm aside, salvages what it can
 * read, and starts a new log above every seq the old one may have issued. Exit 0 when the new
 * log is in place, 1 when recovery was refused (nothing moved) or failed.
 */
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { recoverLog, type RecoveryReport } from '../../store/recover.js';
import { EXIT, processIo, type Io } from '../output.js';

export function registerLog(program: Command): void {
  const log = program.command('log').description('work on the gateway log file (stop the gateway first)');
  log
    .command('recover')
    .description('move a damaged log aside, salvage what it holds, start a new log above every issued seq')
    .argument('<file>', 'the log file, e.g. /var/lib/lantian/log.db')
    .option(
      '--issued-at-least <seq>',
      "every seq up to this may have been issued (the platform's highest seq from this log); " +
        'needed only when neither the high-water mark nor the file says how far it went',
    )
    .action((file: string, options: { issuedAtLeast?: string }) => {
      process.exitCode = recover(file, options, processIo);
    });
}

function recover(file: string, options: { issuedAtLeast?: string }, io: Io): number {
  const issued = options.issuedAtLeast === undefined ? undefined : Number(options.issuedAtLeast);
  if (issued !== undefined && !(Number.isSafeInteger(issued) && issued >= 0)) {
    io.err(`lantian log recover: --issued-at-least must be a whole number, not ${options.issuedAtLeast}`);
    return EXIT.invalid;
  }
  try {
    print(recoverLog(file, issued === undefined ? {} : { issuedAtLeast: issued }), io);
    return EXIT.ok;
  } catch (e) {
    if (!isLantianError(e)) throw e;
    io.err(`lantian log recover: ${e.code}: ${e.message}`);
    return EXIT.unexpected;
  }
}

function print(r: RecoveryReport, io: Io): void {
  for (const [from, to] of r.moved) io.out(`moved aside: ${from} -> ${to}`);
  const rows = Object.entries(r.salvaged)
    .map(([table, n]) => `${n} ${table}`)
    .join(', ');
  if (r.unreadable !== undefined) io.out(`salvaged: nothing (${r.unreadable})`);
  else if (r.salvageFile !== null) io.out(`salvaged into ${r.salvageFile}: ${rows}`);
  io.out(`issued by the old log: up to seq ${r.issuedThrough} (log_id ${r.previousLogId ?? 'unknown'})`);
  io.out(`new log: ${r.file}, log_id ${r.logId}, first seq ${r.firstSeq}`);
  const shown = r.unrecoverable.slice(0, 20).map(([a, b]) => (a === b ? `${a}` : `${a}..${b}`));
  if (r.unrecoverable.length > shown.length)
    shown.push(`${r.unrecoverable.length - shown.length} more ranges`);
  const ranges = shown.join(', ');
  io.out(`unrecoverable: ${r.unrecoverableCount} seqs${ranges ? ` (${ranges})` : ''}`);
  io.out(`recorded as event log_recovered, seq ${r.eventSeq}`);
}
