import { closeSync, openSync, readSync, renameSync, rmSync, writeSync, fstatSync } from 'node:fs';

export interface LogSlice {
  text: string;
  /** Offset (bytes since the stream began) of the first byte returned. */
  offset: number;
  /** Offset to ask for next. */
  nextOffset: number;
  /** Bytes before `offset` that the log no longer holds (rotated out). */
  dropped: number;
  /** Bytes written so far. */
  size: number;
}

/**
 * One output stream of a run, on disk, bounded: two segments of at most `limit / 2` bytes each;
 * when the current one is full it becomes the previous one (the older one is dropped). Offsets
 * count from the start of the stream, so a reader can follow a long-running service's output.
 * Writes are synchronous: ordered, small (pipe-sized) and page-cache fast.
 */
export class OutputLog {
  private readonly segmentLimit: number;
  private fd: number | undefined;
  private currentBytes = 0;
  private previousBytes = 0;
  private total = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    limit: number,
  ) {
    this.segmentLimit = Math.max(1, Math.floor(limit / 2));
    this.fd = openSync(path, 'wx', 0o600);
  }

  get size(): number {
    return this.total;
  }

  /** First offset still held. */
  get firstOffset(): number {
    return this.total - this.currentBytes - this.previousBytes;
  }

  append(chunk: Buffer): void {
    if (this.closed || this.fd === undefined) return;
    let rest = chunk;
    while (rest.length > 0) {
      if (this.currentBytes >= this.segmentLimit) this.rotate();
      const take = Math.min(rest.length, this.segmentLimit - this.currentBytes);
      writeSync(this.fd, rest, 0, take);
      this.currentBytes += take;
      this.total += take;
      rest = rest.subarray(take);
    }
  }

  private rotate(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    renameSync(this.path, `${this.path}.1`);
    this.previousBytes = this.currentBytes;
    this.currentBytes = 0;
    this.fd = openSync(this.path, 'wx', 0o600);
  }

  /** Reads from `offset` (default: the start of what is held), at most `maxBytes`. */
  read(offset: number | undefined, maxBytes: number): LogSlice {
    const first = this.firstOffset;
    const from = Math.min(Math.max(offset ?? first, first), this.total);
    const chunks: Buffer[] = [];
    let position = from;
    let budget = maxBytes;
    const previousStart = first;
    const currentStart = this.total - this.currentBytes;
    if (position < currentStart && budget > 0) {
      const take = Math.min(budget, currentStart - position);
      chunks.push(this.readFile(`${this.path}.1`, position - previousStart, take));
      position += take;
      budget -= take;
    }
    if (position < this.total && budget > 0) {
      const take = Math.min(budget, this.total - position);
      chunks.push(this.readFile(this.path, position - currentStart, take));
      position += take;
    }
    const buffer = Buffer.concat(chunks);
    return {
      text: buffer.toString('utf8'),
      offset: from,
      nextOffset: from + buffer.length,
      dropped: offset !== undefined && offset < first ? first - offset : 0,
      size: this.total,
    };
  }

  /** The last `maxBytes` bytes held. */
  tail(maxBytes: number): LogSlice {
    return this.read(Math.max(this.firstOffset, this.total - maxBytes), maxBytes);
  }

  private readFile(path: string, position: number, length: number): Buffer {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      let read = 0;
      while (read < buffer.length) {
        const n = readSync(fd, buffer, read, buffer.length - read, position + read);
        if (n === 0) break;
        read += n;
      }
      return buffer.subarray(0, read);
    } finally {
      closeSync(fd);
    }
  }

  /** Stops writing; the content stays readable until `remove`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  remove(): void {
    this.close();
    rmSync(this.path, { force: true });
    rmSync(`${this.path}.1`, { force: true });
  }
}
