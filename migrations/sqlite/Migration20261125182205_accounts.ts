import { Migration } from '@mikro-orm/migrations';

export class Migration20261125182205_accounts extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`audit_log\` (\`id\` bigint not null, \`at\` datetime not null, \`actor_kind\` text not null, \`actor\` text not null, \`actor_id\` text not null, \`action\` text not null, \`target\` text not null, \`params\` text not null, \`result\` text not null, \`code\` integer not null, \`source\` text not null, \`prev_hash\` text not null, \`hash\` text not null, primary key (\`id\`));`);
    this.addSql(`create index \`audit_log_at_index\` on \`audit_log\` (\`at\`);`);
    this.addSql(`create index \`audit_log_actor_index\` on \`audit_log\` (\`actor\`);`);
    this.addSql(`create index \`audit_log_action_index\` on \`audit_log\` (\`action\`);`);
    this.addSql(`create index \`audit_log_target_index\` on \`audit_log\` (\`target\`);`);

    this.addSql(`create table \`audit_head\` (\`id\` integer not null, \`seq\` bigint not null, \`hash\` text not null, primary key (\`id\`));`);
    // The chain's head starts at the genesis hash; every append updates this one row.
    this.addSql(`insert into \`audit_head\` (\`id\`, \`seq\`, \`hash\`) values (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');`);

    this.addSql(`create table \`oauth_clients\` (\`id\` text not null, \`name\` text not null, \`secret_hash\` text not null, \`role\` text not null, \`scope_groups\` json not null, \`created_by\` text not null, \`created_at\` datetime not null, \`last_used_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create unique index \`oauth_clients_name_unique\` on \`oauth_clients\` (\`name\`);`);
    this.addSql(`create index \`oauth_clients_role_index\` on \`oauth_clients\` (\`role\`);`);

    this.addSql(`create table \`roles\` (\`name\` text not null, \`description\` text not null default '', \`permissions\` json not null, \`created_by\` text not null, \`created_at\` datetime not null, primary key (\`name\`));`);

    this.addSql(`create table \`sessions\` (\`id\` text not null, \`user_id\` text not null, \`created_at\` datetime not null, \`expires_at\` datetime not null, \`revoked_at\` datetime null, \`source\` text not null default '', constraint \`sessions_user_id_foreign\` foreign key(\`user_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create index \`sessions_user_id_index\` on \`sessions\` (\`user_id\`);`);
    this.addSql(`create index \`sessions_expires_at_index\` on \`sessions\` (\`expires_at\`);`);

    this.addSql(`create table \`api_tokens\` (\`id\` text not null, \`name\` text not null, \`token_hash\` text not null, \`owner_id\` text not null, \`role\` text not null, \`scope_groups\` json not null, \`created_at\` datetime not null, \`last_used_at\` datetime null, \`expires_at\` datetime null, \`revoked_at\` datetime null, constraint \`api_tokens_owner_id_foreign\` foreign key(\`owner_id\`) references \`users\`(\`id\`) on delete cascade on update cascade, primary key (\`id\`));`);
    this.addSql(`create unique index \`api_tokens_token_hash_unique\` on \`api_tokens\` (\`token_hash\`);`);
    this.addSql(`create index \`api_tokens_owner_id_index\` on \`api_tokens\` (\`owner_id\`);`);
    this.addSql(`create index \`api_tokens_role_index\` on \`api_tokens\` (\`role\`);`);

    this.addSql(`alter table \`tasks\` add column \`secret_env\` json not null default '{}';`);

    this.addSql(`alter table \`users\` add column \`scope_groups\` json not null default '[]';`);
    this.addSql(`alter table \`users\` add column \`updated_at\` datetime not null default 0;`);
    this.addSql(`update \`users\` set \`updated_at\` = \`created_at\`;`);
    this.addSql(`create index \`users_role_index\` on \`users\` (\`role\`);`);
  }

}
