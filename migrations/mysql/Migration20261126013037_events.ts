import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013037_events extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`events\` (\`id\` varchar(36) not null, \`kind\` varchar(64) not null, \`subject\` varchar(253) not null, \`severity\` varchar(16) not null, \`message\` varchar(1024) not null, \`details\` json not null, \`raised_at\` datetime(3) not null, \`cleared_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`events\` add index \`events_kind_subject_cleared_at_index\`(\`kind\`, \`subject\`, \`cleared_at\`);`);
    this.addSql(`alter table \`events\` add index \`events_raised_at_index\`(\`raised_at\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`events\`;`);
  }
}
