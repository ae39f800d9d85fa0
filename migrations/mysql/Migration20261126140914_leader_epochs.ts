import { Migration } from '@mikro-orm/migrations';

// The leadership epoch: the fencing token replicas raise when they win the leader lease.
export class Migration20261126140914_leader_epochs extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`leader_epochs\` (\`name\` varchar(32) not null, \`epoch\` int not null, \`holder\` varchar(200) not null, \`taken_at\` datetime(3) not null, primary key (\`name\`)) default character set utf8mb4 engine = InnoDB;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`leader_epochs\`;`);
  }

}
