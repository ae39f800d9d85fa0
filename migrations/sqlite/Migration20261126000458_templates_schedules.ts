import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000458_templates_schedules extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`schedules\` (\`id\` text not null, \`name\` text not null, \`cron\` text not null, \`tz\` text not null default 'UTC', \`template_name\` text not null, \`template_version\` integer null, \`params\` json not null, \`selector\` json not null, \`rollout\` json null, \`queue\` integer not null default false, \`queue_expires_seconds\` integer null, \`timeout_seconds\` integer null, \`catch_up\` integer not null default false, \`paused\` integer not null default false, \`paused_reason\` text null, \`created_by_id\` text not null, \`created_by\` text not null, \`created_at\` datetime not null, \`resumed_at\` datetime null, \`last_fire_at\` datetime null, \`last_task_id\` text null, primary key (\`id\`));`);
    this.addSql(`create unique index \`schedules_name_unique\` on \`schedules\` (\`name\`);`);
    this.addSql(`create index \`schedules_template_name_index\` on \`schedules\` (\`template_name\`);`);

    this.addSql(`create table \`schedule_fires\` (\`id\` text not null, \`schedule_id\` text not null, \`due_at\` datetime not null, \`fired_at\` datetime not null, \`task_id\` text null, \`error\` text null, constraint \`schedule_fires_schedule_id_foreign\` foreign key(\`schedule_id\`) references \`schedules\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`schedule_fires_schedule_id_index\` on \`schedule_fires\` (\`schedule_id\`);`);
    this.addSql(`create unique index \`schedule_fires_schedule_id_due_at_unique\` on \`schedule_fires\` (\`schedule_id\`, \`due_at\`);`);

    this.addSql(`create table \`templates\` (\`id\` text not null, \`name\` text not null, \`latest_version\` integer not null default 1, \`created_by\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`templates_name_unique\` on \`templates\` (\`name\`);`);

    this.addSql(`create table \`template_versions\` (\`id\` text not null, \`template_id\` text not null, \`version\` integer not null, \`kind\` text not null default 'script', \`script\` mediumtext not null, \`interpreter\` text not null, \`params\` json not null, \`description\` text not null default '', \`created_by\` text not null, \`created_at\` datetime not null, constraint \`template_versions_template_id_foreign\` foreign key(\`template_id\`) references \`templates\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`template_versions_template_id_index\` on \`template_versions\` (\`template_id\`);`);
    this.addSql(`create unique index \`template_versions_template_id_version_unique\` on \`template_versions\` (\`template_id\`, \`version\`);`);
  }

}
