import { Migration } from '@mikro-orm/migrations';

// A task's events are stored a batch per row (task_event_blocks: a JSON array of whole events)
// instead of an event per row: a 10,000-host fan-out logs 40,000 events, and inserting their rows
// cost more than everything else it writes. Every stored event becomes a block of its own.
export class Migration20261126232022_task_event_blocks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`task_event_blocks\` (\`task_id\` varchar(36) not null, \`last_seq\` int unsigned not null, \`first_seq\` int not null, \`events\` mediumtext not null, primary key (\`task_id\`, \`last_seq\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`task_event_blocks\` add constraint \`task_event_blocks_task_id_foreign\` foreign key (\`task_id\`) references \`tasks\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`insert into \`task_event_blocks\` (\`task_id\`, \`last_seq\`, \`first_seq\`, \`events\`) select \`task_id\`, \`seq\`, \`seq\`, concat('[', json_set(\`body\`, '$.type', \`type\`, '$.seq', \`seq\`), ']') from \`task_events\`;`);
    this.addSql(`drop table if exists \`task_events\`;`);
  }

  override async down(): Promise<void> {
    this.addSql(`create table \`task_events\` (\`task_id\` varchar(36) not null, \`seq\` int unsigned not null, \`run_id\` varchar(36) null, \`type\` varchar(16) not null, \`body\` json not null, primary key (\`task_id\`, \`seq\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`task_events\` add constraint \`task_events_task_id_foreign\` foreign key (\`task_id\`) references \`tasks\` (\`id\`) on update cascade on delete cascade;`);
    this.addSql(`insert into \`task_events\` (\`task_id\`, \`seq\`, \`run_id\`, \`type\`, \`body\`) select b.\`task_id\`, e.\`seq\`, e.\`run_id\`, e.\`type\`, json_remove(json_extract(b.\`events\`, concat('$[', e.\`n\` - 1, ']')), '$.type', '$.seq') from \`task_event_blocks\` b, json_table(b.\`events\`, '$[*]' columns (\`n\` for ordinality, \`seq\` int path '$.seq', \`run_id\` varchar(36) path '$.runId', \`type\` varchar(16) path '$.type')) e;`);
    this.addSql(`drop table if exists \`task_event_blocks\`;`);
  }

}
