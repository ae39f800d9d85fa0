import { Migration } from '@mikro-orm/migrations';

export class Migration20261126023227_node_identity extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`nodes\` add column \`previous_cert_fingerprint\` text null;`);
    this.addSql(`alter table \`nodes\` add column \`pending_key_fingerprint\` text null;`);
    this.addSql(`alter table \`nodes\` add column \`pending_address\` text null;`);
    this.addSql(`alter table \`nodes\` add column \`pending_since\` datetime null;`);
    this.addSql(`alter table \`nodes\` add column \`pending_approved_at\` datetime null;`);
  }

}
