// The web UI's build (dist/web, written by `npm run build`), read once at start: the manager
// serves only the files that were there, so no request path ever reaches the file system (no
// `../`), and a missing build is a log line and a hint, not a failed start.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.map']);
/** Vite names what it hashes under assets/: their content never changes under one name. */
export const HASHED_DIR = '/assets/';

export interface WebFile {
  body: Buffer;
  contentType: string;
  etag: string;
  /** Cached after the first request that accepts gzip; undefined for what does not shrink. */
  gzipped?: Buffer | null;
  compressible: boolean;
}

export class WebUiFiles {
  private constructor(readonly dir: string, private readonly files: Map<string, WebFile>) {}

  /** The build in `dir`, or an empty set when there is none (index.html missing). */
  static load(dir: string): WebUiFiles {
    const files = new Map<string, WebFile>();
    if (existsSync(join(dir, 'index.html'))) {
      for (const abs of walk(dir)) {
        const ext = extname(abs).toLowerCase();
        const body = readFileSync(abs);
        const urlPath = `/${relative(dir, abs).split(sep).join('/')}`;
        files.set(urlPath, {
          body,
          contentType: CONTENT_TYPES[ext] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          compressible: COMPRESSIBLE.has(ext),
        });
      }
    }
    return new WebUiFiles(dir, files);
  }

  get built(): boolean {
    return this.files.has('/index.html');
  }

  /** The build's files outside assets/ (index.html, favicon.svg): each gets its own route. */
  topLevelPaths(): string[] {
    return [...this.files.keys()].filter((p) => p.lastIndexOf('/') === 0);
  }

  get(urlPath: string): WebFile | undefined {
    return this.files.get(urlPath);
  }

  /** The gzip form of a file, made on first use; null when it is not worth sending. */
  gzipOf(file: WebFile): Buffer | null {
    if (!file.compressible || file.body.length < 1024) return null;
    if (file.gzipped === undefined) {
      const gz = gzipSync(file.body, { level: 9 });
      file.gzipped = gz.length < file.body.length ? gz : null;
    }
    return file.gzipped;
  }
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const abs = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(abs);
    else if (entry.isFile() || statSync(abs).isFile()) yield abs;
  }
}
