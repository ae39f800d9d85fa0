import { Migration } from '@mikro-orm/migrations';

export class Migration20261126104751_releases extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`releases\` (\`id\` varchar(36) not null, \`version\` varchar(64) not null, \`component\` varchar(16) not null, \`platform\` varchar(32) not null, \`arch\` varchar(32) not null, \`file\` varchar(255) not null, \`size\` double not null, \`sha256\` varchar(64) not null, \`manifest\` text not null, \`signature\` varchar(128) not null, \`key_id\` varchar(32) not null, \`created_at\` datetime(3) not null, \`expires_at\` datetime(3) not null, \`notes\` text not null default (''), \`uploaded_at\` datetime(3) not null, \`uploaded_by\` varchar(300) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`releases\` add unique \`releases_version_platform_arch_unique\`(\`version\`, \`platform\`, \`arch\`);`);

    this.addSql(`create table \`rollouts\` (\`id\` varchar(36) not null, \`version\` varchar(64) not null, \`selector\` json not null, \`canary\` int not null, \`batch\` varchar(16) not null, \`max_fail\` varchar(16) not null, \`health_seconds\` int not null, \`state\` varchar(16) not null, \`current_wave\` int not null default 0, \`phase_started_at\` datetime(3) not null, \`stop_reason\` text not null default (''), \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, \`finished_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`rollouts\` add index \`rollouts_state_index\`(\`state\`);`);
    this.addSql(`alter table \`rollouts\` add index \`rollouts_created_at_index\`(\`created_at\`);`);

    this.addSql(`create table \`rollout_hosts\` (\`id\` varchar(36) not null, \`rollout_id\` varchar(36) not null, \`node_id\` varchar(36) not null, \`node_name\` varchar(253) not null, \`wave\` int not null, \`platform\` varchar(32) not null, \`arch\` varchar(32) not null, \`state\` varchar(16) not null, \`from_version\` varchar(64) not null default '', \`message\` text not null default (''), \`sent_at\` datetime(3) null, \`revert_sent_at\` datetime(3) null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`rollout_hosts\` add index \`rollout_hosts_rollout_id_index\`(\`rollout_id\`);`);
    this.addSql(`alter table \`rollout_hosts\` add index \`rollout_hosts_node_id_index\`(\`node_id\`);`);
    this.addSql(`alter table \`rollout_hosts\` add unique \`rollout_hosts_rollout_id_node_id_unique\`(\`rollout_id\`, \`node_id\`);`);

    this.addSql(`alter table \`rollout_hosts\` add constraint \`rollout_hosts_rollout_id_foreign\` foreign key (\`rollout_id\`) references \`rollouts\` (\`id\`) on update cascade on delete cascade;`);
  }


  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`rollout_hosts\`;`);
    this.addSql(`drop table if exists \`rollouts\`;`);
    this.addSql(`drop table if exists \`releases\`;`);
  }

}
