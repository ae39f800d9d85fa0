// Runs the real, built opsctl (bin/opsctl.cjs → dist/) as a child process, with its own config home,
// optionally under a pseudo-terminal (util-linux `script`) to see what a person at a terminal sees.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../lib/version.js';
import { bundleIsCurrent } from '../../cli/bundled.cjs';

export const root = packageRoot();
export const opsctlBin = join(root, 'bin', 'opsctl.cjs');

/**
 * Fails fast when dist/ is missing, refreshes the command manifest from the built commands, and
 * rebuilds the bundled CLI bin/opsctl.cjs runs when `tsc` ran after it (else it would run dist/cli).
 */
export function ensureBuilt(): void {
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  execFileSync(process.execPath, [join(root, 'scripts', 'gen-manifest.mjs')], { cwd: root, stdio: 'ignore' });
  if (!bundleIsCurrent()) execFileSync(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')], { cwd: root, stdio: 'ignore' });
}

export interface Result { code: number | null; stdout: string; stderr: string }

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: string;
  /** Run under a pseudo-terminal: stdout and stderr arrive merged in `stdout`, with "\r\n" turned into "\n". */
  tty?: boolean;
  timeoutMs?: number;
  /** Called with the child and every stdout chunk as it arrives, e.g. to release a paused stream. */
  onStdout?: (text: string, child: ChildProcess) => void;
  /** The same for stderr (e.g. to press Ctrl-C again once opsctl says it is cancelling). */
  onStderr?: (text: string, child: ChildProcess) => void;
}

export class ConfigHome {
  readonly dir = mkdtempSync(join(tmpdir(), 'opsctl-cli-test-'));
  get configFile(): string { return join(this.dir, 'opsctl', 'config.yaml'); }
  remove(): void { rmSync(this.dir, { recursive: true, force: true }); }
}

export function opsctl(home: ConfigHome, args: string[], opts: RunOptions = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: home.dir, OPSCTL_SERVER: '', OPSCTL_TOKEN: '', NO_COLOR: '1', ...opts.env };
  delete env.FORCE_COLOR;
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const [cmd, argv] = opts.tty
    ? ['script', ['-qec', [process.execPath, opsctlBin, ...args].map(quote).join(' '), '/dev/null']]
    : [process.execPath, [opsctlBin, ...args]];
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d; opts.onStdout?.(stdout, child); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d; opts.onStderr?.(stderr, child); });
    child.stdin!.end(opts.stdin ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (opts.tty) stdout = stdout.replace(/\r\n/g, '\n');
      resolve({ code, stdout, stderr });
    });
  });
}
