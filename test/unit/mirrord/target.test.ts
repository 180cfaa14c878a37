import { describe, expect, it } from 'vitest';
import { AppError, type ErrorCode } from '../../../src/errors.js';
import { parseNamespace, parseTarget, resolveCallTarget } from '../../../src/mirrord/target.js';
import { catchAppError } from '../../helpers/app-error.js';

function expectCode(fn: () => unknown, code: ErrorCode): AppError {
  const error = catchAppError(fn);
  expect(error.code).toBe(code);
  return error;
}

describe('parseTarget: valid forms', () => {
  it('targetless', () => {
    expect(parseTarget('targetless')).toEqual({ kind: 'targetless', name: '', path: 'targetless' });
  });

  it('trims surrounding whitespace', () => {
    expect(parseTarget('  targetless\n')).toEqual({ kind: 'targetless', name: '', path: 'targetless' });
    expect(parseTarget(' pod/api ')).toEqual({ kind: 'pod', name: 'api', path: 'pod/api' });
  });

  it.each([
    ['pod/api-7d9f-abc', { kind: 'pod', name: 'api-7d9f-abc', path: 'pod/api-7d9f-abc' }],
    ['deployment/api', { kind: 'deployment', name: 'api', path: 'deployment/api' }],
    ['deploy/api', { kind: 'deployment', name: 'api', path: 'deployment/api' }],
    ['rollout/web', { kind: 'rollout', name: 'web', path: 'rollout/web' }],
    ['Deployment/api', { kind: 'deployment', name: 'api', path: 'deployment/api' }],
    ['POD/api', { kind: 'pod', name: 'api', path: 'pod/api' }],
    ['deployment/a.b-c', { kind: 'deployment', name: 'a.b-c', path: 'deployment/a.b-c' }],
    ['pod/0', { kind: 'pod', name: '0', path: 'pod/0' }],
  ])('%s', (raw, expected) => {
    const target = parseTarget(raw);
    expect(target).toEqual(expected);
    expect(target.container).toBeUndefined();
  });

  it.each([
    [
      'pod/multi-xyz/container/app',
      { kind: 'pod', name: 'multi-xyz', container: 'app', path: 'pod/multi-xyz/container/app' },
    ],
    [
      'deployment/api/container/main',
      { kind: 'deployment', name: 'api', container: 'main', path: 'deployment/api/container/main' },
    ],
    [
      'deploy/api/container/c1',
      { kind: 'deployment', name: 'api', container: 'c1', path: 'deployment/api/container/c1' },
    ],
    [
      'rollout/web/container/nginx',
      { kind: 'rollout', name: 'web', container: 'nginx', path: 'rollout/web/container/nginx' },
    ],
  ])('%s (with a container)', (raw, expected) => {
    expect(parseTarget(raw)).toEqual(expected);
  });

  it('accepts a name of 253 characters and a container of 63', () => {
    const name = 'a'.repeat(253);
    const container = 'c'.repeat(63);
    expect(parseTarget(`pod/${name}/container/${container}`)).toEqual({
      kind: 'pod',
      name,
      container,
      path: `pod/${name}/container/${container}`,
    });
  });
});

describe('parseTarget: operator-only kinds', () => {
  it.each([
    'statefulset/db',
    'job/migrate',
    'cronjob/nightly',
    'service/api',
    'replicaset/api-7d9f',
    'label/app=api',
  ])('%s is OPERATOR_REQUIRED', (raw) => {
    const error = expectCode(() => parseTarget(raw), 'OPERATOR_REQUIRED');
    expect(error.message).toContain(`"${raw.split('/')[0] ?? ''}"`);
    expect(error.message).toContain(raw);
    expect(error.details).toEqual({ target: raw });
  });

  it('kinds are matched case-insensitively', () => {
    expectCode(() => parseTarget('StatefulSet/db'), 'OPERATOR_REQUIRED');
    expectCode(() => parseTarget('JOB/x'), 'OPERATOR_REQUIRED');
  });

  it('an operator-only kind is refused even with a container part', () => {
    expectCode(() => parseTarget('statefulset/db/container/pg'), 'OPERATOR_REQUIRED');
  });
});

describe('parseTarget: invalid targets', () => {
  it.each([
    'svc/api',
    'deployments/api',
    'daemonset/x',
    'node/x',
    'foo',
    '',
    '   ',
    'targetless/x',
    'TARGETLESS',
  ])('unknown kind %j is INVALID_TARGET', (raw) => {
    const error = expectCode(() => parseTarget(raw), 'INVALID_TARGET');
    expect(error.message).toContain('unknown target kind');
    expect(error.details).toEqual({ target: raw });
  });

  it.each([
    'pod',
    'pod/',
    'pod//container/app',
    'pod/API',
    'pod/-api',
    'pod/api-',
    'pod/.api',
    'pod/a b',
    'pod/a_b',
    `pod/${'a'.repeat(254)}`,
  ])('bad name %j is INVALID_TARGET', (raw) => {
    const error = expectCode(() => parseTarget(raw), 'INVALID_TARGET');
    expect(error.message).toContain('is not a valid Kubernetes name');
    expect(error.details).toEqual({ target: raw });
  });

  it.each([
    'pod/api/',
    'pod/api/container',
    'pod/api/container/',
    'pod/api/containers/app',
    'pod/api/cont/app',
    'pod/api/container/app/extra',
    'pod/api/container/App',
    'pod/api/container/a.b',
    'pod/api/container/-a',
    `pod/api/container/${'c'.repeat(64)}`,
    'deployment/api/app',
  ])('malformed path %j is INVALID_TARGET', (raw) => {
    const error = expectCode(() => parseTarget(raw), 'INVALID_TARGET');
    expect(error.message).toMatch(
      /must look like (pod|deployment)\/NAME or (pod|deployment)\/NAME\/container\/C/,
    );
    expect(error.details).toEqual({ target: raw });
  });
});

