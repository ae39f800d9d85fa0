// Turns a process's byte stream into UTF-8 text events of bounded size. The decoder carries a
// multi-byte character split across reads into the next chunk instead of mangling it.
import { StringDecoder } from 'node:string_decoder';

export class OutputChunker {
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly maxBytes: number, private readonly emit: (text: string) => void) {}

  write(data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += this.maxBytes) {
      const text = this.decoder.write(data.subarray(offset, offset + this.maxBytes));
      if (text) this.emit(text);
    }
  }

  end(): void {
    const rest = this.decoder.end();
    if (rest) this.emit(rest);
  }
}
