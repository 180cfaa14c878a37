import { readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';
import { describeIssue, staticTokenSchema, type StaticToken } from '../config.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { tokenDigest } from './bearer.js';
import type { Identity } from './identity.js';

const tokensFileSchema = z.object({ tokens: z.array(staticTokenSchema) }).strict();

/** How often (at most) the tokens file is checked for changes. */
const recheckMs = 1000;

export interface StaticTokens {
  /** The identity of a token, or undefined when it is not one of ours. */
  verify(token: string): Identity | undefined;
  /** Tokens known now (inline plus file). */
  readonly size: number;
}

/**
 * Static bearer tokens from the config (`auth.tokens`) and a file (`auth.tokensFile`). Tokens are
 * kept only as sha256 digests, looked up in a map. The file is re-read when it changes (a mounted
 * Secret is updated in place), so tokens can be added and revoked without a restart; a broken edit
 * keeps the last good set and is logged. A broken file at start-up stops the server.
 */
export function createStaticTokens(options: {
  tokens: readonly StaticToken[];
  tokensFile?: string | undefined;
  logger: Logger;
}): StaticTokens {
  const { logger, tokensFile } = options;
  const inline = index(options.tokens, 'auth.tokens');
  let fromFile = new Map<string, Identity>();
  let fileStamp = '';
  let checkedAt = 0;

  const load = (): void => {
    if (!tokensFile) return;
    const stamp = stampOf(tokensFile);
    if (stamp === fileStamp) return;
    fromFile = index(readTokensFile(tokensFile), tokensFile, inline);
    fileStamp = stamp;
    logger.info({ file: tokensFile, tokens: fromFile.size }, 'loaded static tokens');
  };
  load();

  const refresh = (): void => {
    const now = Date.now();
    if (!tokensFile || now - checkedAt < recheckMs) return;
    checkedAt = now;
    try {
      load();
    } catch (error) {
      // Keep serving with the last good set: a typo in the Secret must not lock the whole team out.
      logger.error(
        { file: tokensFile, reason: (error as Error).message },
        'tokens file unusable; keeping the previous tokens',
      );
      fileStamp = stampOrEmpty(tokensFile);
    }
  };

  return {
    verify(token) {
      refresh();
      const digest = tokenDigest(token);
      return inline.get(digest) ?? fromFile.get(digest);
    },
    get size() {
      return inline.size + fromFile.size;
    },
  };
}

function index(
  entries: readonly StaticToken[],
  source: string,
  others: ReadonlyMap<string, Identity> = new Map(),
): Map<string, Identity> {
  const byDigest = new Map<string, Identity>();
  entries.forEach((entry, i) => {
    const digest = entry.sha256 ?? tokenDigest(entry.token ?? '');
    const existing = byDigest.get(digest) ?? others.get(digest);
    if (existing && existing.subject !== entry.identity) {
      throw new AppError(
        'CONFIG_INVALID',
        `${source}: item ${i} (${entry.identity}) has the same token as ${existing.subject}; every token must name one identity`,
      );
    }
    byDigest.set(digest, {
      subject: entry.identity,
      groups: entry.groups,
      namespaces: entry.namespaces,
      method: 'static-token',
    });
  });
  return byDigest;
}

/** Reads and validates a tokens file; errors name the file and the entry, never a token. */
export function readTokensFile(path: string): StaticToken[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError(
      'CONFIG_INVALID',
      `cannot read auth.tokensFile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch {
    throw new AppError('CONFIG_INVALID', `auth.tokensFile ${path} is not valid YAML or JSON`);
  }
  const result = tokensFileSchema.safeParse(parsed);
  if (!result.success) {
    const lines = result.error.issues.map(
      (issue) => `  ${issue.path.length > 0 ? '' : '(root): '}${describeIssue(issue)}`,
    );
    throw new AppError(
      'CONFIG_INVALID',
      `auth.tokensFile ${path} must hold "tokens: [{identity, token | sha256, groups?, namespaces?}]":\n${lines.join('\n')}`,
    );
  }
  return result.data.tokens;
}

function stampOf(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
  } catch (error) {
    throw new AppError(
      'CONFIG_INVALID',
      `cannot read auth.tokensFile ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function stampOrEmpty(path: string): string {
  try {
    return stampOf(path);
  } catch {
    return '';
  }
}