describe('resolveCallTarget', () => {
  it('deployment only: a deployment target', () => {
    expect(resolveCallTarget({ deployment: 'api' })).toEqual({
      kind: 'deployment',
      name: 'api',
      path: 'deployment/api',
    });
    expect(resolveCallTarget({ deployment: '  api  ' })).toEqual({
      kind: 'deployment',
      name: 'api',
      path: 'deployment/api',
    });
  });

  it('deployment only with a bad name is INVALID_TARGET', () => {
    expectCode(() => resolveCallTarget({ deployment: 'Api_1' }), 'INVALID_TARGET');
  });

  it('target only', () => {
    expect(resolveCallTarget({ target: 'pod/api-1' })).toEqual({
      kind: 'pod',
      name: 'api-1',
      path: 'pod/api-1',
    });
    expect(resolveCallTarget({ target: 'targetless' })).toEqual({
      kind: 'targetless',
      name: '',
      path: 'targetless',
    });
  });

  it('target only, refused kinds keep their codes', () => {
    expectCode(() => resolveCallTarget({ target: 'job/x' }), 'OPERATOR_REQUIRED');
    expectCode(() => resolveCallTarget({ target: 'svc/x' }), 'INVALID_TARGET');
  });

  it('both given and agreeing: the target wins (container kept)', () => {
    expect(resolveCallTarget({ target: 'deployment/api', deployment: 'api' })).toEqual({
      kind: 'deployment',
      name: 'api',
      path: 'deployment/api',
    });
    expect(resolveCallTarget({ target: 'deploy/api/container/app', deployment: ' api ' })).toEqual({
      kind: 'deployment',
      name: 'api',
      container: 'app',
      path: 'deployment/api/container/app',
    });
  });

  it.each([
    { target: 'deployment/web', deployment: 'api' },
    { target: 'pod/api', deployment: 'api' },
    { target: 'rollout/api', deployment: 'api' },
    { target: 'targetless', deployment: 'api' },
  ])('both given and disagreeing ($target vs $deployment) is INVALID_ARGUMENT', (args) => {
    const error = expectCode(() => resolveCallTarget(args), 'INVALID_ARGUMENT');
    expect(error.message).toContain('disagree');
    expect(error.message).toContain(args.target);
    expect(error.message).toContain(args.deployment);
  });

  it('both given with an invalid target: the target error comes first', () => {
    expectCode(() => resolveCallTarget({ target: 'job/x', deployment: 'api' }), 'OPERATOR_REQUIRED');
  });

  it('deployment with a slash is INVALID_ARGUMENT pointing at "target"', () => {
    const error = expectCode(() => resolveCallTarget({ deployment: 'pod/api' }), 'INVALID_ARGUMENT');
    expect(error.message).toContain('bare deployment name');
    expect(error.message).toContain('"target"');
    expect(error.message).toContain('pod/api');
  });

  it('a blank target falls back to the deployment', () => {
    expect(resolveCallTarget({ target: '   ', deployment: 'api' })).toEqual({
      kind: 'deployment',
      name: 'api',
      path: 'deployment/api',
    });
    expect(resolveCallTarget({ target: '', deployment: 'api' }).path).toBe('deployment/api');
  });

  it('a blank deployment next to a target is ignored', () => {
    expect(resolveCallTarget({ target: 'pod/x', deployment: '  ' }).path).toBe('pod/x');
  });

  it.each([
    {},
    { target: undefined, deployment: undefined },
    { target: '', deployment: '' },
    { target: ' ', deployment: ' ' },
  ])('neither given (%j) is INVALID_ARGUMENT', (args) => {
    const error = expectCode(() => resolveCallTarget(args), 'INVALID_ARGUMENT');
    expect(error.message).toContain('"deployment"');
    expect(error.message).toContain('"target"');
  });
});

describe('parseNamespace', () => {
  it.each(['default', 'team-a', 'a', '0', 'ns1', 'a'.repeat(63)])('accepts %j', (raw) => {
    expect(parseNamespace(raw)).toBe(raw);
  });

  it.each(['', 'Team', 'team_a', '-a', 'a-', 'a.b', ' a', 'a/b', 'a'.repeat(64)])('refuses %j', (raw) => {
    const error = expectCode(() => parseNamespace(raw), 'INVALID_NAMESPACE');
    expect(error.message).toContain(`"${raw}"`);
    expect(error.details).toEqual({ namespace: raw });
  });
});

describe('deployment with a slash next to a target (regression)', () => {
  it('names the deployment argument the caller passed', () => {
    expect(() => resolveCallTarget({ target: 'deployment/api', deployment: 'a/b' })).toThrow(
      /bare deployment name.*"a\/b"/,
    );
  });
});
