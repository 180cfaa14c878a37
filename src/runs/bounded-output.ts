/**
 * Keeps the first and last `limit / 2` bytes of a stream and counts the rest, so a command that
 * prints gigabytes costs the server at most `limit` bytes per stream.
 */
export class BoundedOutput {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(limit: number) {
    this.headLimit = Math.floor(limit / 2);
    this.tailLimit = limit - this.headLimit;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(this.headLimit - this.headBytes, rest.length);
      // Copy: the caller's buffer may be pooled and reused.
      this.head.push(Buffer.from(rest.subarray(0, take)));
      this.headBytes += take;
      rest = rest.subarray(take);
      if (rest.length === 0) return;
    }
    if (rest.length >= this.tailLimit) {
      this.tail = [Buffer.from(rest.subarray(rest.length - this.tailLimit))];
      this.tailBytes = this.tailLimit;
      return;
    }
    this.tail.push(Buffer.from(rest));
    this.tailBytes += rest.length;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.tailLimit) {
      this.tailBytes -= this.tail.shift()?.length ?? 0;
    }
  }

  /** Bytes seen in all. */
  get bytes(): number {
    return this.total;
  }

  get truncated(): boolean {
    return this.total > this.headBytes + this.keptTailBytes();
  }

  /** The latest non-empty line seen (at most 200 characters), for progress messages. */
  get latestLine(): string {
    const source = this.tail.length > 0 ? this.tail : this.head;
    // Enough of the end to hold a line, however small the chunks were.
    const recent: Buffer[] = [];
    let size = 0;
    for (let i = source.length - 1; i >= 0 && size < 1024; i--) {
      const chunk = source[i] ?? Buffer.alloc(0);
      recent.unshift(chunk);
      size += chunk.length;
    }
    const joined = Buffer.concat(recent);
    const lines = joined
      .subarray(Math.max(0, joined.length - 1024))
      .toString('utf8')
      .split('\n');
    const line = lines.reverse().find((candidate) => candidate.trim() !== '') ?? '';
    return line.trim().slice(-200);
  }

  private keptTailBytes(): number {
    return Math.min(this.tailBytes, this.tailLimit);
  }

  /** The kept text; a marker says how many bytes were left out in the middle. */
  text(): string {
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.tailLimit) tail = tail.subarray(tail.length - this.tailLimit);
    const omitted = this.total - this.headBytes - tail.length;
    // Decode as one piece when nothing is cut, so a character split between head and tail survives.
    if (omitted <= 0) return Buffer.concat([...this.head, tail]).toString('utf8');
    const head = Buffer.concat(this.head).toString('utf8');
    return `${head}\n[... ${omitted} bytes omitted ...]\n${tail.toString('utf8')}`;
  }
}
