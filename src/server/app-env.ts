import type { HttpBindings } from '@hono/node-server';
import type { Identity } from '../auth/identity.js';

/** The Hono environment of every route: Node bindings, and the caller the auth gate verified. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: { identity: Identity };
}
