import { Migration } from '@mikro-orm/migrations';

// The leadership epoch: the fencing token replicas raise when they win the leader lease.
export class Migration20261126140906_leader_epochs extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`leader_epochs\` (\`name\` text not null, \`epoch\` integer not null, \`holder\` text not null, \`taken_at\` datetime not null, primary key (\`name\`));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`leader_epochs\`;`);
  }

}
