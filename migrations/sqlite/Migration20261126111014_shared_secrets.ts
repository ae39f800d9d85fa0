import { Migration } from '@mikro-orm/migrations';

export class Migration20261126111014_shared_secrets extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`shared_secrets\` (\`name\` text not null, \`sealed\` text not null, \`created_at\` datetime not null, primary key (\`name\`));`);
  }

}
