import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import {
  applyCallerRules,
  podSecretPaths,
  secretNamePatterns,
  type NamespaceRules,
} from '../../../src/policy/caller-config.js';
import { globMatches, rulesFor } from '../../../src/policy/namespace-rules.js';
import { loadConfig } from '../../../src/config.js';

const strict: NamespaceRules = {
  steal: 'never',
  fsWrite: false,
  envImport: 'non-secret',
  hidePodSecrets: true,
};
const open: NamespaceRules = { steal: 'always', fsWrite: true, envImport: 'all', hidePodSecrets: false };

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('the caller allow-list', () => {
  it.each([
    [{ feature: { network: { incoming: 'mirror', outgoing: true, dns: false } } }],
    [{ feature: { fs: { mode: 'read', read_only: ['.*\\.json'] } } }],
    [{ feature: { env: { override: { A: 'b' }, unset: ['X'] }, hostname: true } }],
    [{ skip_processes: ['node'], skip_build_tools: true, startup_retry: { max_retries: 2 } }],
  ])('accepts %j', (input) => {
    expect(() => applyCallerRules(input, open, 'ns')).not.toThrow();
  });

  it.each([
    [{ feature: { copy_target: { enabled: true } } }, 'feature.copy_target'],
    [{ feature: { split_queues: {} } }, 'feature.split_queues'],
    [{ feature: { db_branches: [] } }, 'feature.db_branches'],
    [{ feature: { network: { magic: 1 } } }, 'feature.network.magic'],
    [{ baggage: {} }, 'baggage'],
    [{ api: {} }, 'api'],
    [{ skip_sip: ['x'] }, 'skip_sip'],
    // Found by fuzzing: names of Object.prototype members once found a "spec" and passed.
    [{ constructor: { x: 1 } }, 'constructor'],
    [{ feature: { toString: 'x' } }, 'feature.toString'],
    [{ feature: { network: { hasOwnProperty: 1 } } }, 'feature.network.hasOwnProperty'],
  ])('refuses %j naming %s', (input, key) => {
    const error = refusal(() => applyCallerRules(input, open, 'ns'));
    expect(error.code).toBe('FORBIDDEN_CONFIG_KEY');
    expect(error.details).toMatchObject({ key, rule: 'caller allow-list' });
    expect(error.message).toContain(`"${key}"`);
  });
});

describe('steal', () => {
  it('is refused under steal: never, as a string or an object mode', () => {
    for (const incoming of ['steal', { mode: 'steal', http_filter: { header_filter: 'x: y' } }]) {
      const error = refusal(() => applyCallerRules({ feature: { network: { incoming } } }, strict, 'prod'));
      expect(error.code).toBe('POLICY_DENIED');
      expect(error.message).toMatch(/not allowed in namespace "prod" \(policy steal: never\)/);
      expect(error.details).toMatchObject({ key: 'feature.network.incoming', rule: 'steal: never' });
    }
  });

  it('needs an http_filter under steal: with-filter', () => {
    const rules = { ...strict, steal: 'with-filter' as const };
    expect(
      refusal(() => applyCallerRules({ feature: { network: { incoming: 'steal' } } }, rules, 'dev')).message,
    ).toMatch(/needs an http_filter/);
    expect(
      refusal(() =>
        applyCallerRules(
          { feature: { network: { incoming: { mode: 'steal', http_filter: {} } } } },
          rules,
          'dev',
        ),
      ).code,
    ).toBe('POLICY_DENIED');
    const ok = applyCallerRules(
      { feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: 'x-user: me' } } } } },
      rules,
      'dev',
    );
    expect((ok.feature as any).network.incoming.mode).toBe('steal');
  });

  it('mirror is always fine', () => {
    expect(() =>
      applyCallerRules({ feature: { network: { incoming: 'mirror' } } }, strict, 'prod'),
    ).not.toThrow();
  });
});

describe('fs', () => {
  it('refuses write unless allowed', () => {
    for (const fs of ['write', { mode: 'write' }]) {
      const error = refusal(() => applyCallerRules({ feature: { fs } }, strict, 'prod'));
      expect(error.details).toMatchObject({ key: 'feature.fs', rule: 'fsWrite: false' });
    }
    expect(() =>
      applyCallerRules({ feature: { fs: 'write' } }, { ...strict, fsWrite: true }, 'dev'),
    ).not.toThrow();
  });

  it('hides the pod secret mounts, keeping the caller mode and patterns', () => {
    const out = applyCallerRules({ feature: { fs: 'read' } }, strict, 'ns') as any;
    expect(out.feature.fs).toEqual({ mode: 'read', not_found: podSecretPaths });
    const withPatterns = applyCallerRules(
      { feature: { fs: { mode: 'local', not_found: ['^/tmp/x'] } } },
      strict,
      'ns',
    ) as any;
    expect(withPatterns.feature.fs).toEqual({ mode: 'local', not_found: ['^/tmp/x', ...podSecretPaths] });
    const none = applyCallerRules({}, strict, 'ns') as any;
    expect(none.feature.fs.not_found).toEqual(podSecretPaths);
    expect((applyCallerRules({}, open, 'ns') as any).feature.fs).toBeUndefined();
  });
});

