import { ApiException } from '@kubernetes/client-node';
import { AppError } from '../errors.js';

/** What a request was trying to do, so a refusal can name the missing permission. */
export interface KubeRequest {
  verb: string;
  /** Plural resource, e.g. "pods", "deployments". */
  resource: string;
  /** API group; "" for the core group. */
  group?: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
}

function statusOf(body: unknown): KubeStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 500) };
    }
  }
  if (typeof value === 'object' && value !== null) {
    const { message, reason, code } = value as Record<string, unknown>;
    return {
      ...(typeof message === 'string' ? { message } : {}),
      ...(typeof reason === 'string' ? { reason } : {}),
      ...(typeof code === 'number' ? { code } : {}),
    };
  }
  return {};
}

/** "list deployments.apps in namespace staging" */
export function describeRequest(request: KubeRequest): string {
  const resource = request.group ? `${request.resource}.${request.group}` : request.resource;
  const name = request.name ? ` "${request.name}"` : '';
  const where = request.namespace ? ` in namespace "${request.namespace}"` : ' (cluster-wide)';
  return `${request.verb} ${resource}${name}${where}`;
}

const unreachableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);

function errorCode(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const { code, errno } = current as { code?: unknown; errno?: unknown };
    if (typeof code === 'string') return code;
    if (typeof errno === 'string') return errno;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const isAbort = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/**
 * Translates whatever @kubernetes/client-node threw (ApiException, node-fetch's FetchError or
 * AbortError, a watch's status error) into an AppError naming what was attempted. The one place
 * where Kubernetes errors enter our code.
 */
export function translateKubeError(
  error: unknown,
  request: KubeRequest,
  context: { server?: string | undefined; timeoutMs?: number; timedOut?: boolean } = {},
): AppError {
  if (error instanceof AppError) return error;
  const what = describeRequest(request);
  const details: Record<string, unknown> = {
    verb: request.verb,
    resource: request.resource,
    group: request.group ?? '',
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(request.name ? { name: request.name } : {}),
  };
  const status = httpStatus(error);
  if (status !== undefined) {
    const body = statusOf(error instanceof ApiException ? (error.body as unknown) : undefined);
    const said = body.message ? `: ${body.message}` : '';
    details.status = status;
    switch (status) {
      case 401:
        return new AppError(
          'KUBE_UNAUTHORIZED',
          `the Kubernetes API rejected the server's credentials (401) when trying to ${what}`,
          details,
          { cause: error },
        );
      case 403:
        return new AppError(
          'KUBE_FORBIDDEN',
          `the server's Kubernetes identity may not ${what} (403 Forbidden)${said}`,
          details,
          { cause: error },
        );
      case 404:
        return new AppError('KUBE_NOT_FOUND', `not found: ${what}${said}`, details, { cause: error });
      case 408:
      case 504:
        return new AppError(
          'KUBE_TIMEOUT',
          `the Kubernetes API timed out (${status}) trying to ${what}${said}`,
          details,
          { cause: error },
        );
      default:
        return new AppError(
          'KUBE_API_ERROR',
          `the Kubernetes API answered ${status} to ${what}${said}`,
          details,
          { cause: error },
        );
    }
  }
  if (isAbort(error) && context.timedOut === false) {
    return new AppError(
      'KUBE_API_ERROR',
      `the request was cancelled before the API answered (${what})`,
      details,
      {
        cause: error,
      },
    );
  }
  if (context.timedOut === true || (isAbort(error) && context.timeoutMs !== undefined)) {
    return new AppError(
      'KUBE_TIMEOUT',
      `the Kubernetes API did not answer within ${context.timeoutMs ?? '?'} ms (kube.requestTimeoutMs) to ${what}`,
      details,
      { cause: error },
    );
  }
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && (unreachableCodes.has(code) || code.startsWith('ERR_TLS') || /CERT/.test(code))) {
    return new AppError(
      'KUBE_UNREACHABLE',
      `cannot reach the Kubernetes API${context.server ? ` at ${context.server}` : ''} (${code}) to ${what}: ${message}`,
      { ...details, errno: code },
      { cause: error },
    );
  }
  if (error instanceof Error && error.name === 'FetchError') {
    return new AppError(
      'KUBE_UNREACHABLE',
      `cannot reach the Kubernetes API${context.server ? ` at ${context.server}` : ''} to ${what}: ${message}`,
      details,
      { cause: error },
    );
  }
  return new AppError('KUBE_API_ERROR', `Kubernetes request failed (${what}): ${message}`, details, {
    cause: error,
  });
}

/** The HTTP status of a client error: ApiException.code, or a watch's `statusCode`. */
export function httpStatus(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (typeof error === 'object' && error !== null) {
    const { statusCode } = error as { statusCode?: unknown };
    if (typeof statusCode === 'number') return statusCode;
  }
  return undefined;
}
