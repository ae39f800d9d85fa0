import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000501_templates_schedules extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`schedules\` (\`id\` varchar(36) not null, \`name\` varchar(128) not null, \`cron\` varchar(256) not null, \`tz\` varchar(64) not null default 'UTC', \`template_name\` varchar(128) not null, \`template_version\` int null, \`params\` json not null, \`selector\` json not null, \`rollout\` json null, \`queue\` tinyint(1) not null default false, \`queue_expires_seconds\` int null, \`timeout_seconds\` int null, \`catch_up\` tinyint(1) not null default false, \`paused\` tinyint(1) not null default false, \`paused_reason\` varchar(512) null, \`created_by_id\` varchar(36) not null, \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, \`resumed_at\` datetime(3) null, \`last_fire_at\` datetime(3) null, \`last_task_id\` varchar(36) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`schedules\` add unique \`schedules_name_unique\`(\`name\`);`);
    this.addSql(`alter table \`schedules\` add index \`schedules_template_name_index\`(\`template_name\`);`);

    this.addSql(`create table \`schedule_fires\` (\`id\` varchar(36) not null, \`schedule_id\` varchar(36) not null, \`due_at\` datetime(3) not null, \`fired_at\` datetime(3) not null, \`task_id\` varchar(36) null, \`error\` text null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`schedule_fires\` add index \`schedule_fires_schedule_id_index\`(\`schedule_id\`);`);
    this.addSql(`alter table \`schedule_fires\` add unique \`schedule_fires_schedule_id_due_at_unique\`(\`schedule_id\`, \`due_at\`);`);

    this.addSql(`create table \`templates\` (\`id\` varchar(36) not null, \`name\` varchar(128) not null, \`latest_version\` int not null default 1, \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`templates\` add unique \`templates_name_unique\`(\`name\`);`);

    this.addSql(`create table \`template_versions\` (\`id\` varchar(36) not null, \`template_id\` varchar(36) not null, \`version\` int not null, \`kind\` varchar(16) not null default 'script', \`script\` mediumtext not null, \`interpreter\` varchar(16) not null, \`params\` json not null, \`description\` varchar(1024) not null default '', \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`template_versions\` add index \`template_versions_template_id_index\`(\`template_id\`);`);
    this.addSql(`alter table \`template_versions\` add unique \`template_versions_template_id_version_unique\`(\`template_id\`, \`version\`);`);

    this.addSql(`alter table \`schedule_fires\` add constraint \`schedule_fires_schedule_id_foreign\` foreign key (\`schedule_id\`) references \`schedules\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`template_versions\` add constraint \`template_versions_template_id_foreign\` foreign key (\`template_id\`) references \`templates\` (\`id\`) on update cascade on delete cascade;`);
  }

}
