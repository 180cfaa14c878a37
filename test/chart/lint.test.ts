import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { helm } from './helm.js';
import { chartDir } from './paths.js';
import { valuesSets } from './values-sets.js';

describe('helm lint --strict', () => {
  for (const [name, values] of Object.entries(valuesSets)) {
    it(name, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chart-lint-'));
      try {
        const file = join(dir, 'values.yaml');
        writeFileSync(file, stringify(values));
        const out = await helm(['lint', '--strict', chartDir, '--namespace', 'mirrord', '--values', file]);
        expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
        expect(out).not.toMatch(/\[(WARNING|ERROR)\]/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
