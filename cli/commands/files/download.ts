import { Flags } from '@oclif/core';
import type { TaskDetail } from '../../../proto/rest/tasks.js';
import { TaskCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';
import { ExitCode } from '../../lib/exit-codes.js';
import { fileTaskFlags, remotePath, runFileTask } from '../../lib/files/flags.js';
import { downloadTarget, saveDownload } from '../../lib/files/local.js';
import { humanBytes } from '../../lib/format.js';
import { ManagerRunner } from '../../lib/tasks/runner.js';

export default class FilesDownload extends TaskCommand {
  static override summary = 'Download a file from nodes: one copy per node in DIR/<node>/.';
  static override description = 'Each selected node reads REMOTE_PATH (inside agentd\'s files.roots) and sends it back with its SHA-256; ' +
    'the copy is checked against it and saved as DIR/<node>/<file name>. A file larger than the manager\'s files.maxDownloadBytes is refused ' +
    'for that node before anything is sent.';
  static override strict = false;
  static override usage = 'files download REMOTE_PATH [NODE...] --dest DIR [--all] [-l SELECTOR] [-g GROUP]';
  static override examples = [
    '<%= config.bin %> files download /var/log/app/app.log --dest ./logs -l role=web',
  ];
  static override flags = {
    ...fileTaskFlags,
    dest: Flags.string({ description: 'Folder to save the copies in, one sub-folder per node (created if missing).', required: true, helpValue: 'DIR' }),
  };

  async run(): Promise<TaskDetail> {
    const { flags, argv } = await this.parse(FilesDownload);
    const [remote, ...names] = argv as string[];
    const path = remotePath(remote, 'REMOTE_PATH', 'opsctl files download /var/log/syslog --dest ./logs --all');
    const runner = await this.taskRunner(flags);
    const { task, printer, allSucceeded } = await runFileTask(runner, {
      names, flags, file: { op: 'download', path }, local: { downloadDir: flags.dest },
    }, (t) => this.note(t));
    let saved = true;
    // Through the manager the copies wait there; direct mode saved them already.
    if (runner instanceof ManagerRunner) {
      for (const [runId, run] of printer.runs) {
        if (run.status !== 'succeeded') continue;
        const target = downloadTarget(flags.dest, run.node, path);
        try {
          const file = await runner.api.openFile(`/tasks/${encodeURIComponent(task.id)}/runs/${encodeURIComponent(runId)}/file`);
          const sha256 = file.sha256;
          await saveDownload(file.body, target, sha256, file.size, `saving ${run.node}`);
          this.note(`${run.node}: saved ${target} (${humanBytes(file.size)})`);
        } catch (err) {
          saved = false;
          this.note(`${run.node}: not saved: ${err instanceof CliError ? err.message : (err as Error).message}`);
        }
      }
    }
    if (!allSucceeded || !saved) this.exit(ExitCode.FAILURE);
    return task;
  }
}
