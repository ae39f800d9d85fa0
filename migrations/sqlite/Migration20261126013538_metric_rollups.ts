import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013538_metric_rollups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`metric_rollups\` (\`id\` integer not null primary key autoincrement, \`node_id\` text not null, \`step_seconds\` integer not null, \`at\` datetime not null, \`count\` integer not null, \`rate_count\` integer not null, \`cpu_min\` double not null default 0, \`cpu_max\` double not null default 0, \`cpu_sum\` double not null default 0, \`mem_min\` double not null default 0, \`mem_max\` double not null default 0, \`mem_sum\` double not null default 0, \`load1_min\` double not null default 0, \`load1_max\` double not null default 0, \`load1_sum\` double not null default 0, \`disk_min\` double not null default 0, \`disk_max\` double not null default 0, \`disk_sum\` double not null default 0, \`net_rx_min\` double not null default 0, \`net_rx_max\` double not null default 0, \`net_rx_sum\` double not null default 0, \`net_tx_min\` double not null default 0, \`net_tx_max\` double not null default 0, \`net_tx_sum\` double not null default 0, constraint \`metric_rollups_node_id_foreign\` foreign key(\`node_id\`) references \`nodes\`(\`id\`) on delete cascade on update cascade);`);
    this.addSql(`create index \`metric_rollups_node_id_index\` on \`metric_rollups\` (\`node_id\`);`);
    this.addSql(`create index \`metric_rollups_step_seconds_at_index\` on \`metric_rollups\` (\`step_seconds\`, \`at\`);`);
    this.addSql(`create unique index \`metric_rollups_node_id_step_seconds_at_unique\` on \`metric_rollups\` (\`node_id\`, \`step_seconds\`, \`at\`);`);

  }

}
