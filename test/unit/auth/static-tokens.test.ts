import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tokenDigest } from '../../../src/auth/bearer.js';
import { createStaticTokens, readTokensFile } from '../../../src/auth/static-tokens.js';
import { createLogger } from '../../../src/logger.js';
import { catchAppError } from '../../helpers/app-error.js';

const alice = 'alice-token-0123456789abcdef';
const bob = 'bob-token-0123456789abcdef00';

let dir: string;
let logged: string;
const logger = () =>
  createLogger(
    'info',
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    }),
  );

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-tokens-'));
  logged = '';
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(dir, { recursive: true, force: true });
});

async function tokensFile(text: string, name = 'tokens.yaml'): Promise<string> {
  const path = join(dir, name);
  // Written aside and renamed in, as a Secret volume update swaps its files.
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
  return path;
}

describe('static tokens', () => {
  it('maps each token to its identity, groups and namespaces; unknown tokens are nobody', async () => {
    const file = await tokensFile(
      `tokens:\n  - identity: alice\n    token: ${alice}\n    groups: [dev]\n    namespaces: [staging, team-*]\n`,
    );
    const tokens = createStaticTokens({
      tokens: [{ identity: 'bob', sha256: tokenDigest(bob), groups: [] }],
      tokensFile: file,
      logger: logger(),
    });
    expect(tokens.verify(alice)).toEqual({
      subject: 'alice',
      groups: ['dev'],
      namespaces: ['staging', 'team-*'],
      method: 'static-token',
    });
    expect(tokens.verify(bob)?.subject).toBe('bob');
    expect(tokens.verify(bob)?.namespaces).toBeUndefined();
    expect(tokens.verify(`${alice}x`)).toBeUndefined();
    expect(tokens.verify('')).toBeUndefined();
    expect(tokens.size).toBe(2);
  });

  it('re-reads a changed file: added tokens work, removed tokens stop working', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const file = await tokensFile(`tokens:\n  - identity: alice\n    token: ${alice}\n`);
    const tokens = createStaticTokens({ tokens: [], tokensFile: file, logger: logger() });
    expect(tokens.verify(alice)?.subject).toBe('alice');
    await tokensFile(`tokens:\n  - identity: bob\n    token: ${bob}\n`);
    vi.setSystemTime(Date.now() + 1500);
    expect(tokens.verify(alice)).toBeUndefined();
    expect(tokens.verify(bob)?.subject).toBe('bob');
  });

  it('keeps the last good tokens when the file is broken by an edit, and logs it without secrets', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const file = await tokensFile(`tokens:\n  - identity: alice\n    token: ${alice}\n`);
    const tokens = createStaticTokens({ tokens: [], tokensFile: file, logger: logger() });
    await tokensFile(`tokens:\n  - identity: bob\n    token: short\n`);
    vi.setSystemTime(Date.now() + 1500);
    expect(tokens.verify(alice)?.subject).toBe('alice');
    expect(logged).toContain('tokens file unusable');
    expect(logged).not.toContain(alice);
    expect(logged).not.toContain('short');
  });

  it('refuses a broken file at start-up, naming the file and the entry but never the token', async () => {
    const cases = [
      ['tokens: [', 'not valid YAML'],
      ['- identity: a', 'must hold "tokens:'],
      [`tokens:\n  - identity: a\n    token: short-secret\n`, 'item 0: token: must be at least 16'],
      [`tokens:\n  - identity: a\n`, 'give exactly one of "token" and "sha256"'],
      [`tokens:\n  - identity: a\n    token: ${alice}\n    role: admin\n`, 'unknown key(s) "role"'],
    ] as const;
    for (const [text, expected] of cases) {
      const file = await tokensFile(text);
      const error = catchAppError(() => readTokensFile(file));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(file);
      expect(error.message).toContain(expected);
      expect(error.message).not.toContain('short-secret');
    }
    const missing = catchAppError(() =>
      createStaticTokens({ tokens: [], tokensFile: join(dir, 'absent.yaml'), logger: logger() }),
    );
    expect(missing.message).toContain('cannot read auth.tokensFile');
    expect(missing.message).toContain('ENOENT');
  });

  it('refuses one token given to two identities', async () => {
    const file = await tokensFile(
      `tokens:\n  - identity: alice\n    token: ${alice}\n  - identity: mallory\n    sha256: ${tokenDigest(alice)}\n`,
    );
    const error = catchAppError(() => createStaticTokens({ tokens: [], tokensFile: file, logger: logger() }));
    expect(error.message).toContain('item 1 (mallory) has the same token as alice');
    expect(error.message).not.toContain(alice);
  });

  it('accepts several tokens for one identity (rotation)', () => {
    const tokens = createStaticTokens({
      tokens: [
        { identity: 'alice', token: alice, groups: [] },
        { identity: 'alice', token: bob, groups: [] },
      ],
      logger: logger(),
    });
    expect(tokens.verify(alice)?.subject).toBe('alice');
    expect(tokens.verify(bob)?.subject).toBe('alice');
  });
});
