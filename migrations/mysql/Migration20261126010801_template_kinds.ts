import { Migration } from '@mikro-orm/migrations';

export class Migration20261126010801_template_kinds extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`template_versions\` add column \`task_params\` json null;`);
  }

}
