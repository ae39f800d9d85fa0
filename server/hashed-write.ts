// Writes a stream to a file while counting and hashing it, failing the moment it passes a size
// limit (so an endless body costs at most that much disk). Callers write to a temp file and rename
// it into place once they have checked the result; they remove the temp file on any failure.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** `tooLarge` makes the error thrown at the first byte past `maxBytes`. */
export async function writeHashed(body: Readable, path: string, maxBytes: number, tooLarge: () => Error): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(tooLarge());
      hash.update(chunk);
      done(null, chunk);
    },
  });
  const out = createWriteStream(path, { mode: 0o600 });
  try {
    await pipeline(body, meter, out);
  } catch (err) {
    // pipeline rejects at once, while the file may still be opening: a caller removing it now
    // would race the open and leave the file behind. Wait until the stream is closed.
    if (!out.closed) await once(out, 'close').catch(() => undefined);
    throw err;
  }
  return { sha256: hash.digest('hex'), size };
}
