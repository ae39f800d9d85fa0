import { Migration } from '@mikro-orm/migrations';

// A task's events are stored a batch per row (task_event_blocks: a JSON array of whole events)
// instead of an event per row: a 10,000-host fan-out logs 40,000 events, and inserting their rows
// cost more than everything else it writes. Every stored event becomes a block of its own.
export class Migration20261126232021_task_event_blocks extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`task_event_blocks\` (\`task_id\` text not null, \`last_seq\` integer not null, \`first_seq\` integer not null, \`events\` mediumtext not null, constraint \`task_event_blocks_task_id_foreign\` foreign key(\`task_id\`) references \`tasks\`(\`id\`) on delete cascade on update cascade, primary key (\`task_id\`, \`last_seq\`));`);
    this.addSql(`insert into \`task_event_blocks\` (\`task_id\`, \`last_seq\`, \`first_seq\`, \`events\`) select \`task_id\`, \`seq\`, \`seq\`, '[' || json_set(\`body\`, '$.type', \`type\`, '$.seq', \`seq\`) || ']' from \`task_events\`;`);
    this.addSql(`drop table if exists \`task_events\`;`);
  }

}
