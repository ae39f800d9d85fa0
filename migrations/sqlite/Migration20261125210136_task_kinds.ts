import { Migration } from '@mikro-orm/migrations';

export class Migration20261125210136_task_kinds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`tasks\` add column \`kind\` text not null default 'script';`);
    this.addSql(`alter table \`tasks\` add column \`params\` json null;`);

    this.addSql(`alter table \`task_runs\` add column \`error_code\` integer null;`);
    this.addSql(`alter table \`task_runs\` add column \`result\` json null;`);
  }

}
