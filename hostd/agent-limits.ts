// agentd's resource limits (agent.limits in hostd.yaml): its resident memory, and its CPU use
// averaged over a window, read from /proc each time the supervisor polls. Over either, the
// supervisor restarts agentd (DESIGN.md §4 Supervision). Linux only: elsewhere nothing is read and
// no limit is enforced.
import { readFileSync } from 'node:fs';

export interface AgentLimits {
  /** Resident memory (VmRSS) in MB; 0 = no limit. */
  memoryMB: number;
  /** CPU use in percent of one core, averaged over windowSeconds; 0 = no limit. */
  cpuPercent: number;
  cpuWindowSeconds: number;
}

/** Linux's USER_HZ: the unit of utime and stime in /proc/PID/stat (100 on every Linux we run on). */
const CLOCK_TICKS_PER_SECOND = 100;

export interface AgentUsage { rssBytes: number; cpuSeconds: number }

/** VmRSS and utime + stime of a process; undefined when it cannot be read (gone, not Linux). */
export function readAgentUsage(pid: number): AgentUsage | undefined {
  try {
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is the 3rd field overall, utime the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (!rss || !Number.isFinite(ticks)) return undefined;
    return { rssBytes: Number(rss[1]) * 1024, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

/** Samples one agentd's use; says why it is over a limit, if it is. Start afresh (reset) for each new agentd. */
export class LimitWatch {
  private samples: { at: number; cpuSeconds: number }[] = [];

  constructor(private readonly limits: AgentLimits, private readonly read = readAgentUsage) {}

  get enabled(): boolean { return this.limits.memoryMB > 0 || this.limits.cpuPercent > 0; }

  reset(): void { this.samples = []; }

  check(pid: number, now = Date.now()): string | undefined {
    if (!this.enabled) return undefined;
    const usage = this.read(pid);
    if (!usage) return undefined;
    const { memoryMB, cpuPercent, cpuWindowSeconds } = this.limits;
    if (memoryMB > 0 && usage.rssBytes > memoryMB * 1024 * 1024) {
      return `memory limit: ${(usage.rssBytes / 1024 / 1024).toFixed(0)} MB resident, agent.limits.memoryMB is ${memoryMB}`;
    }
    if (cpuPercent <= 0) return undefined;
    this.samples.push({ at: now, cpuSeconds: usage.cpuSeconds });
    const windowMs = cpuWindowSeconds * 1000;
    while (this.samples.length > 2 && now - this.samples[1].at >= windowMs) this.samples.shift();
    const first = this.samples[0];
    const elapsedMs = now - first.at;
    // Judged only over a whole window: a busy start or one burst is not a limit broken.
    if (elapsedMs < windowMs) return undefined;
    const percent = ((usage.cpuSeconds - first.cpuSeconds) * 1000 / elapsedMs) * 100;
    if (percent > cpuPercent) return `CPU limit: ${percent.toFixed(0)}% of a core over ${(elapsedMs / 1000).toFixed(0)} s, agent.limits.cpuPercent is ${cpuPercent}`;
    return undefined;
  }
}
