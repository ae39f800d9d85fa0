// A simulated host's updater: answers UpdateHost the way hostd does, in its steps. It downloads
// the bundle for real over FetchRelease (the host's own mTLS channel), bounded by the manifest's
// size, checks its SHA-256 (and the signature, with --release-key), then "restarts": the stream is
// cut and opened again, and the new hello carries the new hostd_version and the last report, as a
// hostd that replaced itself would. Hosts chosen by --update-fail / --update-fail-rate pass the
// download and checks, then report rolled-back (the new version did not stay healthy). RevertHost
// goes back to the version asked for (kept on disk by a real hostd, so nothing is downloaded).
import { createHash } from 'node:crypto';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { HostLinkClient } from '../../hostd/grpc-client.js';
import type { ServiceError } from '../../hostd/grpc-h2-client.js';
import type { ReleaseChunk__Output } from '../../proto/gen/opsctl/hostlink/v1/ReleaseChunk.js';
import type { RevertHost__Output } from '../../proto/gen/opsctl/hostlink/v1/RevertHost.js';
import type { UpdateHost__Output } from '../../proto/gen/opsctl/hostlink/v1/UpdateHost.js';
import type { UpdateReport } from '../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import { checkInstallable, DEFAULT_HEALTH_SECONDS, parseReleaseManifest, verifyRelease, type ReleaseManifest } from '../../proto/release.js';
import type { SimCounters } from './stats.js';

/** What the updater needs of its host. */
export interface UpdatingHost {
  readonly name: string;
  hostdVersion: string;
  readonly counters: SimCounters;
  linkClient(): HostLinkClient | undefined;
  /** Records the report (for the next hello's last_update) and sends it if the stream is up. */
  report(report: UpdateReport): void;
  /** Ends the stream and opens a new one (a restarted hostd); resolves once welcomed again. */
  restart(): Promise<void>;
}

export interface UpdaterOptions {
  /** This host's updates fail their health check. */
  failing: boolean;
  /** `ed25519:` keys the signature must verify against; empty: the manifest is only parsed. */
  trustedKeys: string[];
  platform: string;
  arch: string;
}

/** Tries of a cut download (500 ms apart): enough to outlast a manager restart. */
const DOWNLOAD_ATTEMPTS = 60;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class SimUpdater {
  /** One change at a time, in the order asked: a revert sent mid-update runs once the update is over. */
  private queue: Promise<void> = Promise.resolve();
  /** The rollout whose update is queued or running: a repeat of its UpdateHost is not done twice. */
  private updating?: string;

  constructor(private readonly host: UpdatingHost, private readonly opts: UpdaterOptions) {}

  onUpdateHost(u: UpdateHost__Output): void {
    if (this.updating === u.rolloutId) return;
    this.updating = u.rolloutId;
    this.queue = this.queue.then(() => this.update(u)).finally(() => { this.updating = undefined; });
  }

  onRevertHost(r: RevertHost__Output): void {
    this.queue = this.queue.then(() => this.revert(r));
  }

  private send(rolloutId: string, version: string, from: string, state: string, message = '', code = 0): void {
    this.host.report({ rolloutId, version, fromVersion: from, state, message, code, atMs: Date.now() });
  }

  private async update(u: UpdateHost__Output): Promise<void> {
    const { host, opts } = this;
    const from = host.hostdVersion;
    let manifest: ReleaseManifest;
    try {
      manifest = opts.trustedKeys.length
        ? verifyRelease({ manifest: u.manifest, signature: u.signature, keyId: u.keyId }, opts.trustedKeys)
        : parseReleaseManifest(u.manifest);
      checkInstallable(manifest, { runningVersion: from, platform: opts.platform, arch: opts.arch });
    } catch (err) {
      const version = /"version":"([^"]*)"/.exec(u.manifest)?.[1] ?? '';
      this.send(u.rolloutId, version, from, 'refused', (err as Error).message, err instanceof OpsError ? err.code : ErrorCode.INVALID_ARGUMENT);
      host.counters.updatesFailed++;
      return;
    }
    const step = (state: string, message = '', code = 0) => this.send(u.rolloutId, manifest.version, from, state, message, code);
    try {
      step('downloading');
      const sha256 = await this.download(manifest);
      step('verifying');
      if (sha256 !== manifest.sha256) throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `downloaded bundle's SHA-256 is ${sha256}, the manifest says ${manifest.sha256}`);
      step('installing');
      step('restarting');
      const healthMs = (u.healthSeconds > 0 ? u.healthSeconds : DEFAULT_HEALTH_SECONDS) * 1000;
      if (opts.failing) {
        step('health-check');
        await sleep(Math.min(healthMs, 500));
        step('rolled-back', `simulated: ${manifest.version} did not stay healthy; back on ${from}`);
        host.counters.updatesFailed++;
        return;
      }
      host.hostdVersion = manifest.version;
      await host.restart();
      step('health-check');
      await sleep(healthMs);
      step('committed', `healthy for ${healthMs / 1000} s`);
      host.counters.updatesCommitted++;
    } catch (err) {
      host.hostdVersion = from;
      step('failed', (err as Error).message, err instanceof OpsError ? err.code : 0);
      host.counters.updatesFailed++;
    }
  }

  /**
   * The bundle over FetchRelease, hashed as it comes; more bytes than the manifest declares end the
   * download. A cut download (the manager restarting) is resumed from where it stopped, as hostd does.
   */
  private async download(manifest: ReleaseManifest): Promise<string> {
    const hash = createHash('sha256');
    let received = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fetchFrom(manifest, received, (data) => {
          received += data.length;
          this.host.counters.releaseBytes += data.length;
          if (received > manifest.size) throw new OpsError(ErrorCode.RELEASE_TOO_LARGE, `the download passed the manifest's ${manifest.size} bytes`);
          hash.update(data);
        });
        break;
      } catch (err) {
        if (err instanceof OpsError || attempt >= DOWNLOAD_ATTEMPTS) throw err;
        await sleep(500);
      }
    }
    if (received !== manifest.size) throw new OpsError(ErrorCode.RELEASE_HASH_MISMATCH, `the download ended at ${received} of ${manifest.size} bytes`);
    return hash.digest('hex');
  }

  /** One FetchRelease call from `offset`; `onData` throwing ends it with that error. */
  private fetchFrom(manifest: ReleaseManifest, offset: number, onData: (data: Buffer) => void): Promise<void> {
    const client = this.host.linkClient();
    if (!client) return Promise.reject(new Error('no link to the manager'));
    return new Promise((resolve, reject) => {
      const call = client.FetchRelease({ version: manifest.version, platform: manifest.platform, arch: manifest.arch, offset });
      let failed = false;
      call.on('data', (chunk: ReleaseChunk__Output) => {
        if (failed) return;
        try { onData(chunk.data); } catch (err) { failed = true; call.cancel(); reject(err); }
      });
      call.on('error', (err: ServiceError) => { if (!failed) reject(new Error(`FetchRelease: ${err.details || err.message}`)); });
      call.on('end', () => { if (!failed) resolve(); });
    });
  }

  private async revert(r: RevertHost__Output): Promise<void> {
    const from = this.host.hostdVersion;
    this.send(r.rolloutId, r.version, from, 'restarting', `going back to ${r.version}`);
    this.host.hostdVersion = r.version;
    await this.host.restart();
    // As hostd ends a revert that held: rolled-back, the version it went back to.
    this.send(r.rolloutId, r.version, from, 'rolled-back', `back on ${r.version}`);
    this.host.counters.reverts++;
  }
}
