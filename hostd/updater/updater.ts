// hostd's updater: installs a signed host bundle (hostd and agentd together) pushed by a rollout,
// and goes back to a kept version on request. Steps (each written to the marker, marker.ts, and
// reported to the manager with UpdateReport): verify the signature against update.trustedKeys and
// the version (newer, not expired, this platform) → download, bounded by the signed size → verify
// SHA-256 → unpack into versions/<new> (the running version's folder stays: it is the backup) →
// stop agentd → swap `current` → exit, so the launcher starts the new hostd, which starts its own
// agentd → the new hostd checks itself for the health window → commit, or point `current` back
// and exit again. Nothing here needs the manager after the download: a host cut off mid-update
// still commits or reverts, and reports when it is back (Hello.last_update).
// A new hostd that cannot run this code at all (exits, crashes, hangs) is reverted by the launcher
// (scripts/hostd-launch.sh). docs/host-bundle.md tells the whole story.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../lib/atomic-write.js';
import type { Logger } from '../../lib/log.js';
import type { Subsystem } from '../../lib/run-group.js';
import { ErrorCode, OpsError } from '../../proto/errors.js';
import type { RevertHost__Output } from '../../proto/gen/opsctl/hostlink/v1/RevertHost.js';
import type { UpdateHost__Output } from '../../proto/gen/opsctl/hostlink/v1/UpdateHost.js';
import type { UpdateReport__Output } from '../../proto/gen/opsctl/hostlink/v1/UpdateReport.js';
import type { ReleaseManifest } from '../../proto/release.js';
import { downloadRelease, type ReleaseSource } from './download.js';
import { downloadsDir, pointCurrent, pruneVersions, type HostLayout } from './layout.js';
import { FINAL_MARKER_STATES, PROBATION_STATES, readMarker, reportedState, writeMarker, type MarkerState, type UpdateMarker } from './marker.js';
import { checkInstalled, unpackBundle } from './unpack.js';

export type UpdateReport = UpdateReport__Output;

/** What the updater needs of the agent supervisor. */
export interface UpdaterAgent {
  status(): string;
  readonly agentVersion: string;
  /** agentd deaths since hostd started. */
  readonly crashCount: number;
  /** Stops agentd for good (no restart): the next hostd starts its own version's. */
  stopForUpdate(): Promise<void>;
}

export interface UpdaterOptions {
  /** Where this host keeps its versions, or why it cannot update itself. */
  layout: HostLayout | string;
  trustedKeys: readonly string[];
  startGraceSeconds: number;
  agent: UpdaterAgent;
  fetch: ReleaseSource;
  /** Sends (or queues, while the link is down) a report to the manager. */
  send: (report: UpdateReport) => void;
  /** Ends hostd so that the launcher starts PREFIX/current again. */
  restart: () => void;
  log: Logger;
  platform?: string;
  arch?: string;
}

/** hostd's exit code when it ends itself for an update (any code restarts it under the launcher). */
export const RESTART_EXIT_CODE = 75;
const REQUEST_FILE = 'update.request.json';
const REPORT_FILE = 'update.report.json';
const HEALTH_POLL_MS = 500;
/** proto/release.ts, loaded when an update first needs it: it brings tweetnacl (about 3 MB private). */
const releaseContract = () => import('../../proto/release.js');

interface SavedRequest { rolloutId: string; manifest: string; signature: string; keyId: string; healthSeconds: number }

const errorCode = (err: unknown): number => (err instanceof OpsError ? err.code : ErrorCode.INTERNAL);

/** The version a manifest's text names, for reports about one that was refused before it was trusted. */
function claimedVersion(text: string): string {
  try { return String((JSON.parse(text) as { version?: unknown }).version ?? '').slice(0, 64); } catch { return ''; }
}

export class Updater implements Subsystem {
  readonly name = 'updater';
  private busy = false;
  private stopped = false;
  private last?: UpdateReport;
  private healthTimer?: NodeJS.Timeout;

  constructor(private readonly opts: UpdaterOptions) {
    if (typeof opts.layout !== 'string') {
      try { this.last = JSON.parse(readFileSync(join(opts.layout.prefix, REPORT_FILE), 'utf8')) as UpdateReport; } catch { /* none yet */ }
    }
  }

  /** The last report made, on this run or an earlier one: the hello carries it. */
  lastReport(): UpdateReport | undefined { return this.last; }

