/** Formats a byte count for people: 1.5 KiB, 100.0 MiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit] ?? ''}`;
}

export interface Progress {
  add(bytes: number, blobDone: boolean): void;
  done(): void;
}

/** Uploads smaller than this show no progress: they are over before a line would help. */
export const progressThresholdBytes = 8 * 1024 * 1024;

/**
 * Upload progress on stderr: redrawn in place on a terminal, a line every few seconds otherwise
 * (CI logs), nothing for small uploads.
 */
export function createProgress(
  totalBytes: number,
  totalFiles: number,
  stream: NodeJS.WriteStream = process.stderr,
  now: () => number = () => performance.now(),
): Progress {
  const enabled = totalBytes >= progressThresholdBytes;
  const tty = stream.isTTY;
  const interval = tty ? 100 : 2000;
  const started = now();
  let bytes = 0;
  let files = 0;
  let last = started;
  const render = (): string => {
    const seconds = Math.max(0.001, (now() - started) / 1000);
    const percent = totalBytes > 0 ? Math.floor((bytes / totalBytes) * 100) : 100;
    return `uploading ${percent}%  ${formatBytes(bytes)} / ${formatBytes(totalBytes)}  ${files}/${totalFiles} files  ${formatBytes(bytes / seconds)}/s`;
  };
  return {
    add(added, blobDone) {
      bytes += added;
      if (blobDone) files += 1;
      if (!enabled || now() - last < interval) return;
      last = now();
      stream.write(tty ? `\r${render()}\x1b[K` : `${render()}\n`);
    },
    done() {
      if (!enabled) return;
      stream.write(tty ? `\r${render()}\x1b[K\n` : `${render()}\n`);
    },
  };
}
