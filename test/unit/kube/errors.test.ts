import { ApiException, FetchError } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/errors.js';
import { describeRequest, translateKubeError } from '../../../src/kube/errors.js';

const request = { verb: 'list', resource: 'deployments', group: 'apps', namespace: 'staging' };
const status = (code: number, message: string) =>
  new ApiException(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', code, message }), {});

describe('translateKubeError', () => {
  it('names the request', () => {
    expect(describeRequest(request)).toBe('list deployments.apps in namespace "staging"');
    expect(describeRequest({ verb: 'get', resource: 'nodes', name: 'w1' })).toBe(
      'get nodes "w1" (cluster-wide)',
    );
  });

  it.each([
    [
      401,
      'KUBE_UNAUTHORIZED',
      /rejected the server's credentials \(401\) when trying to list deployments\.apps/,
    ],
    [403, 'KUBE_FORBIDDEN', /may not list deployments\.apps in namespace "staging" \(403 Forbidden\): nope/],
    [404, 'KUBE_NOT_FOUND', /not found: list deployments\.apps in namespace "staging": nope/],
    [504, 'KUBE_TIMEOUT', /timed out \(504\)/],
    [500, 'KUBE_API_ERROR', /answered 500 to list deployments\.apps in namespace "staging": nope/],
  ] as const)('HTTP %i becomes %s', (code, appCode, message) => {
    const error = translateKubeError(status(code, 'nope'), request);
    expect(error.code).toBe(appCode);
    expect(error.message).toMatch(message);
    expect(error.details).toMatchObject({
      verb: 'list',
      resource: 'deployments',
      group: 'apps',
      namespace: 'staging',
      status: code,
    });
  });

  it('reads a watch error status and a plain-text body', () => {
    expect(translateKubeError(Object.assign(new Error('Forbidden'), { statusCode: 403 }), request).code).toBe(
      'KUBE_FORBIDDEN',
    );
    const text = translateKubeError(new ApiException(502, 'x', '<html>bad gateway</html>', {}), request);
    expect(text.message).toMatch(/answered 502 .*<html>bad gateway<\/html>/);
  });

  it('network failures are KUBE_UNREACHABLE with the errno and the server', () => {
    const refused = new FetchError(
      'request to https://10.0.0.1:6443/apis failed, reason: connect ECONNREFUSED',
      'system',
      {
        code: 'ECONNREFUSED',
      } as any,
    );
    const error = translateKubeError(refused, request, { server: 'https://10.0.0.1:6443' });
    expect(error.code).toBe('KUBE_UNREACHABLE');
    expect(error.message).toMatch(
      /cannot reach the Kubernetes API at https:\/\/10\.0\.0\.1:6443 \(ECONNREFUSED\) to list deployments/,
    );
    const tls = translateKubeError(
      Object.assign(new Error('self-signed'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
      request,
    );
    expect(tls.code).toBe('KUBE_UNREACHABLE');
  });

  it('an abort by the request timeout is KUBE_TIMEOUT naming the setting', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
    const error = translateKubeError(abort, request, { timeoutMs: 700, timedOut: true });
    expect(error.code).toBe('KUBE_TIMEOUT');
    expect(error.message).toMatch(/did not answer within 700 ms \(kube.requestTimeoutMs\)/);
  });

  it('keeps AppErrors and wraps anything else', () => {
    const own = new AppError('KUBE_NOT_CONFIGURED', 'x');
    expect(translateKubeError(own, request)).toBe(own);
    expect(translateKubeError('weird', request).code).toBe('KUBE_API_ERROR');
  });
});
