import type { ServerContext } from '@modelcontextprotocol/server';
import { identityOf, type Identity } from '../auth/identity.js';
import { narrowForCaller, type NamespacePolicy } from '../policy/namespaces.js';
import { ownerOf } from '../workspace/owner.js';

/** Who is calling: the authenticated identity, or one anonymous owner while authentication is off. */
export function callerOf(ctx: Pick<ServerContext, 'http'>): string {
  return ownerOf(ctx.http?.authInfo);
}

/** The verified caller, with its groups and namespace limit. */
export function callerIdentity(ctx: Pick<ServerContext, 'http'>): Identity {
  return identityOf(ctx.http?.authInfo);
}

/** The server's namespace policy narrowed to what this caller's credential grants. */
export function callerPolicy(ctx: Pick<ServerContext, 'http'>, policy: NamespacePolicy): NamespacePolicy {
  return narrowForCaller(policy, callerIdentity(ctx));
}
