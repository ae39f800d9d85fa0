// Facts and metrics from systeminformation, for hosts other than Linux (proc-facts.ts reads Linux
// directly): facts once per connection (hello) and a metrics sample every metrics interval.
import { loadavg } from 'node:os';
import type { Facts, MetricsSample } from '../proto/hostlink.js';

type Si = typeof import('systeminformation');
let loaded: Promise<Si> | undefined;
/** Loaded when first used, not imported: a Linux host bundle leaves systeminformation out (scripts/package.ts). */
function systeminformation(): Promise<Si> {
  loaded ??= import('systeminformation').then((m) => m.default);
  return loaded;
}

export async function collectFacts(): Promise<Facts> {
  const si = await systeminformation();
  const [os, cpu, mem, nics] = await Promise.all([si.osInfo(), si.cpu(), si.mem(), si.networkInterfaces()]);
  const list = Array.isArray(nics) ? nics : [nics];
  const ips = new Set<string>();
  for (const nic of list) {
    if (nic.internal) continue;
    if (nic.ip4) ips.add(nic.ip4);
    // Link-local v6 addresses say nothing useful about where the host is.
    if (nic.ip6 && !nic.ip6.toLowerCase().startsWith('fe80')) ips.add(nic.ip6);
  }
  return {
    hostname: os.hostname,
    os: [os.distro, os.release].filter(Boolean).join(' '),
    platform: os.platform,
    kernel: os.kernel,
    arch: os.arch,
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' '),
    cpus: cpu.cores,
    memoryBytes: mem.total,
    ips: [...ips],
  };
}

export async function collectMetrics(): Promise<MetricsSample> {
  const si = await systeminformation();
  const [load, mem, disks, net] = await Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats('*')]);
  const [load1, load5, load15] = loadavg();
  const seen = new Set<string>();
  return {
    atMs: Date.now(),
    cpuPercent: Math.round(load.currentLoad * 100) / 100,
    // "active" leaves out reclaimable page cache, which is what "used" means to an operator.
    memUsedBytes: mem.active,
    memTotalBytes: mem.total,
    load1, load5, load15,
    disks: disks
      .filter((d) => d.size > 0 && !seen.has(d.mount) && seen.add(d.mount))
      .map((d) => ({ mount: d.mount, sizeBytes: d.size, usedBytes: d.used })),
    netRxBytes: net.reduce((sum, n) => sum + (n.rx_bytes || 0), 0),
    netTxBytes: net.reduce((sum, n) => sum + (n.tx_bytes || 0), 0),
  };
}
