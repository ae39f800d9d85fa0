import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013149_run_node_name_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create index \`task_runs_node_name_index\` on \`task_runs\` (\`node_name\`);`);
  }

}
