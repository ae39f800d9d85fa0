import { Migration } from '@mikro-orm/migrations';

export class Migration20261126112644_task_owner extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`tasks\` add column \`owner\` text null;`);
  }

}
