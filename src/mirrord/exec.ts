import { BoundedOutput } from '../runs/bounded-output.js';
import {
  describeEvent,
  isReadyEvent,
  parseProgressLine,
  sessionIdOf,
  type ProgressEvent,
} from './progress.js';
import type { GroupReaper, SpawnGate } from './process-group.js';
import { supervise, type ProcessOutcome, type Supervised } from './supervise.js';

/** Longest line accepted before Ready!; a longer one is kept as mirrord output, not parsed. */
const maxProgressLine = 64 * 1024;
const maxMirrordLog = 64 * 1024;

export interface MirrordExecOptions {
  bin: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal | undefined;
  reaper: GroupReaper;
  gate: SpawnGate;
  onEvent?: (event: ProgressEvent, description: string) => void;
  onReady?: () => void;
  /** The program's stdout (after Ready) and all of stderr, as it arrives. */
  onOutput?: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
}

export interface MirrordExecResult extends ProcessOutcome {
  ready: boolean;
  /** Milliseconds from spawn to `Ready!`. */
  startupMs: number | null;
  sessionId: string | null;
  warnings: string[];
  /** The `Error: ...` text mirrord printed when it failed before Ready. */
  mirrordError: string | null;
  /** Non-JSON lines mirrord printed on stdout before Ready (rare; kept for diagnosis). */
  mirrordLog: string;
  stdout: BoundedOutput;
  stderr: BoundedOutput;
}

export interface MirrordExecution {
  readonly process: Supervised;
  readonly result: Promise<MirrordExecResult>;
  /** Latest output line of the program, for progress messages. */
  latestLine(): string;
  isReady(): boolean;
}

/**
 * Runs `mirrord exec` and splits its stdout: JSON progress lines up to `Ready!` are mirrord's,
 * everything after is the program's (MIRRORD.md §2). Exit before Ready = mirrord failed.
 */
export function execMirrord(options: MirrordExecOptions): MirrordExecution {
  const started = performance.now();
  const stdout = new BoundedOutput(options.maxOutputBytes);
  const stderr = new BoundedOutput(options.maxOutputBytes);
  const preReadyStderr = new BoundedOutput(maxMirrordLog);
  const mirrordLog = new BoundedOutput(maxMirrordLog);
  const warnings: string[] = [];
  let ready = false;
  let startupMs: number | null = null;
  let sessionId: string | null = null;
  let pending = Buffer.alloc(0);
  // A function, not the variable: handleLine flips `ready` inside the loops below.
  const isReady = (): boolean => ready;

  const handleLine = (line: Buffer): void => {
    const text = line.toString('utf8');
    const event = parseProgressLine(text);
    if (!event) {
      if (text.trim() !== '') mirrordLog.push(Buffer.from(`${text}\n`));
      return;
    }
    if (event.type === 'Warning' && warnings.length < 100) warnings.push(event.message);
    sessionId ??= sessionIdOf(event) ?? null;
    if (isReadyEvent(event)) {
      ready = true;
      startupMs = Math.round(performance.now() - started);
    }
    options.onEvent?.(event, describeEvent(event));
    if (ready) options.onReady?.();
  };

  const onStdout = (chunk: Buffer): void => {
    if (ready) {
      stdout.push(chunk);
      options.onOutput?.('stdout', chunk);
      return;
    }
    let data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let newline = data.indexOf(0x0a);
    while (newline !== -1 && !isReady()) {
      handleLine(data.subarray(0, newline));
      data = data.subarray(newline + 1);
      newline = data.indexOf(0x0a);
    }
    if (isReady()) {
      pending = Buffer.alloc(0);
      stdout.push(data);
      if (data.length > 0) options.onOutput?.('stdout', data);
    } else if (data.length > maxProgressLine) {
      mirrordLog.push(data);
      pending = Buffer.alloc(0);
    } else {
      pending = Buffer.from(data);
    }
  };
  const onStderr = (chunk: Buffer): void => {
    stderr.push(chunk);
    options.onOutput?.('stderr', chunk);
    if (!ready) preReadyStderr.push(chunk);
  };

  const child = supervise({
    file: options.bin,
    args: options.args,
    cwd: options.cwd,
    env: options.env,
    timeoutMs: options.timeoutMs,
    killGraceMs: options.killGraceMs,
    signal: options.signal,
    reaper: options.reaper,
    gate: options.gate,
    onStdout,
    onStderr,
  });

  const result = child.done.then((outcome): MirrordExecResult => {
    if (!ready && pending.length > 0) handleLine(pending);
    return {
      ...outcome,
      ready,
      startupMs,
      sessionId,
      warnings,
      mirrordError: ready ? null : extractError(preReadyStderr.text()),
      mirrordLog: mirrordLog.text(),
      stdout,
      stderr,
    };
  });

  return {
    process: child,
    result,
    latestLine: () => stdout.latestLine,
    isReady,
  };
}

/** mirrord prints `Error: ...` (possibly over several lines) on stderr when it fails. */
function extractError(stderrText: string): string | null {
  const text = stderrText.trim();
  if (text === '') return null;
  const index = text.search(/^Error:/m);
  const message = index === -1 ? text : text.slice(index);
  return message.length > 4000 ? `${message.slice(0, 4000)}...` : message;
}
