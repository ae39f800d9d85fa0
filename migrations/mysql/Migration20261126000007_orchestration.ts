import { Migration } from '@mikro-orm/migrations';

export class Migration20261126000007_orchestration extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`task_events\` (\`task_id\` varchar(36) not null, \`seq\` int unsigned not null, \`run_id\` varchar(36) null, \`type\` varchar(16) not null, \`body\` json not null, primary key (\`task_id\`, \`seq\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`task_events\` add index \`task_events_task_id_index\`(\`task_id\`);`);
    this.addSql(`alter table \`task_events\` add constraint \`task_events_task_id_foreign\` foreign key (\`task_id\`) references \`tasks\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`tasks\` add \`rollout\` json null, add \`queue_expires_at\` datetime(3) null, add \`stop_reason\` text null, add \`template_name\` varchar(128) null, add \`template_version\` int null, add \`schedule_name\` varchar(128) null;`);
    this.addSql(`alter table \`tasks\` add index \`tasks_template_name_index\`(\`template_name\`);`);
    this.addSql(`alter table \`tasks\` add index \`tasks_schedule_name_index\`(\`schedule_name\`);`);

    this.addSql(`alter table \`task_runs\` add \`wave\` int not null default 0, add \`last_seq\` int not null default 0;`);
  }

}
