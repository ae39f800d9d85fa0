import { Migration } from '@mikro-orm/migrations';

export class Migration20261125200720_output_streams extends Migration {

  override async up(): Promise<void> {
    // Existing output was stored unlabelled; an empty span list reads it as stdout, as before.
    this.addSql(`alter table \`task_runs\` add column \`output_streams\` json not null default '[]';`);
  }

}
