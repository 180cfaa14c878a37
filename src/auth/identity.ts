import type { AuthInfo } from '@modelcontextprotocol/server';

/** How a caller proved who it is. */
export type AuthMethod = 'static-token' | 'oidc' | 'token-review' | 'none';

/** A verified caller. */
export interface Identity {
  /** The name used in audit logs, as workspace and run owner, and as the SubjectAccessReview user. */
  readonly subject: string;
  readonly groups: readonly string[];
  /** Namespace names or globs this caller is limited to (within namespaces.allowed); undefined = no limit. */
  readonly namespaces?: readonly string[] | undefined;
  readonly method: AuthMethod;
  /** Seconds since the epoch, when the credential expires. */
  readonly expiresAt?: number | undefined;
}

/** The identity of every caller while authentication is off (loopback only). */
export const anonymousIdentity: Identity = { subject: 'anonymous', groups: [], method: 'none' };

/**
 * The MCP SDK's AuthInfo for an identity: handlers read it as `ctx.http.authInfo`. The token stays
 * out of it (nothing downstream needs it, so nothing downstream can leak it).
 */
export function toAuthInfo(identity: Identity): AuthInfo {
  return {
    token: '',
    clientId: identity.subject,
    scopes: [],
    ...(identity.expiresAt !== undefined ? { expiresAt: identity.expiresAt } : {}),
    extra: {
      subject: identity.subject,
      groups: [...identity.groups],
      method: identity.method,
      ...(identity.namespaces ? { namespaces: [...identity.namespaces] } : {}),
    },
  };
}

/** The identity a transport handed to a tool (the inverse of toAuthInfo); anonymous when there is none. */
export function identityOf(
  auth: { clientId?: string; extra?: Record<string, unknown> } | undefined,
): Identity {
  const extra = auth?.extra;
  const subject = typeof extra?.subject === 'string' && extra.subject !== '' ? extra.subject : auth?.clientId;
  if (!subject) return anonymousIdentity;
  const strings = (value: unknown): string[] | undefined =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : undefined;
  const method = extra?.method;
  return {
    subject,
    groups: strings(extra?.groups) ?? [],
    namespaces: strings(extra?.namespaces),
    method: method === 'static-token' || method === 'oidc' || method === 'token-review' ? method : 'none',
  };
}
