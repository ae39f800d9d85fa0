import { Migration } from '@mikro-orm/migrations';

export class Migration20261125182205_accounts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`audit_log\` (\`id\` bigint unsigned not null, \`at\` datetime(3) not null, \`actor_kind\` varchar(16) not null, \`actor\` varchar(300) not null, \`actor_id\` varchar(64) not null, \`action\` varchar(64) not null, \`target\` varchar(255) not null, \`params\` text not null, \`result\` varchar(8) not null, \`code\` int not null, \`source\` varchar(64) not null, \`prev_hash\` varchar(64) not null, \`hash\` varchar(64) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_at_index\`(\`at\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_actor_index\`(\`actor\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_action_index\`(\`action\`);`);
    this.addSql(`alter table \`audit_log\` add index \`audit_log_target_index\`(\`target\`);`);

    this.addSql(`create table \`audit_head\` (\`id\` int unsigned not null, \`seq\` bigint not null, \`hash\` varchar(64) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    // The chain's head starts at the genesis hash; every append updates this one row.
    this.addSql(`insert into \`audit_head\` (\`id\`, \`seq\`, \`hash\`) values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');`);

    this.addSql(`create table \`oauth_clients\` (\`id\` varchar(36) not null, \`name\` varchar(64) not null, \`secret_hash\` varchar(64) not null, \`role\` varchar(64) not null, \`scope_groups\` json not null, \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, \`last_used_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`oauth_clients\` add unique \`oauth_clients_name_unique\`(\`name\`);`);
    this.addSql(`alter table \`oauth_clients\` add index \`oauth_clients_role_index\`(\`role\`);`);

    this.addSql(`create table \`roles\` (\`name\` varchar(64) not null, \`description\` varchar(512) not null default '', \`permissions\` json not null, \`created_by\` varchar(300) not null, \`created_at\` datetime(3) not null, primary key (\`name\`)) default character set utf8mb4 engine = InnoDB;`);

    this.addSql(`create table \`sessions\` (\`id\` varchar(36) not null, \`user_id\` varchar(36) not null, \`created_at\` datetime(3) not null, \`expires_at\` datetime(3) not null, \`revoked_at\` datetime(3) null, \`source\` varchar(64) not null default '', primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`sessions\` add index \`sessions_user_id_index\`(\`user_id\`);`);
    this.addSql(`alter table \`sessions\` add index \`sessions_expires_at_index\`(\`expires_at\`);`);

    this.addSql(`create table \`api_tokens\` (\`id\` varchar(36) not null, \`name\` varchar(64) not null, \`token_hash\` varchar(64) not null, \`owner_id\` varchar(36) not null, \`role\` varchar(64) not null, \`scope_groups\` json not null, \`created_at\` datetime(3) not null, \`last_used_at\` datetime(3) null, \`expires_at\` datetime(3) null, \`revoked_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`api_tokens\` add unique \`api_tokens_token_hash_unique\`(\`token_hash\`);`);
    this.addSql(`alter table \`api_tokens\` add index \`api_tokens_owner_id_index\`(\`owner_id\`);`);
    this.addSql(`alter table \`api_tokens\` add index \`api_tokens_role_index\`(\`role\`);`);

    this.addSql(`alter table \`sessions\` add constraint \`sessions_user_id_foreign\` foreign key (\`user_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);

    this.addSql(`alter table \`api_tokens\` add constraint \`api_tokens_owner_id_foreign\` foreign key (\`owner_id\`) references \`users\` (\`id\`) on update cascade on delete cascade;`);

    // Added nullable, filled, then made NOT NULL: MySQL gives JSON columns no literal default.
    this.addSql(`alter table \`tasks\` add \`secret_env\` json null;`);
    this.addSql(`update \`tasks\` set \`secret_env\` = '{}';`);
    this.addSql(`alter table \`tasks\` modify \`secret_env\` json not null;`);

    this.addSql(`alter table \`users\` add \`scope_groups\` json null, add \`updated_at\` datetime(3) null;`);
    this.addSql(`update \`users\` set \`scope_groups\` = '[]', \`updated_at\` = \`created_at\`;`);
    this.addSql(`alter table \`users\` modify \`scope_groups\` json not null, modify \`updated_at\` datetime(3) not null;`);
    this.addSql(`alter table \`users\` modify \`role\` varchar(64) not null;`);
    this.addSql(`alter table \`users\` add index \`users_role_index\`(\`role\`);`);
  }

}
