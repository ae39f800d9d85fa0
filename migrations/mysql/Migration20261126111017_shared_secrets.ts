import { Migration } from '@mikro-orm/migrations';

export class Migration20261126111017_shared_secrets extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`shared_secrets\` (\`name\` varchar(64) not null, \`sealed\` text not null, \`created_at\` datetime(3) not null, primary key (\`name\`)) default character set utf8mb4 engine = InnoDB;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`shared_secrets\`;`);
  }

}