  async start(): Promise<void> {
    this.stopped = false;
    if (typeof this.opts.layout === 'string') return;
    const marker = readMarker(this.opts.layout.prefix);
    if (marker && !FINAL_MARKER_STATES.includes(marker.state)) {
      this.busy = true;
      // Not awaited: a health check takes its window, and the other subsystems start meanwhile.
      void this.resume(this.opts.layout, marker).catch((err) => {
        this.opts.log.error({ err }, 'resuming the update failed');
        this.busy = false;
      });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.healthTimer);
  }

  onUpdateHost(u: UpdateHost__Output): void {
    const { layout } = this.opts;
    const refuse = (code: number, message: string, version = claimedVersion(u.manifest)) => this.refuse(u.rolloutId, version, code, message);
    if (typeof layout === 'string') return refuse(ErrorCode.UPDATE_UNSUPPORTED, layout);
    if (this.busy) return refuse(ErrorCode.UPDATE_BUSY, this.busyMessage(layout));
    this.busy = true;
    void this.verify(u, layout).then((m) => {
      const req: SavedRequest = { rolloutId: u.rolloutId, manifest: u.manifest, signature: u.signature, keyId: u.keyId, healthSeconds: u.healthSeconds };
      writeFileAtomicSync(join(layout.prefix, REQUEST_FILE), JSON.stringify(req), 0o600);
      return this.install(layout, req, m);
    }, (err) => {
      this.busy = false;
      refuse(errorCode(err), (err as Error).message);
    }).catch((err) => {
      this.busy = false;
      this.opts.log.error({ err }, 'update failed');
    });
  }

  onRevertHost(r: RevertHost__Output): void {
    const { layout } = this.opts;
    const refuse = (code: number, message: string) => this.refuse(r.rolloutId, r.version, code, message);
    if (typeof layout === 'string') return refuse(ErrorCode.UPDATE_UNSUPPORTED, layout);
    if (this.busy) return refuse(ErrorCode.UPDATE_BUSY, this.busyMessage(layout));
    if (r.version === layout.running) return refuse(ErrorCode.CONFLICT, `${r.version} is the version running`);
    const kept = checkInstalled(layout.prefix, { version: r.version, platform: this.platform, arch: this.arch });
    if (!kept.manifest) return refuse(ErrorCode.NOT_FOUND, `this host does not keep a whole copy of ${r.version} (${kept.problem}): nothing older is ever downloaded`);
    this.busy = true;
    const marker: UpdateMarker = {
      op: 'revert', state: 'installing', rollout: r.rolloutId, from: layout.running, to: r.version,
      healthSeconds: 0, deadline: 0, code: 0, at: 0, message: '',
    };
    void releaseContract().then(({ DEFAULT_HEALTH_SECONDS }) => this.swap(layout, { ...marker, healthSeconds: DEFAULT_HEALTH_SECONDS }));
  }

  private get platform(): string { return this.opts.platform ?? process.platform; }
  private get arch(): string { return this.opts.arch ?? process.arch; }

  private busyMessage(layout: HostLayout): string {
    const m = readMarker(layout.prefix);
    return m ? `this host is already updating from ${m.from} to ${m.to} (rollout ${m.rollout || 'none'}, step ${m.state})` : 'this host is already updating';
  }

  /** Signature first (nothing in an unsigned manifest is believed), then what it says. */
  private async verify(u: Pick<UpdateHost__Output, 'manifest' | 'signature' | 'keyId'>, layout: HostLayout): Promise<ReleaseManifest> {
    const { checkInstallable, verifyRelease } = await releaseContract();
    const m = verifyRelease({ manifest: u.manifest, signature: u.signature, keyId: u.keyId }, this.opts.trustedKeys);
    checkInstallable(m, { runningVersion: layout.running, platform: this.platform, arch: this.arch });
    return m;
  }

  private refuse(rolloutId: string, version: string, code: number, message: string): void {
    this.opts.log.warn({ rolloutId, version, code }, `update refused: ${message}`);
    const from = typeof this.opts.layout === 'string' ? '' : this.opts.layout.running;
    const report = { rolloutId, version, fromVersion: from, state: 'refused', message, code, atMs: Date.now() };
    // Refused for being busy: the update under way stays the one the hello tells about.
    if (code === ErrorCode.UPDATE_BUSY) this.opts.send(report);
    else this.emit(report);
  }

