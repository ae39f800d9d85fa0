import { Flags } from '@oclif/core';
import { FILE_MODE_PATTERN, FILE_OWNER_PATTERN } from '../../../proto/agent-api.js';
import type { StoredFileDto } from '../../../proto/rest/files.js';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { ApiError, UsageError } from '../../lib/errors.js';
import { TaskCommand } from '../../lib/base-command.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { fileTaskFlags, remotePath, runFileTask } from '../../lib/files/flags.js';
import { readLocalFile, type LocalFile } from '../../lib/files/local.js';
import { Progress } from '../../lib/files/progress.js';
import { humanBytes } from '../../lib/format.js';
import type { ApiClient } from '../../lib/api-client.js';
import { ManagerRunner } from '../../lib/tasks/runner.js';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

export default class FilesUpload extends TaskCommand {
  static override summary = 'Upload a file to nodes; each writes it whole or not at all.';
  static override description = 'The file is sent once to the manager and kept there by its SHA-256 (sent again only if the manager lacks it), ' +
    'then streamed to every selected node. Each node writes it to a temp file in the target folder, checks its size and hash, sets the mode ' +
    'and owner, and renames it into place, so nobody sees half a file. REMOTE_PATH must be inside agentd\'s files.roots on the node; a path ' +
    'outside them, with "..", or through a symlink leading out is refused for that node (code 1003) and nothing is written.';
  static override strict = false;
  static override usage = 'files upload LOCAL REMOTE_PATH [NODE...] [--all] [-l SELECTOR] [-g GROUP] [--mode 0644] [--owner USER[:GROUP]]';
  static override examples = [
    '<%= config.bin %> files upload ./nginx.conf /etc/nginx/nginx.conf -l role=web --mode 0644 --owner root:root',
    '<%= config.bin %> files upload ./release.tar.gz /srv/releases/release.tar.gz --all',
  ];
  static override flags = {
    ...fileTaskFlags,
    mode: Flags.string({ description: 'Permission bits of the file on the nodes, in octal (default 0644).', helpValue: 'MODE' }),
    owner: Flags.string({ description: 'Owner of the file on the nodes: USER or USER:GROUP, names or numeric ids (default: agentd\'s user).', helpValue: 'USER[:GROUP]' }),
  };

  async run(): Promise<TaskDetail> {
    const { flags, argv } = await this.parse(FilesUpload);
    const [local, remote, ...names] = argv as string[];
    if (!local) throw new UsageError("give the LOCAL file and the REMOTE_PATH (e.g. 'opsctl files upload ./app.conf /etc/app/app.conf --all')");
    const path = remotePath(remote, 'REMOTE_PATH', `opsctl files upload ${local} /etc/app/${basename(local)} --all`);
    if (flags.mode !== undefined && !new RegExp(FILE_MODE_PATTERN).test(flags.mode)) throw new UsageError(`--mode ${flags.mode}: give octal permission bits such as 0644 or 0600`);
    if (flags.owner !== undefined && !new RegExp(FILE_OWNER_PATTERN).test(flags.owner)) throw new UsageError(`--owner ${flags.owner}: give USER or USER:GROUP (names or numeric ids)`);
    const file = await readLocalFile(local);
    const runner = await this.taskRunner(flags);
    if (runner instanceof ManagerRunner) await this.store(runner.api, file);
    const { task, allSucceeded } = await runFileTask(runner, {
      names, flags,
      file: { op: 'upload', path, sha256: file.sha256, ...(flags.mode ? { mode: flags.mode } : {}), ...(flags.owner ? { owner: flags.owner } : {}) },
      local: { uploadPath: local },
    }, (t) => this.note(t));
    if (!allSucceeded) this.exit(ExitCode.FAILURE);
    return task;
  }

  /** Puts the content on the manager unless it has it already. */
  private async store(api: ApiClient, file: LocalFile): Promise<void> {
    try {
      await api.get<StoredFileDto>(`/files/${file.sha256}`);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 1004)) throw err;
    }
    const progress = new Progress(`uploading ${basename(file.path)}`, file.size);
    const started = Date.now();
    try {
      await api.putFile<StoredFileDto>(`/files/${file.sha256}`, createReadStream(file.path).pipe(progress.meter()), file.size);
    } finally {
      progress.end();
    }
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    this.note(`stored ${basename(file.path)} on the manager (${humanBytes(file.size)} in ${secs.toFixed(1)} s, sha256 ${file.sha256.slice(0, 12)})`);
  }
}
