import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013035_metric_rollups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`metric_rollups\` (\`id\` integer not null primary key autoincrement, \`node_id\` text not null, \`step_seconds\` integer not null, \`metric\` text not null, \`at\` datetime not null, \`min\` double not null, \`max\` double not null, \`sum\` double not null, \`count\` integer not null, constraint \`metric_rollups_node_id_foreign\` foreign key(\`node_id\`) references \`nodes\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`metric_rollups_node_id_index\` on \`metric_rollups\` (\`node_id\`);`);
    this.addSql(`create index \`metric_rollups_step_seconds_at_index\` on \`metric_rollups\` (\`step_seconds\`, \`at\`);`);
    this.addSql(`create unique index \`metric_rollups_node_id_step_seconds_metric_at_unique\` on \`metric_rollups\` (\`node_id\`, \`step_seconds\`, \`metric\`, \`at\`);`);

  }

}
