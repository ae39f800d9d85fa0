import { Migration } from '@mikro-orm/migrations';

export class Migration20261126112649_task_owner extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`tasks\` add \`owner\` varchar(128) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`tasks\` drop column \`owner\`;`);
  }

}
