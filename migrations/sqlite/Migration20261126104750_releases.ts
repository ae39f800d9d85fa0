import { Migration } from '@mikro-orm/migrations';

export class Migration20261126104750_releases extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`releases\` (\`id\` text not null, \`version\` text not null, \`component\` text not null, \`platform\` text not null, \`arch\` text not null, \`file\` text not null, \`size\` double not null, \`sha256\` text not null, \`manifest\` text not null, \`signature\` text not null, \`key_id\` text not null, \`created_at\` datetime not null, \`expires_at\` datetime not null, \`notes\` text not null default '', \`uploaded_at\` datetime not null, \`uploaded_by\` text not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`releases_version_platform_arch_unique\` on \`releases\` (\`version\`, \`platform\`, \`arch\`);`);

    this.addSql(`create table \`rollouts\` (\`id\` text not null, \`version\` text not null, \`selector\` json not null, \`canary\` integer not null, \`batch\` text not null, \`max_fail\` text not null, \`health_seconds\` integer not null, \`state\` text not null, \`current_wave\` integer not null default 0, \`phase_started_at\` datetime not null, \`stop_reason\` text not null default '', \`created_by\` text not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`finished_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create index \`rollouts_state_index\` on \`rollouts\` (\`state\`);`);
    this.addSql(`create index \`rollouts_created_at_index\` on \`rollouts\` (\`created_at\`);`);

    this.addSql(`create table \`rollout_hosts\` (\`id\` text not null, \`rollout_id\` text not null, \`node_id\` text not null, \`node_name\` text not null, \`wave\` integer not null, \`platform\` text not null, \`arch\` text not null, \`state\` text not null, \`from_version\` text not null default '', \`message\` text not null default '', \`sent_at\` datetime null, \`revert_sent_at\` datetime null, \`updated_at\` datetime not null, constraint \`rollout_hosts_rollout_id_foreign\` foreign key(\`rollout_id\`) references \`rollouts\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`rollout_hosts_rollout_id_index\` on \`rollout_hosts\` (\`rollout_id\`);`);
    this.addSql(`create index \`rollout_hosts_node_id_index\` on \`rollout_hosts\` (\`node_id\`);`);
    this.addSql(`create unique index \`rollout_hosts_rollout_id_node_id_unique\` on \`rollout_hosts\` (\`rollout_id\`, \`node_id\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`rollout_hosts\`;`);
    this.addSql(`drop table if exists \`rollouts\`;`);
    this.addSql(`drop table if exists \`releases\`;`);
  }

}
