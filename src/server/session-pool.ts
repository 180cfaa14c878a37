import type { McpServer, Transport } from '@modelcontextprotocol/server';
import type { Logger } from '../logger.js';
import { trackActivity, type Activity } from './session-activity.js';

export interface PooledSession<T extends Transport> {
  readonly id: string;
  readonly kind: 'sse' | 'streamable-http';
  readonly transport: T;
  readonly server: McpServer;
  readonly activity: Activity;
  /** The identity that opened the session: only it may use the session. */
  readonly owner: string;
}

/**
 * Sessions of both session-holding transports (legacy SSE and 2025-era Streamable HTTP): a bound on
 * how many, and an idle sweep, because many clients never send DELETE or close their streams.
 * A session closed here takes its in-flight requests with it (their abort signals fire, which
 * kills their runs' process groups).
 */
export class SessionPool {
  private readonly sessions = new Map<string, PooledSession<Transport>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: {
      maxSessions: number;
      idleTimeoutMs: number;
      logger: Logger;
      /** Called once per session that ends, however it ends: its runs must not outlive it. */
      onSessionClosed?: (id: string) => void;
    },
  ) {
    const every = Math.max(50, Math.min(60_000, Math.floor(options.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => {
      this.sweep();
    }, every);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get isFull(): boolean {
    return this.sessions.size >= this.options.maxSessions;
  }

  countByKind(kind: PooledSession<Transport>['kind']): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.kind === kind) count += 1;
    return count;
  }

  /** Registers a connected session; it leaves the pool when its transport closes. */
  add<T extends Transport>(
    id: string,
    kind: PooledSession<T>['kind'],
    transport: T,
    server: McpServer,
    owner: string,
  ): PooledSession<T> {
    const session: PooledSession<T> = {
      id,
      kind,
      transport,
      server,
      owner,
      activity: trackActivity(transport),
    };
    this.sessions.set(id, session);
    const previous = transport.onclose;
    transport.onclose = () => {
      previous?.();
      if (this.sessions.get(id) === session) {
        this.sessions.delete(id);
        this.options.logger.debug({ sessionId: id, kind }, 'session closed');
        this.options.onSessionClosed?.(id);
        void server.close().catch(() => undefined);
      }
    };
    this.options.logger.debug({ sessionId: id, kind }, 'session opened');
    return session;
  }

  /** The session, when it exists, is of this kind, and belongs to `owner` (another's is "not found"). */
  get<T extends Transport>(
    id: string,
    kind: PooledSession<T>['kind'],
    owner: string,
  ): PooledSession<T> | undefined {
    const session = this.sessions.get(id);
    return session?.kind === kind && session.owner === owner ? (session as PooledSession<T>) : undefined;
  }

  /** Closes sessions that have been idle (no message, nothing in flight) for longer than the limit. */
  sweep(now = Date.now()): void {
    for (const session of [...this.sessions.values()]) {
      if (session.activity.inFlight === 0 && session.activity.idleMs(now) >= this.options.idleTimeoutMs) {
        this.options.logger.info({ sessionId: session.id, kind: session.kind }, 'closing idle session');
        void this.close(session);
      }
    }
  }

  private async close(session: PooledSession<Transport>): Promise<void> {
    if (this.sessions.delete(session.id)) this.options.onSessionClosed?.(session.id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }

  /** Waits (at most `timeoutMs`) until no session has a request in flight, so answers get out. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = (): boolean => [...this.sessions.values()].some((session) => session.activity.inFlight > 0);
    while (busy() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map((session) => this.close(session)));
  }
}
