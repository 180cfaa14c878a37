import type { ServerContext } from '@modelcontextprotocol/server';
import { identityOf, type Identity } from '../auth/identity.js';
import { narrowForCaller, type NamespacePolicy } from '../policy/namespaces.js';

/** The verified caller, with its groups and namespace limit; anonymous while authentication is off. */
export function callerIdentity(ctx: Pick<ServerContext, 'http'>): Identity {
  return identityOf(ctx.http?.authInfo);
}

/** Who is calling: the owner of its runs and workspaces. */
export function callerOf(ctx: Pick<ServerContext, 'http'>): string {
  return callerIdentity(ctx).subject;
}

/** The server's namespace policy narrowed to what this caller's credential grants. */
export function callerPolicy(ctx: Pick<ServerContext, 'http'>, policy: NamespacePolicy): NamespacePolicy {
  return narrowForCaller(policy, callerIdentity(ctx));
}
