// The file content of running tasks on the host streams: an upload's chunks going down to each
// target host, at most `windowBytes` ahead of what the host acknowledged (FileAck), and a
// download's pieces coming up into the manager's file store. A host whose stream ends mid-upload
// fails that run at once with a clear message rather than leaving it to the task's timeout.
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../../lib/log.js';
import type { FileAck__Output } from '../../../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { HostSession, HostSessions } from '../../hostlink/contract.js';
import type { FileStore, IncomingFile, StoredFile } from '../files/file-store.js';

export interface TransferLimits { chunkBytes: number; windowBytes: number; maxDownloadBytes: number }

interface Upload {
  runId: string;
  nodeId: string;
  session: HostSession;
  sha256: string;
  size: number;
  sent: number;
  acked: number;
  reading: boolean;
  done: boolean;
  fd?: FileHandle;
}

export class FileTransfers {
  private readonly uploads = new Map<string, Upload>();
  private readonly downloads = new Map<string, IncomingFile>();

  constructor(
    private readonly store: FileStore,
    private readonly sessions: HostSessions,
    private readonly limits: TransferLimits,
    private readonly log: Logger,
    /** A run failed on the manager's side (its host dropped mid-upload). */
    private readonly failRun: (nodeId: string, runId: string, error: string) => void,
  ) {}

  /** The upload's dispatch was sent: start sending its content to the node. */
  startUpload(nodeId: string, runId: string, sha256: string, size: number): void {
    const session = this.sessions.get(nodeId);
    if (!session || this.uploads.has(runId)) return;
    const upload: Upload = { runId, nodeId, session, sha256, size, sent: 0, acked: 0, reading: false, done: false };
    this.uploads.set(runId, upload);
    void this.pump(upload);
  }

  onAck(nodeId: string, ack: FileAck__Output): void {
    const upload = this.uploads.get(ack.runId);
    if (!upload || upload.nodeId !== nodeId) return;
    if (ack.error) {
      // The run's own exit (from agentd) says why; stop sending.
      this.log.info({ runId: ack.runId, error: ack.error }, 'host stopped taking an upload');
      this.endUpload(upload);
      return;
    }
    upload.acked = Math.max(upload.acked, ack.offset);
    if (upload.acked >= upload.size) this.endUpload(upload);
    else void this.pump(upload);
  }

  /** A node's stream ended: its uploads in flight cannot finish. */
  onDisconnected(nodeId: string): void {
    for (const upload of [...this.uploads.values()]) {
      if (upload.nodeId !== nodeId) continue;
      this.endUpload(upload);
      this.failRun(nodeId, upload.runId, `the host disconnected mid-upload (${upload.acked} of ${upload.size} bytes passed on)`);
    }
  }

  /** The run ended (any way): stop its transfer and drop what was half received. */
  runEnded(runId: string): void {
    const upload = this.uploads.get(runId);
    if (upload) this.endUpload(upload);
    this.downloads.get(runId)?.discard();
    this.downloads.delete(runId);
  }

  /** A download's piece; resolves when written, so the host stream waits for the disk. */
  async onData(runId: string, offset: number, data: Buffer): Promise<void> {
    let file = this.downloads.get(runId);
    if (!file) {
      file = this.store.incoming(this.limits.maxDownloadBytes);
      this.downloads.set(runId, file);
    }
    await file.write(offset, data);
  }

  /**
   * A download run exited: keep its copy when the host's result matches what arrived. Returns the
   * stored file, an error message, or undefined when the run was not a download in progress.
   */
  async finishDownload(runId: string, claimed: { sha256?: unknown; size?: unknown } | null): Promise<StoredFile | string | undefined> {
    const file = this.downloads.get(runId);
    this.downloads.delete(runId);
    if (!file) {
      // An empty file sends no pieces.
      if (claimed?.size === 0) return this.store.incoming(0).finish(claimed);
      return undefined;
    }
    return file.finish(claimed);
  }

  private endUpload(upload: Upload): void {
    upload.done = true;
    this.uploads.delete(upload.runId);
    void upload.fd?.close().catch(() => {});
    upload.fd = undefined;
  }

  private async pump(upload: Upload): Promise<void> {
    if (upload.reading || upload.done) return;
    upload.reading = true;
    try {
      upload.fd ??= await open(this.store.path(upload.sha256), 'r');
      while (!upload.done && upload.sent - upload.acked < this.limits.windowBytes && (upload.sent < upload.size || upload.sent === 0)) {
        const length = Math.min(this.limits.chunkBytes, upload.size - upload.sent);
        const data = Buffer.allocUnsafe(length);
        const { bytesRead } = length > 0 ? await upload.fd.read(data, 0, length, upload.sent) : { bytesRead: 0 };
        if (upload.done) return;
        const offset = upload.sent;
        upload.sent += bytesRead;
        const eof = upload.sent >= upload.size;
        if (!upload.session.send({ fileChunk: { runId: upload.runId, offset, data: data.subarray(0, bytesRead), eof } })) {
          this.endUpload(upload);
          return;
        }
        if (eof) break;
        if (bytesRead === 0) throw new Error('the stored file is shorter than its recorded size');
      }
    } catch (err) {
      this.log.error({ err, runId: upload.runId }, 'reading an upload from the file store failed');
      this.endUpload(upload);
      this.failRun(upload.nodeId, upload.runId, `the manager could not read the file to upload: ${(err as Error).message}`);
    } finally {
      upload.reading = false;
    }
  }
}
