/** Serial line settings as installers write them on labels and in manuals: 9600 8N1. */

const PARITY_LETTERS: Record<string, 'none' | 'even' | 'odd'> = { N: 'none', E: 'even', O: 'odd' };

/**
 * Line settings written the short way (`8N1`, `9600 8N1`, `9600,8,N,1`) as the keys Lantian
 * uses; undefined when the text is not such a setting.
 */
export function lineSettingsHint(text: string): string | undefined {
  const m = /^(?:(\d{3,6})[\s,/-]*)?([78])[\s,/-]*([NEOneo])[\s,/-]*([12])$/.exec(text.trim());
  if (!m) return undefined;
  const [, baud, data, parity, stop] = m;
  const keys = `${baud ? `baud: ${baud}, ` : ''}dataBits: ${data}, parity: ${PARITY_LETTERS[parity!.toUpperCase()]}, stopBits: ${stop}`;
  return `write ${text.trim()} as ${keys}`;
}

/** The parity word for a letter or a capitalised word (`N`, `None` -> none); undefined otherwise. */
export function parityWord(text: string): string | undefined {
  const t = text.trim();
  const word = t.toLowerCase();
  return PARITY_LETTERS[t.toUpperCase()] ?? (['none', 'even', 'odd'].includes(word) ? word : undefined);
}

/**
 * The error of a line setting (baud, dataBits, parity, stopBits): `write none` for `parity: N`,
 * the keys to use for `8N1` written into any of them, else `fallback`.
 */
export function lineSettingError(fallback: string, parity = false) {
  return (iss: { input?: unknown }): string => {
    const text = typeof iss.input === 'string' ? iss.input : '';
    const word = parity ? parityWord(text) : undefined;
    if (word !== undefined) return `write ${word}`;
    return lineSettingsHint(text) ?? fallback;
  };
}
