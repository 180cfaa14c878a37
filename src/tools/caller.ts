import type { ServerContext } from '@modelcontextprotocol/server';
import { ownerOf } from '../workspace/owner.js';

/** Who is calling: the authenticated identity, or one anonymous owner while authentication is off. */
export function callerOf(ctx: Pick<ServerContext, 'http'>): string {
  return ownerOf(ctx.http?.authInfo);
}
