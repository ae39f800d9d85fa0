// Facts and metrics on Linux, read straight from /proc, /etc/os-release, statfs and node:os: the
// few numbers hostd sends, without loading systeminformation (~4.5 MB of private memory for the
// daemon's whole life, and a `df` child process every metrics interval). The meanings follow
// systeminformation's, which hostd still uses elsewhere (si-facts.ts): memory used = total −
// available, CPU busy since the previous sample, traffic summed over every interface.
import { readFile, statfs } from 'node:fs/promises';
import { arch, cpus, hostname, loadavg, networkInterfaces, release, totalmem } from 'node:os';
import type { Facts, MetricsSample } from '../proto/hostlink.js';

/** A mount whose statfs takes longer (a hung network file system) is left out of that sample. */
const STATFS_TIMEOUT_MS = 2000;

/** Memory-backed and image file systems: not disks an operator watches fill up (systeminformation's list). */
const NOT_DISKS = new Set(['rootfs', 'unionfs', 'squashfs', 'cramfs', 'initrd', 'initramfs', 'devtmpfs', 'tmpfs', 'udev', 'devfs', 'specfs', 'ramfs']);

/** `NAME="Debian GNU/Linux"` lines → {NAME: 'Debian GNU/Linux'}. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2].replace(/^(["'])(.*)\1$/, '$2');
  }
  return out;
}

/** /proc/meminfo → bytes by field name. */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(\S+):\s+(\d+)(?: kB)?$/gm)) out[m[1]] = Number(m[2]) * 1024;
  return out;
}

/** The first line of /proc/stat → busy and total ticks (guest time is already inside user time). */
export function parseCpuTicks(text: string): { busy: number; total: number } {
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number) ?? [];
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

/** /proc/net/dev → received and sent bytes, summed over every interface. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    rx += f[0] || 0;
    tx += f[8] || 0;
  }
  return { rx, tx };
}

/** /proc/self/mounts → mount points and their types, with the octal escapes (`\040` for a space) undone. */
export function parseMounts(text: string): { device: string; mount: string; type: string }[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text.split('\n').filter(Boolean).map((line) => {
    const [device = '', mount = '', type = ''] = line.split(' ');
    return { device: unescape(device), mount: unescape(mount), type };
  });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

export async function collectFacts(): Promise<Facts> {
  const osRelease = parseOsRelease(await readText('/etc/os-release'));
  const ips = new Set<string>();
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.internal) continue;
      // Link-local v6 addresses say nothing useful about where the host is.
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      ips.add(a.address);
    }
  }
  const cpuList = cpus();
  return {
    hostname: hostname(),
    os: [osRelease.NAME, osRelease.VERSION_ID].filter(Boolean).join(' '),
    platform: process.platform,
    kernel: release(),
    arch: arch(),
    cpuModel: cpuList[0]?.model.trim() ?? '',
    cpus: cpuList.length,
    memoryBytes: totalmem(),
    ips: [...ips],
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function diskUsage(): Promise<MetricsSample['disks']> {
  const seen = new Set<string>();
  const mounts = parseMounts(await readText('/proc/self/mounts'))
    .filter((m) => !NOT_DISKS.has(m.type) && !seen.has(m.mount) && seen.add(m.mount));
  const sizes = await Promise.all(mounts.map((m) => withTimeout(statfs(m.mount).catch(() => undefined), STATFS_TIMEOUT_MS)));
  return mounts.flatMap((m, i) => {
    const s = sizes[i];
    // proc, sysfs, cgroup and the like report no blocks.
    if (!s || s.blocks === 0) return [];
    return [{ mount: m.mount, sizeBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize }];
  });
}

/** CPU ticks at the previous sample; the first sample measures since boot. */
let previousTicks = { busy: 0, total: 0 };

export async function collectMetrics(): Promise<MetricsSample> {
  const [stat, meminfo, netDev, disks] = await Promise.all([readText('/proc/stat'), readText('/proc/meminfo'), readText('/proc/net/dev'), diskUsage()]);
  const ticks = parseCpuTicks(stat);
  const dTotal = ticks.total - previousTicks.total;
  const cpuPercent = dTotal > 0 ? Math.round(((ticks.busy - previousTicks.busy) / dTotal) * 10000) / 100 : 0;
  previousTicks = ticks;
  const mem = parseMeminfo(meminfo);
  const memTotal = mem.MemTotal ?? totalmem();
  const [load1, load5, load15] = loadavg();
  const net = parseNetDev(netDev);
  return {
    atMs: Date.now(),
    cpuPercent,
    // Leaves out reclaimable page cache, which is what "used" means to an operator.
    memUsedBytes: memTotal - (mem.MemAvailable ?? (mem.MemFree ?? 0) + (mem.Buffers ?? 0) + (mem.Cached ?? 0)),
    memTotalBytes: memTotal,
    load1, load5, load15,
    disks,
    netRxBytes: net.rx,
    netTxBytes: net.tx,
  };
}
