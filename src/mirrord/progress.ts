/** One line of `MIRRORD_PROGRESS_MODE=json` output (MIRRORD.md §2). */
export type ProgressEvent =
  | { type: 'NewTask'; name: string; parent: string | null }
  | { type: 'FinishedTask'; name: string; success: boolean; message: string | null }
  | { type: 'Warning'; message: string }
  | { type: 'Info'; message: string }
  | { type: 'Other'; message: string };

/** Parses a progress line; undefined when the line is not one of mirrord's JSON objects. */
export function parseProgressLine(line: string): ProgressEvent | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const str = (key: string): string | null => (typeof record[key] === 'string' ? record[key] : null);
  switch (record.type) {
    case 'NewTask':
      return { type: 'NewTask', name: str('name') ?? '', parent: str('parent') };
    case 'FinishedTask':
      return {
        type: 'FinishedTask',
        name: str('name') ?? '',
        success: record.success === true,
        message: str('message'),
      };
    case 'Warning':
      return { type: 'Warning', message: str('message') ?? '' };
    case 'Info':
      return { type: 'Info', message: str('message') ?? '' };
    default:
      return typeof record.type === 'string' ? { type: 'Other', message: text } : undefined;
  }
}

/** The line that ends mirrord's part of stdout: after it, stdout is the program's. */
export function isReadyEvent(event: ProgressEvent): boolean {
  return event.type === 'FinishedTask' && event.success && event.message === 'Ready!';
}

const sessionPattern = /session ID:\s*([0-9a-zA-Z-]+)/;

export function sessionIdOf(event: ProgressEvent): string | undefined {
  if (event.type !== 'Info') return undefined;
  return sessionPattern.exec(event.message)?.[1];
}

/** A one-line description for progress notifications. */
export function describeEvent(event: ProgressEvent): string {
  switch (event.type) {
    case 'NewTask':
      return `mirrord: ${event.name}`;
    case 'FinishedTask':
      return `mirrord: ${event.name} ${event.success ? 'done' : 'failed'}${event.message ? `: ${event.message}` : ''}`;
    case 'Warning':
      return `mirrord warning: ${event.message}`;
    default:
      return `mirrord: ${event.message}`;
  }
}
