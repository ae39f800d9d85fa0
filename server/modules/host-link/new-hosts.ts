// New hosts enrolling together, in one transaction per batch (db/gather.ts). An enrollment wave of
// 5,000 hosts took one transaction of about ten statements per host, each host waiting for
// SQLite's single writer (or MySQL's audit head lock) behind every other: minutes. Gathered, a
// batch reads which names exist in one SELECT, takes its token uses in one UPDATE, inserts its
// nodes together and chains its audit rows with one bump of the head.
//
// Only the plain case is gathered: a new name on a token with uses left. Anything else — a name
// already enrolled (held for an operator, or collecting an approved key), a name twice in one
// batch, a token unknown, expired or used up, a batch that failed — is handed back, and the host
// enrolls through the one-at-a-time path, which decides, refuses and audits each case.
import type { Logger } from '../../../lib/log.js';
import { Gather, type GatherOptions } from '../../db/gather.js';
import type { Orm } from '../../db/orm.js';
import type { EnrollmentRequest } from '../../hostlink/contract.js';
import type { AuditRecord } from '../../http/request-audit.js';
import type { AuditService } from '../audit/service.js';
import type { EnrollmentTokensService } from '../enrollment-tokens/service.js';
import { enrolledName, type NodesService } from '../nodes/service.js';

/** The host is not a plain new one: enroll it one at a time. */
export const ONE_AT_A_TIME = Symbol('one at a time');

export type NewHostResult = { nodeId: string } | typeof ONE_AT_A_TIME;

const GATHER: GatherOptions = { delayMs: 5, max: 200 };

export class NewHosts {
  private readonly gather: Gather<EnrollmentRequest, NewHostResult>;

  constructor(
    private readonly orm: Orm,
    private readonly log: Logger,
    private readonly nodes: NodesService,
    private readonly tokens: EnrollmentTokensService,
    private readonly audit: AuditService,
    private readonly audited: (input: EnrollmentRequest, nodeId: string) => AuditRecord,
  ) {
    this.gather = new Gather((inputs) => this.enroll(inputs), GATHER);
  }

  /** Enrolls a new host with the batch it arrives in, or says it must go one at a time. */
  enrollNew(input: EnrollmentRequest): Promise<NewHostResult> {
    return this.gather.call(input);
  }

  private async enroll(inputs: EnrollmentRequest[]): Promise<NewHostResult[]> {
    const results: NewHostResult[] = inputs.map(() => ONE_AT_A_TIME);
    try {
      await this.orm.em.fork().transactional(async (tx) => {
        const taken = await this.nodes.namesTaken(tx, inputs.map((i) => i.nodeName));
        const seen = new Set<string>();
        const byToken = new Map<string, number[]>();
        inputs.forEach((input, i) => {
          const name = enrolledName(input.nodeName);
          if (taken.has(name) || seen.has(name)) return;
          seen.add(name);
          byToken.set(input.token, [...(byToken.get(input.token) ?? []), i]);
        });
        const admitted: number[] = [];
        for (const [token, waiting] of byToken) {
          // Uses go to the first hosts of the batch; the others learn "already used" one at a time.
          const granted = await this.tokens.consumeMany(tx, token, waiting.length);
          admitted.push(...waiting.slice(0, granted));
        }
        if (admitted.length === 0) return;
        admitted.sort((a, b) => a - b);
        const created = await this.nodes.createEnrolledMany(tx, admitted.map((i) => ({ name: inputs[i].nodeName, address: inputs[i].address })));
        await this.audit.appendMany(tx, admitted.map((i, k) => this.audited(inputs[i], created[k].id)));
        admitted.forEach((i, k) => { results[i] = { nodeId: created[k].id }; });
      });
    } catch (err) {
      // Nothing was stored (a name taken at the same moment, a lost connection): one at a time.
      this.log.warn({ err, hosts: inputs.length }, 'enrolling a batch of new hosts failed; enrolling them one at a time');
      return inputs.map(() => ONE_AT_A_TIME);
    }
    return results;
  }
}
