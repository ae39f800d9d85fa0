import { Migration } from '@mikro-orm/migrations';

export class Migration20261125200720_output_streams extends Migration {

  override async up(): Promise<void> {
    // Added nullable, filled, then made NOT NULL: MySQL gives JSON columns no literal default.
    // Existing output was stored unlabelled; an empty span list reads it as stdout, as before.
    this.addSql(`alter table \`task_runs\` add \`output_streams\` json null;`);
    this.addSql(`update \`task_runs\` set \`output_streams\` = '[]';`);
    this.addSql(`alter table \`task_runs\` modify \`output_streams\` json not null;`);
  }

}
