import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { createNamespacePolicy, narrowForCaller } from '../../../src/policy/namespaces.js';

const policy = (allowed: string[], defaultNamespace = 'staging') =>
  createNamespacePolicy({ defaultNamespace, namespaces: { allowed } });

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
  }
  throw new Error('expected an AppError');
}

describe('namespace policy', () => {
  it('allows names and globs, and resolves the default', () => {
    const p = policy(['staging', 'team-*']);
    expect(p.isAllowed('staging')).toBe(true);
    expect(p.isAllowed('team-payments')).toBe(true);
    expect(p.isAllowed('default')).toBe(false);
    expect(p.resolve(undefined)).toBe('staging');
    expect(p.resolve('team-a')).toBe('team-a');
    expect(p.exactNames).toEqual(['staging']);
    expect(p.hasGlobs).toBe(true);
  });

  it('refuses a namespace outside the list, naming the allowed ones', () => {
    const error = refusal(() => policy(['staging', 'team-*']).resolve('kube-system'));
    expect(error.code).toBe('NAMESPACE_NOT_ALLOWED');
    expect(error.message).toBe(
      'namespace "kube-system" is not allowed on this server (allowed: staging, team-*)',
    );
    expect(error.details).toEqual({ namespace: 'kube-system', allowed: ['staging', 'team-*'] });
  });

  it('refuses an invalid name before the policy', () => {
    expect(refusal(() => policy(['*']).resolve('Bad_NS')).code).toBe('INVALID_NAMESPACE');
  });

  it('lists only exact names without globs', () => {
    const p = policy(['staging', 'prod'], 'prod');
    expect(p.hasGlobs).toBe(false);
    expect(p.exactNames).toEqual(['prod', 'staging']);
  });
});

describe('narrowForCaller', () => {
  const server = createNamespacePolicy({
    defaultNamespace: 'staging',
    namespaces: { allowed: ['staging', 'team-*', 'dev'] },
  });

  it('keeps the server policy for a caller without a limit', () => {
    expect(narrowForCaller(server, { subject: 'alice' })).toBe(server);
  });

  it('allows only what both the server and the credential allow', () => {
    const mine = narrowForCaller(server, { subject: 'alice', namespaces: ['team-a', 'dev', 'prod'] });
    expect(mine.isAllowed('team-a')).toBe(true);
    expect(mine.isAllowed('dev')).toBe(true);
    expect(mine.isAllowed('team-b')).toBe(false);
    expect(mine.isAllowed('prod')).toBe(false);
    expect(mine.isAllowed('staging')).toBe(false);
    expect(mine.patterns).toEqual(['team-a', 'dev']);
    // The server default is not hers: her first own namespace is.
    expect(mine.defaultNamespace).toBe('team-a');
    expect(mine.resolve(undefined)).toBe('team-a');
  });

  it('says whose rule refused a namespace', () => {
    const mine = narrowForCaller(server, { subject: 'alice', namespaces: ['team-*'] });
    const limited = refusal(() => mine.resolve('dev'));
    expect(limited.code).toBe('NAMESPACE_NOT_ALLOWED');
    expect(limited.message).toBe(
      'namespace "dev" is not allowed for alice (your credential limits alice to: team-*)',
    );
    const outside = refusal(() => mine.resolve('kube-system'));
    expect(outside.message).toContain('allowed on this server: staging, team-*, dev');
  });

  it('a credential granting no namespace allows none', () => {
    const mine = narrowForCaller(server, { subject: 'eve', namespaces: [] });
    expect(mine.isAllowed('staging')).toBe(false);
    expect(refusal(() => mine.resolve(undefined)).message).toContain('limits eve to: none');
  });

  it('a "*" grant shows the server patterns', () => {
    expect(narrowForCaller(server, { subject: 'ops', namespaces: ['*'] }).patterns).toEqual(server.patterns);
  });
});
