import { Migration } from '@mikro-orm/migrations';

export class Migration20261125210137_task_kinds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`tasks\` add \`kind\` varchar(16) not null default 'script', add \`params\` json null;`);
    this.addSql(`alter table \`task_runs\` add \`error_code\` int null, add \`result\` json null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`task_runs\` drop column \`error_code\`, drop column \`result\`;`);
    this.addSql(`alter table \`tasks\` drop column \`kind\`, drop column \`params\`;`);
  }

}
