// A one-line progress bar on stderr while a file moves ("uploading app.tar  42%  430 MiB of 1.0 GiB
// 118 MiB/s"), redrawn at most every 200 ms; nothing at all when stderr is not a terminal, so
// pipes and logs stay clean.
import { Transform } from 'node:stream';
import { humanBytes } from '../format.js';

export class Progress {
  private done = 0;
  private lastDraw = 0;
  private readonly started = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly total: number) {}

  /** A pass-through stream that counts what goes by. */
  meter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, cb) => { this.add(chunk.length); cb(null, chunk); },
    });
  }

  add(bytes: number): void {
    this.done += bytes;
    const now = Date.now();
    if (this.tty && now - this.lastDraw >= 200) {
      this.lastDraw = now;
      this.draw();
    }
  }

  /** Clears the line (the caller prints its own summary). */
  end(): void {
    if (this.tty) process.stderr.write('\r\x1b[K');
  }

  private draw(): void {
    const pct = this.total > 0 ? Math.floor((this.done / this.total) * 100) : 100;
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    process.stderr.write(`\r\x1b[K${this.label}  ${String(pct).padStart(3)}%  ${humanBytes(this.done)} of ${humanBytes(this.total)}  ${humanBytes(this.done / secs)}/s`);
  }
}
