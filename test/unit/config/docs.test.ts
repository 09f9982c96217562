import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { optionRows, withFreshOptions } from '../../../gateway/src/config/docs.js';
import { root } from './helpers.js';

describe('docs/config.md', () => {
  it('carries the option table generated from the schema', () => {
    const doc = readFileSync(join(root, 'docs/config.md'), 'utf8');
    // Regenerate with: npx tsx gateway/src/config/write-docs.ts
    expect(withFreshOptions(doc)).toBe(doc);
  });

  it('describes every option, and every number states its unit and range', () => {
    const rows = optionRows();
    expect(rows.length).toBeGreaterThan(80);
    for (const r of rows) {
      expect(r.description, r.option).not.toBe('');
      if (r.type === 'number' || r.type === 'integer') {
        expect(r.unit, `${r.option} unit`).toBeDefined();
        if (
          !['devices.<id>.overrides.points.<id>.scale', 'devices.<id>.overrides.points.<id>.offset'].includes(
            r.option,
          )
        ) {
          expect(r.range, `${r.option} range`).not.toBe('');
        }
      }
    }
  });
});
