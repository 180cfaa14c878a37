/**
 * Who owns a workspace: a string identity from the transport. Until the server authenticates its
 * callers, everyone is the one anonymous owner; authentication maps its verified identity here.
 */
export const anonymousOwner = 'anonymous';

/** What a transport knows about its caller (the MCP SDK's AuthInfo has this shape). */
export interface CallerAuth {
  clientId?: string;
  extra?: Record<string, unknown>;
}

/** The owner for a caller: a verified subject when the transport has one, else anonymous. */
export function ownerOf(auth: CallerAuth | undefined): string {
  const subject = auth?.extra?.subject;
  if (typeof subject === 'string' && subject !== '') return subject;
  if (auth?.clientId) return auth.clientId;
  return anonymousOwner;
}
