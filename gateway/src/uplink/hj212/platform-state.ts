/**
 * What a platform changed at run time (MN by 1002, password by 1072, SM4 key by 1014, OverTime
 * and ReCount by 1000, RtdInterval by 1062, MinInterval by 1064), kept in a small JSON file next
 * to the log so it survives a restart, with the session's history an installer asks about: the
 * last answer the platform sent and when its registration (1001) was answered. Each value is stored with a SHA-256 of the configured
 * value it replaced: when the operator changes that setting in the site config, the config wins
 * again. The file holds secrets (the password, the key), so it is written with mode 0600, like the
 * secrets file, atomically (a temporary file renamed over the old one).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LantianError } from '../../core/errors.js';

export type PlatformValues = {
  mn: string;
  password: string;
  /** SM4 key as hex. */
  sm4Key: string;
  timeoutMs: number;
  retries: number;
  rtdIntervalS: number;
  minIntervalMin: number;
};
export type PlatformKey = keyof PlatformValues;

const KEYS: readonly PlatformKey[] = [
  'mn',
  'password',
  'sm4Key',
  'timeoutMs',
  'retries',
  'rtdIntervalS',
  'minIntervalMin',
];

/** The last packet the platform sent: an answer (9014, 9013, 9011/9012) or a request. */
export interface LastAnswer {
  ts: number;
  cn: string;
  qn: string;
  /** What it said or what came of it, e.g. `answered 2051` or `QnRtn=1 ExeRtn=1`. */
  result: string;
}

/** The session's own history in the file (not settings: the config never replaces these). */
export interface SessionHistory {
  lastAnswer?: LastAnswer;
  /** When the platform answered the registration (1001), ms since the epoch. */
  registeredAt?: number;
}

interface Stored {
  value: string | number;
  /** SHA-256 (hex) of the configured value this one replaced. */
  configured: string;
}

type FileContent = Partial<Record<PlatformKey, Stored>> & SessionHistory;

const digest = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex');

export class PlatformState {
  private readonly stored: FileContent;

  /** Reads the file if there is one (never writes it); throws HJ212_STATE when it is unreadable. */
  constructor(
    readonly file: string,
    private readonly configured: Partial<PlatformValues>,
  ) {
    this.stored = existsSync(file) ? read(file) : {};
  }

  /** The values a platform set that still replace the configured ones. */
  overrides(): Partial<PlatformValues> {
    const out: Partial<Record<PlatformKey, string | number>> = {};
    for (const k of KEYS) {
      const s = this.stored[k];
      if (s !== undefined && s.configured === digest(this.configured[k])) out[k] = s.value;
    }
    return out as Partial<PlatformValues>;
  }

  get history(): SessionHistory {
    const { lastAnswer, registeredAt } = this.stored;
    return { ...(lastAnswer ? { lastAnswer } : {}), ...(registeredAt === undefined ? {} : { registeredAt }) };
  }

  /** Records values the platform set; throws HJ212_STATE when the file cannot be written. */
  set(values: Partial<PlatformValues>): void {
    for (const [k, v] of Object.entries(values) as [PlatformKey, string | number][]) {
      this.stored[k] = { value: v, configured: digest(this.configured[k]) };
    }
    this.write();
  }

  /** Records the session's history; throws HJ212_STATE when the file cannot be written. */
  record(history: SessionHistory): void {
    Object.assign(this.stored, history);
    this.write();
  }

  private write(): void {
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, `${JSON.stringify(this.stored, null, 2)}\n`, { mode: 0o600 });
      chmodSync(tmp, 0o600);
      renameSync(tmp, this.file);
    } catch (e) {
      throw new LantianError('HJ212_STATE', `${this.file}: cannot save what the platform set`, {
        cause: e,
        context: { file: this.file },
      });
    }
  }
}

function read(file: string): FileContent {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v;
  } catch (e) {
    throw new LantianError('HJ212_STATE', `${file}: unreadable platform state (${(e as Error).message})`, {
      cause: e,
      context: { file, hint: 'delete the file to start from the site config again' },
    });
  }
}
