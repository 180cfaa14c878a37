import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { translateKubeError, type KubeRequest } from './errors.js';

/**
 * - starting: the first list has not finished;
 * - synced: listed and watching, so reads are served from memory;
 * - retrying: the list or the watch failed; it is retried with backoff (reads go to the API);
 * - forbidden: the server may not list or watch this (reads go to the API, which says why);
 * - absent: the API does not exist (a CRD that is not installed): there is nothing to read;
 * - stopped.
 */
export type ReflectorState = 'starting' | 'synced' | 'retrying' | 'forbidden' | 'absent' | 'stopped';

export interface Reflector<T extends KubernetesObject> {
  readonly state: ReflectorState;
  /** Bumped on every change, so derived views can be memoized. */
  readonly generation: number;
  /** The last failure, when not synced. */
  readonly lastError: AppError | undefined;
  items(): readonly T[];
  get(name: string): T | undefined;
  stop(): Promise<void>;
}

export interface ReflectorOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** The collection's URL path, e.g. /api/v1/namespaces/staging/pods. */
  path: string;
  /** What the list and watch do, for error messages. */
  request: KubeRequest;
  /** One list call (already bounded by the request timeout). */
  list: () => Promise<KubernetesListObject<T>>;
  logger: Logger;
  namespace: string | undefined;
  /** Backoff bounds between retries. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How often to look again for an API that was forbidden or absent. */
  recheckMs?: number;
  onChange?: () => void;
}

/** Tells the reflector when a watch starts (the list before it was applied) and when it ends. */
class ObservedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly onStart: () => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.onStart();
    // Ask for bookmarks and a server-side timeout, so a silently dead watch is replaced.
    return super.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: 300 },
      callback,
      done,
    );
  }
}

/**
 * A watch-based cache of one collection, built on client-node's ListWatch (list, then watch
 * from the list's resourceVersion; relist on 410). ListWatch stops on an error; this restarts it
 * with exponential backoff, and tells "forbidden" and "absent" apart from transient failures.
 */
export function createReflector<T extends KubernetesObject>(options: ReflectorOptions<T>): Reflector<T> {
  const { logger, request } = options;
  const minBackoffMs = options.minBackoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  const recheckMs = options.recheckMs ?? 60_000;
  let state: ReflectorState = 'starting';
  let generation = 0;
  let lastError: AppError | undefined;
  let backoffMs = minBackoffMs;
  let timer: NodeJS.Timeout | undefined;
  const log = logger.child({ reflector: options.path });

  const changed = (): void => {
    generation += 1;
    options.onChange?.();
  };

  const informer = new ListWatch<T>(
    options.path,
    new ObservedWatch(options.kubeConfig, () => {
      if (state === 'stopped') return;
      if (state !== 'synced') log.debug('synced');
      state = 'synced';
      lastError = undefined;
      backoffMs = minBackoffMs;
      changed();
    }),
    options.list,
    false,
  );
  informer.on('add', changed);
  informer.on('update', changed);
  informer.on('delete', changed);
  informer.on('error', (error: unknown) => {
    if (state === 'stopped') return;
    fail(error);
  });

  function fail(error: unknown): void {
    const appError = translateKubeError(error, request);
    lastError = appError;
    let delay: number;
    if (appError.code === 'KUBE_FORBIDDEN' || appError.code === 'KUBE_UNAUTHORIZED') {
      state = 'forbidden';
      delay = recheckMs;
    } else if (appError.code === 'KUBE_NOT_FOUND') {
      state = 'absent';
      delay = recheckMs;
    } else {
      state = 'retrying';
      delay = backoffMs;
      backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    }
    changed();
    log.debug({ err: appError.message, state, retryInMs: delay }, 'watch cache interrupted');
    clearTimeout(timer);
    timer = setTimeout(start, delay);
    timer.unref();
  }

  function start(): void {
    if (state === 'stopped') return;
    informer.start().catch((error: unknown) => {
      if (state !== 'stopped') fail(error);
    });
  }

  start();

  return {
    get state() {
      return state;
    },
    get generation() {
      return generation;
    },
    get lastError() {
      return lastError;
    },
    items: () => informer.list(options.namespace),
    get: (name) => informer.get(name, options.namespace),
    stop: async () => {
      state = 'stopped';
      clearTimeout(timer);
      await informer.stop();
    },
  };
}
