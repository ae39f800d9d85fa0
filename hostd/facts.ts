// What hostd tells the manager about its host: facts once per connection (hello) and a metrics
// sample every metrics interval. Linux is read directly (proc-facts.ts); elsewhere
// systeminformation is loaded on first use (si-facts.ts), so a Linux hostd never loads it.
import type { Facts, MetricsSample } from '../proto/hostlink.js';
import * as linux from './proc-facts.js';

type Collector = { collectFacts(): Promise<Facts>; collectMetrics(): Promise<MetricsSample> };

let collector: Promise<Collector> | undefined;
function platformCollector(): Promise<Collector> {
  collector ??= process.platform === 'linux' ? Promise.resolve(linux) : import('./si-facts.js');
  return collector;
}

export async function collectFacts(): Promise<Facts> {
  return (await platformCollector()).collectFacts();
}

export async function collectMetrics(): Promise<MetricsSample> {
  return (await platformCollector()).collectMetrics();
}
