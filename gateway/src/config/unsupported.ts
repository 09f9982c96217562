/**
 * Settings the schema describes but `lantian run` does not act on yet. A setting either acts or
 * is refused: `check-config` and `run` reject a config that uses any of these (CONFIG_UNSUPPORTED,
 * exit 2), so nobody believes a limit is watched or a platform is fed when it is not.
 *
 * When a feature starts to run, delete its entry here (one line) and nothing else: the schema,
 * its checks and the generated docs stay as they are.
 */
import { isRaw } from './raw.js';

export interface UnsupportedSetting {
  /** Where it sits in the site config; `*` stands for every key of a map (each device id). */
  path: readonly string[];
  /** What does not run yet, completing "… does not run yet". */
  feature: string;
}

export const UNSUPPORTED: readonly UnsupportedSetting[] = [];

export interface UnsupportedUse {
  /** The concrete path in this file, e.g. ['devices', 'gas', 'overrides', 'bootDelayMs']. */
  path: string[];
  setting: UnsupportedSetting;
}

/**
 * Every place in a raw config that uses an unsupported setting. An empty map (`outlets: {}`)
 * configures nothing and is let through, as is a key that is absent.
 */
export function findUnsupported(raw: unknown, list = UNSUPPORTED): UnsupportedUse[] {
  const uses: UnsupportedUse[] = [];
  const visit = (node: unknown, rest: readonly string[], at: string[], setting: UnsupportedSetting) => {
    if (rest.length === 0) {
      if (node !== undefined && !(isRaw(node) && Object.keys(node).length === 0))
        uses.push({ path: at, setting });
      return;
    }
    if (!isRaw(node)) return;
    const [key, ...tail] = rest as [string, ...string[]];
    for (const k of key === '*' ? Object.keys(node) : [key]) visit(node[k], tail, [...at, k], setting);
  };
  for (const setting of list) visit(raw, setting.path, [], setting);
  return uses;
}

/** The message and hint a refusal is reported with. */
export function refusal(use: UnsupportedUse): { message: string; hint: string } {
  const key = use.path.at(-1) ?? '';
  return {
    message: `not supported yet: ${use.setting.feature} does not run yet, so this setting would be ignored`,
    hint: `remove ${key} (see docs/config.md, "Not supported yet")`,
  };
}

/** The "Not supported yet" list of docs/config.md. */
export function unsupportedList(): string {
  return UNSUPPORTED.map((s) => `- \`${s.path.join('.').replace(/\*/g, '<id>')}\`: ${s.feature}.`).join('\n');
}

/** True when an option row of the docs (`devices.<id>.overrides.bootDelayMs`) is refused. */
export function isUnsupportedOption(option: string): boolean {
  const parts = option.split('.');
  return UNSUPPORTED.some(
    (s) =>
      s.path.length <= parts.length &&
      s.path.every((k, i) => k === parts[i] || (k === '*' && parts[i]!.startsWith('<'))),
  );
}
