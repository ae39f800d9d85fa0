// One upload's content on its way from the manager to agentd: a signed PUT of the run's content
// (signed with the content's sha256, which agentd checks the bytes against), fed with the chunks
// the manager sends in order. Each chunk is acknowledged once agentd's socket has taken it, and
// the manager sends no more than its window ahead of the acknowledgements, so neither hostd nor
// the stream holds more than that window of a large file.
import { request, type Agent, type ClientRequest } from 'node:http';
import { HOSTD_KEY_ID } from '../proto/agent-keys-file.js';
import type { FileAck } from '../proto/gen/opsctl/hostlink/v1/FileAck.js';
import type { FileChunk__Output } from '../proto/gen/opsctl/hostlink/v1/FileChunk.js';
import { signRequest } from '../proto/signing.js';
import type { Logger } from '../lib/log.js';

export interface UploadPipeOptions {
  runId: string;
  sha256: string;
  size: number;
  /** agentd's content URL for the run. */
  url: string;
  agent: Agent;
  secret: () => string;
  ack: (ack: FileAck) => void;
  log: Logger;
}

export class UploadPipe {
  private req?: ClientRequest;
  /** Chunks that arrived before agentd had the run (at most the manager's window). */
  private readonly early: FileChunk__Output[] = [];
  private expected = 0;
  private failed?: string;

  constructor(private readonly opts: UploadPipeOptions) {}

  /** agentd accepted the run: start the PUT and pass on what has arrived. */
  open(): void {
    if (this.failed || this.req) return;
    const path = new URL(this.opts.url).pathname;
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(this.opts.size),
      ...signRequest({ method: 'PUT', path, bodyHash: this.opts.sha256, keyId: HOSTD_KEY_ID, secret: this.opts.secret() }),
    };
    const req = request(this.opts.url, { method: 'PUT', agent: this.opts.agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { if (text.length < 2000) text += d; });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) this.fail(`agentd refused the content (HTTP ${res.statusCode}): ${text.slice(0, 500)}`);
      });
    });
    req.on('error', (err) => this.fail(`sending the content to agentd: ${err.message}`));
    this.req = req;
    for (const chunk of this.early.splice(0)) this.write(chunk);
  }

  push(chunk: FileChunk__Output): void {
    if (this.failed) {
      this.opts.ack({ runId: this.opts.runId, offset: chunk.offset, error: this.failed });
      return;
    }
    if (chunk.offset !== this.expected) {
      this.fail(`content arrived out of order (offset ${chunk.offset}, expected ${this.expected})`);
      return;
    }
    this.expected += chunk.data.length;
    if (this.req) this.write(chunk);
    else this.early.push(chunk);
  }

  /** Stops the transfer; agentd sees the content end early and fails the run with a clear error. */
  abort(reason: string): void {
    if (this.failed) return;
    this.failed = reason;
    this.early.length = 0;
    if (this.req && !this.req.writableFinished) {
      this.opts.log.warn({ runId: this.opts.runId, reason }, 'upload aborted');
      this.req.destroy(new Error(reason));
    }
  }

  private write(chunk: FileChunk__Output): void {
    const req = this.req!;
    const end = chunk.offset + chunk.data.length;
    const acked = () => { if (!this.failed) this.opts.ack({ runId: this.opts.runId, offset: end, error: '' }); };
    if (chunk.data.length > 0) req.write(chunk.data, (err) => { if (!err) acked(); });
    if (chunk.eof) req.end(chunk.data.length === 0 ? acked : undefined);
  }

  private fail(reason: string): void {
    if (this.failed) return;
    this.opts.log.warn({ runId: this.opts.runId, reason }, 'upload failed in hostd');
    this.abort(reason);
    this.opts.ack({ runId: this.opts.runId, offset: this.expected, error: reason });
  }
}
