// The visible output of one run: stdout and stderr chunks in arrival order, capped at a byte
// limit by dropping from the front so the tail (where errors usually are) stays.

export interface OutputChunk { readonly stream: 'stdout' | 'stderr'; readonly data: string; readonly bytes: number }

export class OutputTail {
  private chunks: OutputChunk[];
  private size: number;
  truncated: boolean;

  constructor(readonly limitBytes: number, initial = '', truncated = false) {
    this.chunks = [];
    this.size = 0;
    this.truncated = truncated;
    if (initial) this.append('stdout', initial);
  }

  get bytes(): number { return this.size; }

  append(stream: 'stdout' | 'stderr', data: string): void {
    if (data === '') return;
    const bytes = Buffer.byteLength(data, 'utf8');
    this.chunks.push({ stream, data, bytes });
    this.size += bytes;
    if (this.size > this.limitBytes) this.trimFront(this.size - this.limitBytes);
  }

  text(): string {
    return this.chunks.map((c) => c.data).join('');
  }

  list(): readonly OutputChunk[] {
    return this.chunks;
  }

  /** A copy that can be appended to without changing this one (chunks are immutable, so this is cheap). */
  clone(): OutputTail {
    const copy = new OutputTail(this.limitBytes, '', this.truncated);
    copy.chunks = [...this.chunks];
    copy.size = this.size;
    return copy;
  }

  private trimFront(excess: number): void {
    this.truncated = true;
    while (excess > 0 && this.chunks.length > 0) {
      const first = this.chunks[0];
      if (first.bytes <= excess) {
        this.chunks.shift();
        this.size -= first.bytes;
        excess -= first.bytes;
        continue;
      }
      let cut = Buffer.from(first.data, 'utf8').subarray(excess);
      // Never start in the middle of a UTF-8 character: skip its continuation bytes.
      let skip = 0;
      while (skip < cut.length && (cut[skip] & 0xc0) === 0x80) skip++;
      cut = cut.subarray(skip);
      const data = cut.toString('utf8');
      this.chunks[0] = { stream: first.stream, data, bytes: cut.length };
      this.size -= first.bytes - cut.length;
      excess = 0;
    }
  }
}
