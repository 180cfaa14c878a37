import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { createNamespacePolicy } from '../../../src/policy/namespaces.js';

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
