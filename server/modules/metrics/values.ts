// The charted metrics and how each is read from a raw sample (and, for the network rates, from the
// sample before it).
import type { Metrics } from '../../../proto/rest/nodes.js';

export const METRIC_NAMES = ['cpu', 'mem', 'load1', 'disk', 'netRx', 'netTx'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Computed from two samples' counters. */
export const RATE_METRICS: readonly MetricName[] = ['netRx', 'netTx'];

export const METRIC_UNITS: Record<MetricName, string> = {
  cpu: '%', mem: '%', load1: '', disk: '%', netRx: 'B/s', netTx: 'B/s',
};

/** What the values need of a sample: the raw row and the REST view share these fields. */
export type SampleValues = Pick<Metrics, 'cpuPercent' | 'memUsedBytes' | 'memTotalBytes' | 'load1' | 'disks' | 'netRxBytes' | 'netTxBytes'> & { at: Date };

const percent = (used: number, total: number) => (total > 0 ? (used / total) * 100 : 0);

/** Bytes per second between two readings of a counter; a counter that went down restarted from 0 (host reboot, interface reset). */
export function counterRate(prev: number, cur: number, seconds: number): number {
  const delta = cur >= prev ? cur - prev : cur;
  return delta / seconds;
}

/** Every metric of a sample; the rates only when there is an earlier sample to diff against. */
export function valuesOf(sample: SampleValues, prev?: Pick<SampleValues, 'at' | 'netRxBytes' | 'netTxBytes'>): Partial<Record<MetricName, number>> {
  const busiestDisk = Math.max(0, ...sample.disks.map((d) => percent(d.usedBytes, d.sizeBytes)));
  const values: Partial<Record<MetricName, number>> = {
    cpu: sample.cpuPercent,
    mem: percent(sample.memUsedBytes, sample.memTotalBytes),
    load1: sample.load1,
    disk: busiestDisk,
  };
  const seconds = prev ? (sample.at.getTime() - prev.at.getTime()) / 1000 : 0;
  if (prev && seconds > 0) {
    values.netRx = counterRate(prev.netRxBytes, sample.netRxBytes, seconds);
    values.netTx = counterRate(prev.netTxBytes, sample.netTxBytes, seconds);
  }
  return values;
}
