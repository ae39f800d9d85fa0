import { Migration } from '@mikro-orm/migrations';

export class Migration20261126023523_groups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`groups\` (\`id\` varchar(36) not null, \`name\` varchar(63) not null, \`description\` varchar(512) not null default '', \`selector\` varchar(1024) null, \`members\` json not null, \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`groups\` add unique \`groups_name_unique\`(\`name\`);`);

    this.addSql(`alter table \`nodes\` add \`host_labels\` json null;`);
  }

}
