import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWatch, type SyncWatch } from '../../../src/sync/watch.js';

let dir: string;
/** Writes f.txt and lets the watch see it (a one-shot sync comes from another process, well after). */
async function change(content: string): Promise<void> {
  await writeFile(join(dir, 'f.txt'), content);
  await new Promise((resolve) => setTimeout(resolve, 50));
}
let watch: SyncWatch<string> | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mms-watch-unit-'));
  await change('v0');
});
afterEach(async () => {
  await watch?.close();
  watch = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A watch whose sync reads f.txt (what a sync would send) after `delayMs`. */
function watching(options: {
  debounceMs?: number;
  delayMs?: number;
  confirm?: boolean;
  fail?: () => boolean;
}) {
  const syncs: string[] = [];
  const errors: unknown[] = [];
  const confirms: string[] = [];
  watch = startWatch<string>({
    root: dir,
    debounceMs: options.debounceMs ?? 60_000,
    sync: async () => {
      if (options.fail?.()) throw new Error('sync failed');
      const seen = await readFile(join(dir, 'f.txt'), 'utf8');
      await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 0));
      syncs.push(seen);
      return seen;
    },
    onError: (error) => errors.push(error),
    ...(options.confirm === false
      ? {}
      : {
          confirm: (last: string) => {
            confirms.push(last);
            return Promise.resolve(`${last} (confirmed)`);
          },
        }),
  });
  return { watch, syncs, errors, confirms };
}

describe('startWatch', () => {
  it('syncs once at the start; a flush with nothing changed is the confirmed last result', async () => {
    const { watch, syncs, confirms } = watching({});
    // The first flush comes while the first sync runs: its answer is that sync's.
    expect(await watch.flush()).toBe('v0');
    expect(await watch.flush()).toBe('v0 (confirmed)');
    expect(await watch.flush()).toBe('v0 (confirmed)');
    expect(syncs).toEqual(['v0']);
    expect(confirms).toEqual(['v0', 'v0']);
  });

  it('without a confirmation, every flush syncs', async () => {
    const { watch, syncs } = watching({ confirm: false });
    expect(await watch.flush()).toBe('v0');
    expect(await watch.flush()).toBe('v0');
    expect(await watch.flush()).toBe('v0');
    expect(syncs).toEqual(['v0', 'v0', 'v0']);
  });

  it('a change followed by a flush syncs at once, not after the debounce', async () => {
    const { watch, syncs } = watching({ debounceMs: 60_000 });
    await watch.flush();
    await change('v1');
    const started = performance.now();
    expect(await watch.flush()).toBe('v1');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(syncs).toEqual(['v0', 'v1']);
  });

  it('a change during a running sync is covered by a later one', async () => {
    const { watch, syncs } = watching({ debounceMs: 10, delayMs: 300 });
    await watch.flush();
    await change('v1');
    // The debounced sync starts (it reads v1), then the file changes again while it runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await change('v2');
    expect(await watch.flush()).toMatch(/^v2/);
    expect(syncs.at(-1)).toBe('v2');
  });

  it('a flush during a sync that began after the change answers with that sync', async () => {
    const { watch, syncs, confirms } = watching({ debounceMs: 10, delayMs: 300 });
    await watch.flush();
    await change('v1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await watch.flush()).toBe('v1');
    expect(syncs).toEqual(['v0', 'v1']);
    expect(confirms).toEqual([]);
  });

  it('a failed sync fails the flush and goes to onError; the next flush syncs again', async () => {
    let failing = false;
    const { watch, syncs, errors } = watching({ fail: () => failing });
    await watch.flush();
    failing = true;
    await change('v1');
    await expect(watch.flush()).rejects.toThrow('sync failed');
    expect(errors).toHaveLength(1);
    failing = false;
    // Nothing changed since, but the last sync failed: no result to confirm.
    expect(await watch.flush()).toBe('v1');
    expect(syncs).toEqual(['v0', 'v1']);
  });

  it('after close, nothing syncs and a flush is refused', async () => {
    const { watch, syncs } = watching({ debounceMs: 10 });
    await watch.flush();
    await watch.close();
    await change('v1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(watch.flush()).rejects.toThrow('the watch is stopping');
    expect(syncs).toEqual(['v0']);
  });
});
