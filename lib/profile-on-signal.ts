// A CPU profile of a stretch of a running process, for benchmarks: with OPS_PROFILE_DIR set,
// SIGUSR2 starts the V8 profiler and the next SIGUSR2 writes `<dir>/<name>-<pid>-<n>.cpuprofile`
// (open it in Chrome DevTools). `node --cpu-prof` profiles the whole life of the process, where a
// benchmark wants one scenario (a fan-out, not the enrollment before it). Off unless asked for.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { Logger } from './log.js';

export function profileOnSignal(name: string, log: Logger, dir = process.env.OPS_PROFILE_DIR): void {
  if (!dir) return;
  let session: Session | undefined;
  let count = 0;
  process.on('SIGUSR2', () => {
    if (!session) {
      session = new Session();
      session.connect();
      session.post('Profiler.enable', () => session!.post('Profiler.start', () => log.warn('CPU profile started (SIGUSR2 again writes it)')));
      return;
    }
    const running = session;
    session = undefined;
    running.post('Profiler.stop', (err, result) => {
      if (err) log.warn({ err }, 'CPU profile failed');
      else {
        const file = join(dir, `${name}-${process.pid}-${++count}.cpuprofile`);
        writeFileSync(file, JSON.stringify(result.profile));
        log.warn({ file }, 'CPU profile written');
      }
      running.disconnect();
    });
  });
}
