import { Migration } from '@mikro-orm/migrations';

// The task_id indexes of task_runs and task_events repeat the first column of the unique
// (task_id, node_id) index and of the primary key (task_id, seq), which also serve the foreign
// keys: every run and event paid for one more B-tree on insert, for nothing.
export class Migration20261126203937_task_fk_indexes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`task_runs\` drop index \`task_runs_task_id_index\`;`);
    this.addSql(`alter table \`task_events\` drop index \`task_events_task_id_index\`;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`task_runs\` add index \`task_runs_task_id_index\`(\`task_id\`);`);
    this.addSql(`alter table \`task_events\` add index \`task_events_task_id_index\`(\`task_id\`);`);
  }

}
