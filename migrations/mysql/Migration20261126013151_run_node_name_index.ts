import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013151_run_node_name_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`task_runs\` add index \`task_runs_node_name_index\`(\`node_name\`);`);
  }

}
