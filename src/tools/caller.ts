import type { ServerContext } from '@modelcontextprotocol/server';

/** Who is calling: the authenticated identity, or one anonymous owner while authentication is off. */
export function callerOf(ctx: Pick<ServerContext, 'http'>): string {
  return ctx.http?.authInfo?.clientId ?? 'anonymous';
}