  private emit(report: UpdateReport): void {
    this.last = report;
    if (typeof this.opts.layout !== 'string') {
      try { writeFileAtomicSync(join(this.opts.layout.prefix, REPORT_FILE), JSON.stringify(report), 0o600); } catch (err) { this.opts.log.warn({ err }, 'saving the update report failed'); }
    }
    this.opts.send(report);
  }

  /** Records a step in the marker (durably, before acting on it) and reports it. */
  private step(layout: HostLayout, marker: UpdateMarker, state: MarkerState, message: string, code = 0): UpdateMarker {
    const next = { ...marker, state, message, code, at: Date.now() };
    writeMarker(layout.prefix, next);
    const level = code ? 'warn' : 'info';
    this.opts.log[level]({ rolloutId: next.rollout, from: next.from, to: next.to, state, code }, `update: ${message}`);
    this.emit({ rolloutId: next.rollout, version: next.to, fromVersion: next.from, state: reportedState(state), message, code, atMs: next.at });
    if (FINAL_MARKER_STATES.includes(state)) {
      this.busy = false;
      rmSync(join(layout.prefix, REQUEST_FILE), { force: true });
    }
    return next;
  }

  /** For the kill -9 tests only: OPS_TEST_KILL_AT=<point> kills this hostd there, once per prefix. */
  private testKillPoint(layout: HostLayout, point: string): void {
    if (process.env.OPS_TEST_KILL_AT !== point) return;
    const flag = join(layout.prefix, `.test-killed-at-${point}`);
    if (existsSync(flag)) return;
    writeFileSync(flag, '');
    process.kill(process.pid, 'SIGKILL');
  }

  private async install(layout: HostLayout, req: SavedRequest, m: ReleaseManifest): Promise<void> {
    const { DEFAULT_HEALTH_SECONDS } = await releaseContract();
    let marker: UpdateMarker = {
      op: 'update', state: 'downloading', rollout: req.rolloutId, from: layout.running, to: m.version,
      healthSeconds: req.healthSeconds > 0 ? req.healthSeconds : DEFAULT_HEALTH_SECONDS, deadline: 0, code: 0, at: 0, message: '',
    };
    try {
      if (checkInstalled(layout.prefix, m).manifest) {
        marker = this.step(layout, marker, 'installing', `versions/${m.version} is already here and whole: nothing to download`);
      } else {
        const file = join(downloadsDir(layout.prefix), m.file);
        mkdirSync(downloadsDir(layout.prefix), { recursive: true, mode: 0o700 });
        marker = this.step(layout, marker, 'downloading', `downloading ${m.file} (${m.size} bytes) from the manager`);
        await downloadRelease(this.opts.fetch, m, file);
        this.testKillPoint(layout, 'downloaded');
        marker = this.step(layout, marker, 'verifying', `${m.file}: ${m.size} bytes, SHA-256 matches the signed manifest`);
        marker = this.step(layout, marker, 'installing', `unpacking into versions/${m.version}; versions/${layout.running} stays as the backup`);
        await unpackBundle(layout.prefix, file, m);
      }
      this.testKillPoint(layout, 'installed');
    } catch (err) {
      this.step(layout, marker, 'failed', (err as Error).message, errorCode(err));
      return;
    }
    await this.swap(layout, marker);
  }

  /** Stops agentd, points `current` at marker.to and ends hostd: the launcher starts the new one. */
  private async swap(layout: HostLayout, marker: UpdateMarker): Promise<void> {
    const deadline = Math.ceil(Date.now() / 1000) + marker.healthSeconds + this.opts.startGraceSeconds;
    marker = this.step(layout, { ...marker, deadline }, 'swapping', `stopping agentd ${layout.running} and pointing current at versions/${marker.to}`);
    try {
      await this.opts.agent.stopForUpdate();
      pointCurrent(layout.prefix, marker.to);
    } catch (err) {
      try { pointCurrent(layout.prefix, marker.from); } catch { /* current was not moved, or the launcher puts it back */ }
      this.step(layout, marker, 'failed', `swapping to ${marker.to}: ${(err as Error).message}`, ErrorCode.INTERNAL);
      this.opts.restart();
      return;
    }
    this.step(layout, marker, 'restarting', `current -> versions/${marker.to}; hostd ${layout.running} exits for hostd ${marker.to}`);
    this.testKillPoint(layout, 'swapped');
    this.opts.restart();
  }

