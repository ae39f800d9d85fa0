// hostd's facts and metrics on Linux, read from /proc (hostd/proc-facts.ts), agree with what
// systeminformation (si-facts.ts, still used on other platforms) reports for this same machine;
// and the parsers read the kernel's formats, escapes and missing files included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as proc from '../../hostd/proc-facts.js';
import * as si from '../../hostd/si-facts.js';

const linux = process.platform === 'linux';

test('facts: the same host, OS, kernel, CPUs, memory and addresses as systeminformation', async () => {
  if (!linux) return;
  const [mine, theirs] = await Promise.all([proc.collectFacts(), si.collectFacts()]);
  // The CPU model as /proc has it ("Intel(R) Xeon(R) Processor @ 2.50GHz") and as systeminformation
  // tidies it ("Intel Xeon® Processor", the speed in a field of its own): the same words, without
  // the trademark signs and the speed.
  const words = (model: string | undefined) => (model ?? '').replace(/\((R|TM)\)|®|™/gi, '').replace(/\s*@\s*[\d.]+\s*GHz\s*$/i, '').split(/\s+/).filter(Boolean).join(' ');
  const comparable = (f: typeof mine) => ({ ...f, cpuModel: words(f.cpuModel), ips: [...(f.ips ?? [])].sort() });
  assert.equal(comparable(mine), comparable(theirs));
});

test('metrics: the same disks and memory total; used memory, traffic and CPU in range', async () => {
  if (!linux) return;
  const [mine, theirs] = await Promise.all([proc.collectMetrics(), si.collectMetrics()]);
  assert.equal((mine.disks ?? []).map((d) => [d.mount, d.sizeBytes]), (theirs.disks ?? []).map((d) => [d.mount, d.sizeBytes]));
  assert.is(mine.memTotalBytes, theirs.memTotalBytes);
  // Read a moment apart, so only close.
  const [used, theirUsed] = [Number(mine.memUsedBytes), Number(theirs.memUsedBytes)];
  assert.ok(Math.abs(used - theirUsed) < Number(mine.memTotalBytes) * 0.05, `${used} vs ${theirUsed}`);
  const [rx, theirRx] = [Number(mine.netRxBytes), Number(theirs.netRxBytes)];
  assert.ok(rx > 0 && Math.abs(rx - theirRx) < 64 * 1024 * 1024, `${rx} vs ${theirRx}`);
  const cpu = Number(mine.cpuPercent);
  assert.ok(cpu >= 0 && cpu <= 100, String(cpu));
});

test('/proc/stat: busy share between two samples, guest time not counted twice', () => {
  const a = proc.parseCpuTicks('cpu  100 0 100 800 0 0 0 0 50 0\ncpu0 1 2 3\n');
  const b = proc.parseCpuTicks('cpu  200 0 200 1400 200 0 0 0 90 0\n');
  assert.equal(a, { busy: 200, total: 1000 });
  assert.is((b.busy - a.busy) / (b.total - a.total), 0.2);
  assert.equal(proc.parseCpuTicks(''), { busy: 0, total: 0 });
});

test('/proc/self/mounts: octal escapes in mount points are undone', () => {
  assert.equal(proc.parseMounts('/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\nproc /proc proc rw 0 0\n'), [
    { device: '/dev/sdb1', mount: '/mnt/my disk', type: 'ext4' },
    { device: 'proc', mount: '/proc', type: 'proc' },
  ]);
});

test('/proc/meminfo, /proc/net/dev and os-release', () => {
  assert.equal(proc.parseMeminfo('MemTotal:       1000 kB\nMemAvailable:    250 kB\nHugePages_Total:       0\n'), { MemTotal: 1024000, MemAvailable: 256000, HugePages_Total: 0 });
  const dev = 'Inter-|   Receive\n face |bytes\n    lo: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n  eth0: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n';
  assert.equal(proc.parseNetDev(dev), { rx: 15, tx: 27 });
  assert.equal(proc.parseOsRelease('NAME="Debian GNU/Linux"\nVERSION_ID=\'12\'\nID=debian\n# comment\n'), { NAME: 'Debian GNU/Linux', VERSION_ID: '12', ID: 'debian' });
});

test.run();
