import { Migration } from '@mikro-orm/migrations';

// A fan-out changes each run's status three times; an index holding status scattered those
// writes over every page of it. Nothing reads runs by (node, status); node_id keeps its own index.
export class Migration20261126081047_task_runs_no_status_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`task_runs\` drop index \`task_runs_node_id_status_index\`;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`task_runs\` add index \`task_runs_node_id_status_index\`(\`node_id\`, \`status\`);`);
  }

}
