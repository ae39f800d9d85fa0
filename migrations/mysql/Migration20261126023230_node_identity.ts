import { Migration } from '@mikro-orm/migrations';

export class Migration20261126023230_node_identity extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`nodes\` add \`previous_cert_fingerprint\` varchar(64) null, add \`pending_key_fingerprint\` varchar(64) null, add \`pending_address\` varchar(255) null, add \`pending_since\` datetime(3) null, add \`pending_approved_at\` datetime(3) null;`);
  }

}
