import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000007_orchestration extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`task_events\` (\`task_id\` text not null, \`seq\` integer not null, \`run_id\` text null, \`type\` text not null, \`body\` json not null, constraint \`task_events_task_id_foreign\` foreign key(\`task_id\`) references \`tasks\`(\`id\`) on delete cascade on update cascade, primary key (\`task_id\`, \`seq\`));`);
    this.addSql(`create index \`task_events_task_id_index\` on \`task_events\` (\`task_id\`);`);

    this.addSql(`alter table \`tasks\` add column \`rollout\` json null;`);
    this.addSql(`alter table \`tasks\` add column \`queue_expires_at\` datetime null;`);
    this.addSql(`alter table \`tasks\` add column \`stop_reason\` text null;`);
    this.addSql(`alter table \`tasks\` add column \`template_name\` text null;`);
    this.addSql(`alter table \`tasks\` add column \`template_version\` integer null;`);
    this.addSql(`alter table \`tasks\` add column \`schedule_name\` text null;`);
    this.addSql(`create index \`tasks_template_name_index\` on \`tasks\` (\`template_name\`);`);
    this.addSql(`create index \`tasks_schedule_name_index\` on \`tasks\` (\`schedule_name\`);`);

    this.addSql(`alter table \`task_runs\` add column \`wave\` integer not null default 0;`);
    this.addSql(`alter table \`task_runs\` add column \`last_seq\` integer not null default 0;`);
  }

}
