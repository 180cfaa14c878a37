/**
 * Why a request is not authenticated. Kept apart from AppError: it becomes an HTTP 401 with a
 * `WWW-Authenticate` challenge (RFC 6750), never a tool result. The description is safe to send:
 * it never holds the token.
 */
export class AuthError extends Error {
  constructor(
    /** `invalid_request` (no or malformed credentials) or `invalid_token` (RFC 6750 §3.1). */
    readonly reason: 'invalid_request' | 'invalid_token',
    message: string,
    /** True when the failure was ours (issuer unreachable, API down): the client may retry. */
    readonly transient = false,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}
