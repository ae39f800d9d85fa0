// The visible output of one run: stdout and stderr chunks in arrival order, capped at a byte
// limit by dropping from the front so the tail (where errors usually are) stays. Stored as the
// text plus its stream spans, so a replay from the database still tells stderr from stdout.

export interface OutputChunk { readonly stream: 'stdout' | 'stderr'; readonly data: string; readonly bytes: number }

export class OutputTail {
  private chunks: OutputChunk[];
  private size: number;
  truncated: boolean;

  /** `spans` (see spans()) label the initial text; without them it is all stdout (older rows). */
  constructor(readonly limitBytes: number, initial = '', truncated = false, spans: readonly number[] = []) {
    this.chunks = [];
    this.size = 0;
    this.truncated = truncated;
    for (const chunk of splitBySpans(initial, spans)) this.append(chunk.stream, chunk.data);
  }

  /**
   * The stream of every stretch of text(), in order: a positive n is n characters of stdout, a
   * negative one of stderr ([5, -12, 3]). Neighbouring chunks of one stream are merged.
   */
  spans(): number[] {
    const out: number[] = [];
    for (const c of this.chunks) {
      const n = c.stream === 'stderr' ? -c.data.length : c.data.length;
      const last = out.length - 1;
      if (last >= 0 && Math.sign(out[last]) === Math.sign(n)) out[last] += n;
      else if (n !== 0) out.push(n);
    }
    return out;
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

/** The text cut into stream-labelled chunks by its spans; text the spans do not cover is stdout. */
export function splitBySpans(text: string, spans: readonly number[]): { stream: 'stdout' | 'stderr'; data: string }[] {
  const chunks: { stream: 'stdout' | 'stderr'; data: string }[] = [];
  let at = 0;
  for (const span of spans) {
    if (at >= text.length) break;
    const length = Math.abs(span);
    chunks.push({ stream: span < 0 ? 'stderr' : 'stdout', data: text.slice(at, at + length) });
    at += length;
  }
  if (at < text.length) chunks.push({ stream: 'stdout', data: text.slice(at) });
  return chunks.filter((c) => c.data !== '');
}
