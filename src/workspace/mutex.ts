/** Runs async sections one at a time, in call order. */
export interface Mutex {
  run<T>(section: () => T | Promise<T>): Promise<T>;
}

export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    run<T>(section: () => T | Promise<T>): Promise<T> {
      const result = tail.then(section, section);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

/** Maps over items with at most `limit` calls in flight (file-system work on the libuv pool). */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
