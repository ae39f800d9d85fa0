import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013037_events extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`events\` (\`id\` text not null, \`kind\` text not null, \`subject\` text not null, \`severity\` text not null, \`message\` text not null, \`details\` json not null, \`raised_at\` datetime not null, \`cleared_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create index \`events_kind_subject_cleared_at_index\` on \`events\` (\`kind\`, \`subject\`, \`cleared_at\`);`);
    this.addSql(`create index \`events_raised_at_index\` on \`events\` (\`raised_at\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`events\`;`);
  }
}
