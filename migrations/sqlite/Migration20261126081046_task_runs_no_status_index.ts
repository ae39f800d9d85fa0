import { Migration } from '@mikro-orm/migrations';

// A fan-out changes each run's status three times; an index holding status scattered those
// writes over every page of it. Nothing reads runs by (node, status); node_id keeps its own index.
export class Migration20261126081046_task_runs_no_status_index extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index if exists \`task_runs_node_id_status_index\`;`);
  }

}
