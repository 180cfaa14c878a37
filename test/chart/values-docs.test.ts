import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, parseDocument, type Pair } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderText } from './helm.js';
import { chartDir } from './paths.js';
import { valuesSets } from './values-sets.js';

/** Keys of values.yaml with no `# --` comment on themselves or on a section above them. */
function undocumented(node: unknown, path: string[] = [], leading = ''): string[] {
  if (!isMap(node)) return [];
  return node.items.flatMap((pair: Pair, index) => {
    if (!isPair(pair) || !isScalar(pair.key)) return [];
    const key = [...path, String(pair.key.value)];
    // The yaml parser gives the comment above a map's first key to the map (or the document).
    const comment = pair.key.commentBefore ?? (index === 0 ? (node.commentBefore ?? leading) : '');
    if (comment.split('\n').some((line) => line.trim().startsWith('-- '))) return [];
    if (isMap(pair.value)) return undocumented(pair.value, key);
    return [key.join('.')];
  });
}

describe('values.yaml', () => {
  it('documents every value with a `# --` comment (helm-docs style)', () => {
    const doc = parseDocument(readFileSync(join(chartDir, 'values.yaml'), 'utf8'));
    expect(undocumented(doc.contents, [], doc.commentBefore ?? '')).toEqual([]);
  });

  it('the check finds an undocumented value', () => {
    const doc = parseDocument('# -- fine\na: 1\nsection:\n  # -- fine\n  b: 2\n  c: 3\n');
    expect(undocumented(doc.contents, [], doc.commentBefore ?? '')).toEqual(['section.c']);
  });
});

describe('NOTES.txt tells how to fetch a token and connect a client', () => {
  for (const name of ['defaults', 'ingress-tls', 'token-review']) {
    it(`renders for ${name}`, async () => {
      const out = await renderText(valuesSets[name]!, { dryRunInstall: true });
      const notes = out.slice(out.indexOf('NOTES:'));
      expect(notes).toContain('Authorization: Bearer $MIRRORD_MCP_TOKEN');
      if (name === 'defaults') {
        expect(notes).toContain(
          "kubectl -n mirrord get secret mcp-mirrord-mcp-server-tokens -o jsonpath='{.data.token}' | base64 -d",
        );
        expect(notes).toContain('kubectl -n mirrord port-forward svc/mcp-mirrord-mcp-server 3000:80');
      }
      if (name === 'ingress-tls')
        expect(notes).toContain('export MIRRORD_MCP_URL=https://mirrord.example.com/mirrord');
      if (name === 'token-review')
        expect(notes).toContain('kubectl -n mirrord create token SERVICE_ACCOUNT --audience mirrord-mcp');
    });
  }
});