describe('env import', () => {
  it('excludes secret-looking names by default, keeping the caller excludes', () => {
    const out = applyCallerRules({ feature: { env: { exclude: 'DEBUG;X' } } }, strict, 'ns') as any;
    expect(out.feature.env.exclude).toEqual(['DEBUG', 'X', ...secretNamePatterns]);
    expect((applyCallerRules({}, strict, 'ns') as any).feature.env.exclude).toEqual(secretNamePatterns);
  });

  it('accepts a literal include list without secret names and refuses globs or secret names', () => {
    const ok = applyCallerRules({ feature: { env: { include: 'APP_ENV;LOG_LEVEL' } } }, strict, 'ns') as any;
    expect(ok.feature.env.include).toBe('APP_ENV;LOG_LEVEL');
    expect(ok.feature.env.exclude).toBeUndefined();
    for (const include of ['MY_APP_*', 'API_TOKEN', ['DB_PASSWORD'], 'A?']) {
      const error = refusal(() => applyCallerRules({ feature: { env: { include } } }, strict, 'ns'));
      expect(error.code).toBe('POLICY_DENIED');
      expect(error.details).toMatchObject({ key: 'feature.env.include', rule: 'envImport: non-secret' });
    }
  });

  it('imports nothing under envImport: none but keeps overrides', () => {
    const rules = { ...strict, envImport: 'none' as const };
    expect((applyCallerRules({}, rules, 'ns') as any).feature.env).toBe(false);
    expect(
      (applyCallerRules({ feature: { env: { override: { A: '1' } } } }, rules, 'ns') as any).feature.env,
    ).toEqual({
      exclude: '*',
      override: { A: '1' },
    });
  });

  it('leaves the config alone under envImport: all, and never mutates the input', () => {
    const input = { feature: { env: { include: 'A*' } } };
    const frozen = structuredClone(input);
    expect((applyCallerRules(input, open, 'ns') as any).feature.env).toEqual({ include: 'A*' });
    applyCallerRules(input, { ...strict, envImport: 'all' }, 'ns');
    expect(input).toEqual(frozen);
  });
});

describe('namespace rules', () => {
  it('matches globs over whole names', () => {
    expect(globMatches('prod-*', 'prod-eu')).toBe(true);
    expect(globMatches('prod-*', 'preprod-eu')).toBe(false);
    expect(globMatches('team-?', 'team-a')).toBe(true);
    expect(globMatches('a.b', 'axb')).toBe(false);
  });

  it('lays the first matching namespace entry over the server-wide policy', () => {
    const config = loadConfig({
      flags: {
        policy: {
          steal: 'never',
          namespaces: { 'dev-*': { steal: 'always', fsWrite: true }, 'dev-shared': { steal: 'with-filter' } },
        },
      },
    });
    expect(rulesFor(config, 'dev-me')).toEqual({
      steal: 'always',
      fsWrite: true,
      envImport: 'non-secret',
      hidePodSecrets: true,
    });
    expect(rulesFor(config, 'dev-shared').steal).toBe('always');
    expect(rulesFor(config, 'prod')).toEqual({
      steal: 'never',
      fsWrite: false,
      envImport: 'non-secret',
      hidePodSecrets: true,
    });
  });

  it('reads per-namespace rules from JSON in the environment and refuses bad ones', () => {
    const config = loadConfig({
      env: { MIRRORD_MCP_POLICY_NAMESPACES: '{"staging":{"steal":"with-filter"}}' },
    });
    expect(rulesFor(config, 'staging').steal).toBe('with-filter');
    expect(() =>
      loadConfig({ env: { MIRRORD_MCP_POLICY_NAMESPACES: '{"staging":{"steal":"sometimes"}}' } }),
    ).toThrow(/policy\.namespaces/);
    expect(() => loadConfig({ env: { MIRRORD_MCP_POLICY_NAMESPACES: 'not json' } })).toThrow(
      /policy\.namespaces/,
    );
  });
});
