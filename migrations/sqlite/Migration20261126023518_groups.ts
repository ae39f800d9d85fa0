import { Migration } from '@mikro-orm/migrations';

export class Migration20261126023518_groups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`groups\` (\`id\` text not null, \`name\` text not null, \`description\` text not null default '', \`selector\` text null, \`members\` json not null, \`created_by\` text not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`groups_name_unique\` on \`groups\` (\`name\`);`);

    this.addSql(`alter table \`nodes\` add column \`host_labels\` json null;`);
  }

}
