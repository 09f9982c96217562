/**
 * `lantian verify --key PUB [FILE|-]`: checks a captured stream (`mosquitto_sub -v` lines or JSON
 * lines) for bad signatures, broken chains, gaps, duplicates and reordering. One line per
 * finding with the seqs concerned, then a summary; exit 0 only when there is no finding.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { isLantianError } from '../../core/errors.js';
import { loadPublicKey } from '../../uplink/integrity/keys.js';
import {
  parseCaptureLine,
  StreamVerifier,
  type Finding,
  type VerifyReport,
} from '../../uplink/integrity/verify.js';
import { EXIT, processIo, type Io } from '../output.js';

export interface VerifyOptions {
  key: string;
  json?: boolean;
}

export function formatFinding(f: Finding): string {
  const seqs =
    f.seqs === null ? '' : f.seqs[0] === f.seqs[1] ? ` seq ${f.seqs[0]}` : ` seqs ${f.seqs[0]}–${f.seqs[1]}`;
  const where = [f.line === null ? null : `line ${f.line}`, f.chain, f.log === null ? null : `log ${f.log}`]
    .filter((x) => x !== null)
    .join(', ');
  return `${f.kind}${seqs}${where ? ` (${where})` : ''}: ${f.detail}`;
}

export async function verifyStream(input: Readable, verifier: StreamVerifier): Promise<VerifyReport> {
  let n = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    try {
      const m = parseCaptureLine(text, n);
      if (m) verifier.push(m);
    } catch (e) {
      verifier.malformed(n, `not a topic and JSON payload: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return verifier.finish();
}

export async function verify(
  file: string,
  options: VerifyOptions,
  io: Io,
  stdin: Readable = process.stdin,
): Promise<number> {
  let verifier: StreamVerifier;
  try {
    verifier = new StreamVerifier(loadPublicKey(options.key));
  } catch (e) {
    if (!isLantianError(e)) throw e;
    io.err(`lantian verify: ${e.code}: ${e.message}`);
    return EXIT.invalid;
  }
  const input = file === '-' ? stdin : createReadStream(file);
  let report: VerifyReport;
  try {
    report = await verifyStream(input, verifier);
  } catch (e) {
    io.err(`lantian verify: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    return EXIT.invalid;
  }
  if (options.json) io.out(JSON.stringify(report));
  else {
    for (const f of report.findings) io.out(formatFinding(f));
    for (const e of report.epochs)
      io.out(
        `gateway ${e.gateway} log ${e.log}: ${e.messages} messages, ${e.records} records, seqs ${e.firstSeq ?? '-'}–${e.lastSeq ?? '-'}` +
          (e.joinedMidChain.length > 0 ? ` (capture joined ${e.joinedMidChain.join(', ')} mid-chain)` : ''),
      );
    io.out(report.findings.length === 0 ? 'verify: ok' : `verify: ${report.findings.length} finding(s)`);
  }
  return report.findings.length === 0 ? EXIT.ok : EXIT.unexpected;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check a captured stream: signatures, hash chains, gaps, duplicates, reordering')
    .requiredOption('--key <file>', "the gateway's public key (PEM)")
    .option('--json', 'print the report as one JSON object')
    .argument('[file]', 'capture: mosquitto_sub -v lines or JSON lines; - for stdin', '-')
    .action(async (file: string, options: VerifyOptions) => {
      process.exitCode = await verify(file, options, processIo);
    });
}
