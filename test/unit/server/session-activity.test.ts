import type {
  JSONRPCMessage,
  MessageExtraInfo,
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/server';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { trackActivity } from '../../../src/server/session-activity.js';

/** A transport that records what the server sends and what the "connected" server received. */
function fakeTransport(): {
  transport: Transport;
  received: { message: JSONRPCMessage; extra: MessageExtraInfo | undefined }[];
  sent: { message: JSONRPCMessage; options: TransportSendOptions | undefined }[];
  deliver: (message: unknown, extra?: MessageExtraInfo) => void;
} {
  const received: { message: JSONRPCMessage; extra: MessageExtraInfo | undefined }[] = [];
  const sent: { message: JSONRPCMessage; options: TransportSendOptions | undefined }[] = [];
  const transport: Transport = {
    start: () => Promise.resolve(),
    close: () => Promise.resolve(),
    send(message, options) {
      sent.push({ message, options });
      return Promise.resolve();
    },
    // What `server.connect(transport)` installs.
    onmessage: (message, extra) => {
      received.push({ message, extra });
    },
  };
  return {
    transport,
    received,
    sent,
    deliver: (message, extra) => {
      transport.onmessage?.(message as JSONRPCMessage, extra);
    },
  };
}

const request = (id: number | string, method = 'tools/call'): JSONRPCMessage =>
  ({ jsonrpc: '2.0', id, method, params: {} }) as JSONRPCMessage;
const result = (id: number | string): JSONRPCMessage =>
  ({ jsonrpc: '2.0', id, result: {} }) as JSONRPCMessage;
const errorResponse = (id: number | string): JSONRPCMessage =>
  ({ jsonrpc: '2.0', id, error: { code: -32603, message: 'boom' } }) as JSONRPCMessage;
const notification = (method: string, params: Record<string, unknown> = {}): JSONRPCMessage =>
  ({ jsonrpc: '2.0', method, params }) as JSONRPCMessage;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
});

afterEach(() => {
  vi.useRealTimers();
});

describe('trackActivity: forwarding', () => {
  it('hands every received message and its extra to the original handler', () => {
    const fake = fakeTransport();
    trackActivity(fake.transport);
    const extra: MessageExtraInfo = { requestInfo: { headers: { 'x-test': '1' } } } as MessageExtraInfo;
    fake.deliver(request(1), extra);
    fake.deliver(notification('notifications/initialized'));
    expect(fake.received).toEqual([
      { message: request(1), extra },
      { message: notification('notifications/initialized'), extra: undefined },
    ]);
  });

  it('passes sends through with their options and returns their promise', async () => {
    const fake = fakeTransport();
    trackActivity(fake.transport);
    const options = { relatedRequestId: 7 } as TransportSendOptions;
    await expect(fake.transport.send(result(7), options)).resolves.toBeUndefined();
    expect(fake.sent).toEqual([{ message: result(7), options }]);
  });

  it('a failing send still rejects to the caller', async () => {
    const fake = fakeTransport();
    fake.transport.send = () => Promise.reject(new Error('stream closed'));
    trackActivity(fake.transport);
    await expect(fake.transport.send(result(1))).rejects.toThrow('stream closed');
  });

  it('keeps `this` of the original send', async () => {
    const calls: unknown[] = [];
    const transport: Transport = {
      start: () => Promise.resolve(),
      close: () => Promise.resolve(),
      async send(this: Transport) {
        calls.push(this);
        await Promise.resolve();
      },
    };
    trackActivity(transport);
    await transport.send(result(1));
    expect(calls).toEqual([transport]);
  });

  it('works before a handler is installed (no onmessage yet)', () => {
    const transport: Transport = {
      start: () => Promise.resolve(),
      close: () => Promise.resolve(),
      send: () => Promise.resolve(),
    };
    const activity = trackActivity(transport);
    expect(() => transport.onmessage?.(request(1))).not.toThrow();
    expect(activity.inFlight).toBe(1);
  });
});

describe('trackActivity: requests in flight', () => {
  it('counts requests until they are answered with a result or an error', async () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    expect(activity.inFlight).toBe(0);
    fake.deliver(request(1));
    fake.deliver(request('two'));
    fake.deliver(request(3));
    expect(activity.inFlight).toBe(3);
    await fake.transport.send(result(1));
    expect(activity.inFlight).toBe(2);
    await fake.transport.send(errorResponse('two'));
    expect(activity.inFlight).toBe(1);
    await fake.transport.send(result(3));
    expect(activity.inFlight).toBe(0);
  });

  it('does not count notifications or responses from the client', () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    fake.deliver(notification('notifications/initialized'));
    fake.deliver(result(99)); // the client answering a server request
    expect(activity.inFlight).toBe(0);
  });

  it('the same id twice counts once', async () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    fake.deliver(request(1));
    fake.deliver(request(1));
    expect(activity.inFlight).toBe(1);
    await fake.transport.send(result(1));
    expect(activity.inFlight).toBe(0);
  });

  it('server notifications and server requests do not end a request', async () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    fake.deliver(request(1));
    await fake.transport.send(notification('notifications/progress', { progressToken: 1, progress: 1 }));
    await fake.transport.send(request(1, 'sampling/createMessage'));
    expect(activity.inFlight).toBe(1);
  });

  it('a cancelled request stops being counted', () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    fake.deliver(request(1));
    fake.deliver(request(2));
    fake.deliver(notification('notifications/cancelled', { requestId: 1, reason: 'user' }));
    expect(activity.inFlight).toBe(1);
    // Cancelling an unknown id changes nothing.
    fake.deliver(notification('notifications/cancelled', { requestId: 42 }));
    expect(activity.inFlight).toBe(1);
    // A cancel notification without params is tolerated.
    fake.deliver({ jsonrpc: '2.0', method: 'notifications/cancelled' });
    expect(activity.inFlight).toBe(1);
  });

  it('an answer to an unknown id is harmless', async () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    fake.deliver(request(1));
    await fake.transport.send(result(2));
    expect(activity.inFlight).toBe(1);
  });
});

describe('trackActivity: idle time', () => {
  it('starts at zero and grows with the clock', () => {
    const activity = trackActivity(fakeTransport().transport);
    expect(activity.idleMs()).toBe(0);
    vi.advanceTimersByTime(1500);
    expect(activity.idleMs()).toBe(1500);
  });

  it('uses the given "now"', () => {
    const activity = trackActivity(fakeTransport().transport);
    expect(activity.idleMs(Date.now() + 60_000)).toBe(60_000);
  });

  it('a received message resets it', () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    vi.advanceTimersByTime(5000);
    fake.deliver(notification('notifications/initialized'));
    expect(activity.idleMs()).toBe(0);
    vi.advanceTimersByTime(200);
    expect(activity.idleMs()).toBe(200);
  });

  it('a sent message resets it', async () => {
    const fake = fakeTransport();
    const activity = trackActivity(fake.transport);
    vi.advanceTimersByTime(5000);
    await fake.transport.send(notification('notifications/progress'));
    expect(activity.idleMs()).toBe(0);
  });

  it('touch resets it', () => {
    const activity = trackActivity(fakeTransport().transport);
    vi.advanceTimersByTime(5000);
    activity.touch();
    expect(activity.idleMs()).toBe(0);
    vi.advanceTimersByTime(10);
    expect(activity.idleMs()).toBe(10);
  });
});
