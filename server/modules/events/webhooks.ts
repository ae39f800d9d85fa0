// Delivers event raises and clears to the configured webhooks, off the caller's path: each webhook
// has its own bounded queue worked one delivery at a time, so a slow or dead receiver delays only
// its own deliveries, and never the rules, the API or another receiver. Every attempt has a timeout;
// failures are retried with doubling waits, then dropped with a log line.
import { createHmac, randomUUID } from 'node:crypto';
import type { Logger } from '../../../lib/log.js';
import type { EventDelivery } from '../../../proto/rest/events.js';
import type { WebhookTarget } from '../../config.js';

export interface WebhookOptions {
  attempts: number;
  retryMs: number;
  timeoutMs: number;
  queueSize: number;
}

interface Delivery { id: string; body: string }

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes with the webhook's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

class WebhookQueue {
  private readonly pending: Delivery[] = [];
  private working = false;
  private stopped = false;
  private wake?: () => void;

  constructor(private readonly target: WebhookTarget, private readonly opts: WebhookOptions, private readonly log: Logger) {}

  push(delivery: Delivery): void {
    if (this.stopped) return;
    if (this.pending.length >= this.opts.queueSize) {
      const dropped = this.pending.shift()!;
      this.log.warn({ url: this.target.url, delivery: dropped.id, queueSize: this.opts.queueSize }, 'webhook queue full: dropped the oldest delivery');
    }
    this.pending.push(delivery);
    if (!this.working) void this.work();
  }

  stop(): void {
    this.stopped = true;
    this.pending.length = 0;
    this.wake?.();
  }

  private async work(): Promise<void> {
    this.working = true;
    try {
      for (let next = this.pending.shift(); next && !this.stopped; next = this.pending.shift()) await this.deliver(next);
    } finally {
      this.working = false;
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    for (let attempt = 1; attempt <= this.opts.attempts && !this.stopped; attempt++) {
      const problem = await this.post(d);
      if (problem === undefined) return;
      const last = attempt === this.opts.attempts;
      this.log.warn({ url: this.target.url, delivery: d.id, attempt, problem }, last ? 'webhook delivery failed; giving up' : 'webhook delivery failed; retrying');
      if (!last) await this.sleep(this.opts.retryMs * 2 ** (attempt - 1));
    }
  }

  /** undefined when the receiver answered 2xx, else what went wrong. */
  private async post(d: Delivery): Promise<string | undefined> {
    try {
      const res = await fetch(this.target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-opsctl-delivery': d.id, 'x-opsctl-signature': signBody(this.target.secret, d.body) },
        body: d.body,
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        redirect: 'manual',
      });
      await res.body?.cancel();
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error;
      return e.name === 'TimeoutError' ? `no answer within ${this.opts.timeoutMs} ms` : e.message;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
  }
}

export class WebhookSender {
  private readonly queues: WebhookQueue[];

  constructor(targets: WebhookTarget[], opts: WebhookOptions, log: Logger) {
    this.queues = targets.map((t) => new WebhookQueue(t, opts, log));
  }

  /** Queues the delivery for every webhook and returns at once. */
  send(payload: EventDelivery): void {
    const body = JSON.stringify(payload);
    for (const q of this.queues) q.push({ id: randomUUID(), body });
  }

  stop(): void {
    for (const q of this.queues) q.stop();
  }
}
