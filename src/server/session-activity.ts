import type { Transport } from '@modelcontextprotocol/server';

export interface Activity {
  /** Milliseconds since the last message in either direction. */
  idleMs(now?: number): number;
  /** Requests received and not yet answered. */
  readonly inFlight: number;
  touch(): void;
}

type JsonRpcLike = { id?: unknown; method?: unknown; result?: unknown; error?: unknown };

/**
 * Watches a connected transport: when did anything last happen, and how many requests are still
 * being worked on. Call after `server.connect(transport)`, which installs `onmessage`.
 */
export function trackActivity(transport: Transport): Activity {
  const pending = new Set<unknown>();
  let last = Date.now();
  const received = transport.onmessage;
  transport.onmessage = (message, extra) => {
    last = Date.now();
    const msg = message as JsonRpcLike;
    if (typeof msg.method === 'string' && msg.id !== undefined) pending.add(msg.id);
    // A cancelled request gets no response: stop counting it.
    if (msg.method === 'notifications/cancelled') {
      pending.delete((message as { params?: { requestId?: unknown } }).params?.requestId);
    }
    received?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = async (message, options) => {
    last = Date.now();
    const msg = message as JsonRpcLike;
    if (msg.id !== undefined && (msg.result !== undefined || msg.error !== undefined)) pending.delete(msg.id);
    return send(message, options);
  };
  return {
    idleMs: (now = Date.now()) => now - last,
    get inFlight() {
      return pending.size;
    },
    touch: () => {
      last = Date.now();
    },
  };
}
