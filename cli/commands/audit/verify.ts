import type { AuditVerifyResult } from '../../../proto/rest/audit.js';
import { verifyLine } from '../../lib/audit/render.js';
import { DataCommand } from '../../lib/base-command.js';
import { CliError } from '../../lib/errors.js';

export default class AuditVerify extends DataCommand {
  static override summary = 'Check that the audit log has not been altered.';
  static override description = 'Each audit row holds a hash of the row before it, so changing or deleting a row breaks the chain. ' +
    'The manager walks the whole chain: opsctl prints "audit log intact: N rows checked" and exits 0, or fails (exit 1) with ' +
    '"audit log broken at row ID: REASON". With --json the result object is printed either way.';
  static override examples = [
    '<%= config.bin %> audit verify',
    '<%= config.bin %> audit verify --json',
  ];

  async run(): Promise<AuditVerifyResult> {
    const { flags } = await this.parse(AuditVerify);
    const api = await this.api(flags.server);
    const result = await api.get<AuditVerifyResult>('/audit/verify');
    const broken = !result.ok;
    await this.print(result, flags, () => (broken ? '' : `${verifyLine(result)}\n`));
    if (broken) throw new CliError(verifyLine(result));
    return result;
  }
}