  /** After a restart mid-update: carry on from the step the marker records. */
  private async resume(layout: HostLayout, marker: UpdateMarker): Promise<void> {
    const { running } = layout;
    this.opts.log.info({ marker }, `update: resuming at step ${marker.state}`);
    if (marker.state === 'reverting') {
      if (running === marker.to) return this.revertNow(layout, marker, marker.message, marker.code);
      if (running === marker.from) return this.finishRevert(layout, marker);
    } else if (PROBATION_STATES.includes(marker.state)) {
      if (running === marker.to) return this.healthCheck(layout, marker);
      if (running === marker.from && marker.state === 'swapping') return this.resumeFromStart(layout, marker);
      if (running === marker.from) return this.finishRevert(layout, { ...marker, message: `hostd ${marker.to} did not run: started on ${marker.from} again` });
    } else if (running === marker.from) {
      return this.resumeFromStart(layout, marker);
    }
    this.step(layout, marker, 'failed', `hostd restarted as ${running}, neither ${marker.from} nor ${marker.to}, at step ${marker.state}: update abandoned`, ErrorCode.INTERNAL);
  }

  /** Killed before the swap: the same request again (verified again; the download resumes, a whole unpack is kept). */
  private async resumeFromStart(layout: HostLayout, marker: UpdateMarker): Promise<void> {
    if (marker.op === 'revert') return this.swap(layout, marker);
    let req: SavedRequest;
    let m: ReleaseManifest;
    try {
      req = JSON.parse(readFileSync(join(layout.prefix, REQUEST_FILE), 'utf8')) as SavedRequest;
      m = await this.verify(req, layout);
    } catch (err) {
      this.step(layout, marker, 'failed', `resuming the update to ${marker.to} after a restart: ${(err as Error).message}`, errorCode(err));
      return;
    }
    return this.install(layout, req, m);
  }

  /** The new hostd: agentd of this version must turn healthy and stay so, without a crash, for the window. */
  private healthCheck(layout: HostLayout, marker: UpdateMarker): void {
    marker = this.step(layout, marker, 'health-check', `hostd ${marker.to} is up; agentd ${marker.to} must be healthy for ${marker.healthSeconds} s`);
    const crashesBefore = this.opts.agent.crashCount;
    const end = Date.now() + marker.healthSeconds * 1000;
    const poll = () => {
      if (this.stopped) return;
      const { agent } = this.opts;
      if (agent.crashCount > crashesBefore) {
        void this.revertNow(layout, marker, `agentd ${marker.to} crashed during the health window`, ErrorCode.UPDATE_UNHEALTHY);
        return;
      }
      if (Date.now() < end) { this.healthTimer = setTimeout(poll, HEALTH_POLL_MS); return; }
      const status = agent.status();
      if (status === 'healthy' && agent.agentVersion === marker.to) { this.commit(layout, marker); return; }
      const what = agent.agentVersion && agent.agentVersion !== marker.to ? ` and reports version ${agent.agentVersion}` : '';
      void this.revertNow(layout, marker, `agentd is ${status}${what} at the end of the ${marker.healthSeconds} s health window`, ErrorCode.UPDATE_UNHEALTHY);
    };
    this.healthTimer = setTimeout(poll, HEALTH_POLL_MS);
  }

  private commit(layout: HostLayout, marker: UpdateMarker): void {
    const removed = pruneVersions(layout.prefix, [marker.to, marker.from]);
    const done = marker.op === 'update' ? 'committed' : 'rolled-back';
    this.step(layout, marker, done, `${marker.to} stayed healthy for ${marker.healthSeconds} s: ${done}; ${marker.from} kept for a revert${removed.length ? `; removed ${removed.join(', ')}` : ''}`);
  }

  /** The new version failed: back to marker.from (stop agentd, point current back, exit for the old hostd). */
  private async revertNow(layout: HostLayout, marker: UpdateMarker, why: string, code: number): Promise<void> {
    marker = this.step(layout, marker, 'reverting', why, code);
    try {
      await this.opts.agent.stopForUpdate();
    } catch (err) {
      this.opts.log.warn({ err }, 'stopping agentd for the revert failed; the old hostd stops it');
    }
    pointCurrent(layout.prefix, marker.from);
    this.opts.restart();
  }

  /** The old hostd is back after a revert: say how it ended. */
  private finishRevert(layout: HostLayout, marker: UpdateMarker): void {
    const state = marker.op === 'update' ? 'rolled-back' : 'failed';
    this.step(layout, marker, state, `back on ${marker.from}: ${marker.message}`, marker.code || ErrorCode.UPDATE_UNHEALTHY);
  }
}
