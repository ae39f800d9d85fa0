import { Migration } from '@mikro-orm/migrations';

export class Migration20261125043921_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`enrollment_tokens\` (\`id\` varchar(36) not null, \`token_hash\` varchar(64) not null, \`uses\` int not null, \`used\` int not null default 0, \`expires_at\` datetime(3) not null, \`created_by\` varchar(128) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`enrollment_tokens\` add unique \`enrollment_tokens_token_hash_unique\`(\`token_hash\`);`);

    this.addSql(`create table \`nodes\` (\`id\` varchar(36) not null, \`name\` varchar(253) not null, \`status\` varchar(16) not null default 'offline', \`labels\` json not null, \`groups\` json not null, \`facts\` json null, \`metrics\` json null, \`agent_version\` varchar(64) not null default '', \`agent_status\` varchar(32) not null default 'unknown', \`hostd_version\` varchar(64) not null default '', \`address\` varchar(255) not null default '', \`cert_fingerprint\` varchar(64) null, \`cert_serial\` varchar(128) null, \`cert_expires_at\` datetime(3) null, \`last_seen_at\` datetime(3) null, \`enrolled_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`nodes\` add unique \`nodes_name_unique\`(\`name\`);`);
    this.addSql(`alter table \`nodes\` add index \`nodes_status_index\`(\`status\`);`);
    this.addSql(`alter table \`nodes\` add index \`nodes_last_seen_at_index\`(\`last_seen_at\`);`);

    this.addSql(`create table \`metric_samples\` (\`id\` int unsigned not null auto_increment primary key, \`node_id\` varchar(36) not null, \`at\` datetime(3) not null, \`cpu_percent\` double not null, \`mem_used_bytes\` bigint not null, \`mem_total_bytes\` bigint not null, \`load1\` double not null, \`load5\` double not null, \`load15\` double not null, \`net_rx_bytes\` bigint not null, \`net_tx_bytes\` bigint not null, \`disks\` json not null) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`metric_samples\` add index \`metric_samples_node_id_index\`(\`node_id\`);`);
    this.addSql(`alter table \`metric_samples\` add index \`metric_samples_node_id_at_index\`(\`node_id\`, \`at\`);`);

    this.addSql(`create table \`tasks\` (\`id\` varchar(36) not null, \`script\` mediumtext not null, \`interpreter\` varchar(16) not null, \`timeout_seconds\` int not null, \`env\` json not null, \`selector\` json not null, \`status\` varchar(16) not null default 'running', \`created_by\` varchar(128) not null, \`created_at\` datetime(3) not null, \`finished_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`tasks\` add index \`tasks_status_index\`(\`status\`);`);
    this.addSql(`alter table \`tasks\` add index \`tasks_created_at_index\`(\`created_at\`);`);

    this.addSql(`create table \`task_runs\` (\`id\` varchar(36) not null, \`task_id\` varchar(36) not null, \`node_id\` varchar(36) null, \`node_name\` varchar(253) not null, \`status\` varchar(16) not null default 'pending', \`exit_code\` int null, \`error\` text null, \`dispatched_at\` datetime(3) null, \`started_at\` datetime(3) null, \`finished_at\` datetime(3) null, \`duration_ms\` int null, \`output\` mediumtext not null, \`output_truncated\` tinyint(1) not null default false, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`task_runs\` add index \`task_runs_task_id_index\`(\`task_id\`);`);
    this.addSql(`alter table \`task_runs\` add index \`task_runs_node_id_index\`(\`node_id\`);`);
    this.addSql(`alter table \`task_runs\` add index \`task_runs_node_id_status_index\`(\`node_id\`, \`status\`);`);
    this.addSql(`alter table \`task_runs\` add unique \`task_runs_task_id_node_id_unique\`(\`task_id\`, \`node_id\`);`);

    this.addSql(`create table \`users\` (\`id\` varchar(36) not null, \`username\` varchar(128) not null, \`password_hash\` varchar(255) not null, \`role\` varchar(32) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`users\` add unique \`users_username_unique\`(\`username\`);`);

    this.addSql(`alter table \`metric_samples\` add constraint \`metric_samples_node_id_foreign\` foreign key (\`node_id\`) references \`nodes\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`task_runs\` add constraint \`task_runs_task_id_foreign\` foreign key (\`task_id\`) references \`tasks\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`alter table \`task_runs\` add constraint \`task_runs_node_id_foreign\` foreign key (\`node_id\`) references \`nodes\` (\`id\`) on update cascade on delete set null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`metric_samples\` drop foreign key \`metric_samples_node_id_foreign\`;`);

    this.addSql(`alter table \`task_runs\` drop foreign key \`task_runs_node_id_foreign\`;`);

    this.addSql(`alter table \`task_runs\` drop foreign key \`task_runs_task_id_foreign\`;`);

    this.addSql(`drop table if exists \`enrollment_tokens\`;`);

    this.addSql(`drop table if exists \`nodes\`;`);

    this.addSql(`drop table if exists \`metric_samples\`;`);

    this.addSql(`drop table if exists \`tasks\`;`);

    this.addSql(`drop table if exists \`task_runs\`;`);

    this.addSql(`drop table if exists \`users\`;`);
  }

}
