import { Migration } from '@mikro-orm/migrations';

export class Migration20261125043921_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`enrollment_tokens\` (\`id\` text not null, \`token_hash\` text not null, \`uses\` integer not null, \`used\` integer not null default 0, \`expires_at\` datetime not null, \`created_by\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`enrollment_tokens_token_hash_unique\` on \`enrollment_tokens\` (\`token_hash\`);`);

    this.addSql(`create table \`nodes\` (\`id\` text not null, \`name\` text not null, \`status\` text not null default 'offline', \`labels\` json not null, \`groups\` json not null, \`facts\` json null, \`metrics\` json null, \`agent_version\` text not null default '', \`agent_status\` text not null default 'unknown', \`hostd_version\` text not null default '', \`address\` text not null default '', \`cert_fingerprint\` text null, \`cert_serial\` text null, \`cert_expires_at\` datetime null, \`last_seen_at\` datetime null, \`enrolled_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`nodes_name_unique\` on \`nodes\` (\`name\`);`);
    this.addSql(`create index \`nodes_status_index\` on \`nodes\` (\`status\`);`);
    this.addSql(`create index \`nodes_last_seen_at_index\` on \`nodes\` (\`last_seen_at\`);`);

    this.addSql(`create table \`metric_samples\` (\`id\` integer not null primary key autoincrement, \`node_id\` text not null, \`at\` datetime not null, \`cpu_percent\` double not null, \`mem_used_bytes\` bigint not null, \`mem_total_bytes\` bigint not null, \`load1\` double not null, \`load5\` double not null, \`load15\` double not null, \`net_rx_bytes\` bigint not null, \`net_tx_bytes\` bigint not null, \`disks\` json not null, constraint \`metric_samples_node_id_foreign\` foreign key(\`node_id\`) references \`nodes\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`metric_samples_node_id_index\` on \`metric_samples\` (\`node_id\`);`);
    this.addSql(`create index \`metric_samples_node_id_at_index\` on \`metric_samples\` (\`node_id\`, \`at\`);`);

    this.addSql(`create table \`tasks\` (\`id\` text not null, \`script\` mediumtext not null, \`interpreter\` text not null, \`timeout_seconds\` integer not null, \`env\` json not null, \`selector\` json not null, \`status\` text not null default 'running', \`created_by\` text not null, \`created_at\` datetime not null, \`finished_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create index \`tasks_status_index\` on \`tasks\` (\`status\`);`);
    this.addSql(`create index \`tasks_created_at_index\` on \`tasks\` (\`created_at\`);`);

    this.addSql(`create table \`task_runs\` (\`id\` text not null, \`task_id\` text not null, \`node_id\` text null, \`node_name\` text not null, \`status\` text not null default 'pending', \`exit_code\` integer null, \`error\` text null, \`dispatched_at\` datetime null, \`started_at\` datetime null, \`finished_at\` datetime null, \`duration_ms\` integer null, \`output\` mediumtext not null, \`output_truncated\` integer not null default false, constraint \`task_runs_task_id_foreign\` foreign key(\`task_id\`) references \`tasks\`(\`id\`) on delete cascade on update cascade, constraint \`task_runs_node_id_foreign\` foreign key(\`node_id\`) references \`nodes\`(\`id\`) on delete set null on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`task_runs_task_id_index\` on \`task_runs\` (\`task_id\`);`);
    this.addSql(`create index \`task_runs_node_id_index\` on \`task_runs\` (\`node_id\`);`);
    this.addSql(`create index \`task_runs_node_id_status_index\` on \`task_runs\` (\`node_id\`, \`status\`);`);
    this.addSql(`create unique index \`task_runs_task_id_node_id_unique\` on \`task_runs\` (\`task_id\`, \`node_id\`);`);

    this.addSql(`create table \`users\` (\`id\` text not null, \`username\` text not null, \`password_hash\` text not null, \`role\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`users_username_unique\` on \`users\` (\`username\`);`);
  }

}
