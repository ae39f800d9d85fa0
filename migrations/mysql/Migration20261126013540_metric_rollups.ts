import { Migration } from '@mikro-orm/migrations';

export class Migration20261126013540_metric_rollups extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`metric_rollups\` (\`id\` int unsigned not null auto_increment primary key, \`node_id\` varchar(36) not null, \`step_seconds\` int not null, \`at\` datetime(3) not null, \`count\` int not null, \`rate_count\` int not null, \`cpu_min\` double not null default 0, \`cpu_max\` double not null default 0, \`cpu_sum\` double not null default 0, \`mem_min\` double not null default 0, \`mem_max\` double not null default 0, \`mem_sum\` double not null default 0, \`load1_min\` double not null default 0, \`load1_max\` double not null default 0, \`load1_sum\` double not null default 0, \`disk_min\` double not null default 0, \`disk_max\` double not null default 0, \`disk_sum\` double not null default 0, \`net_rx_min\` double not null default 0, \`net_rx_max\` double not null default 0, \`net_rx_sum\` double not null default 0, \`net_tx_min\` double not null default 0, \`net_tx_max\` double not null default 0, \`net_tx_sum\` double not null default 0) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`metric_rollups\` add index \`metric_rollups_node_id_index\`(\`node_id\`);`);
    this.addSql(`alter table \`metric_rollups\` add index \`metric_rollups_step_seconds_at_index\`(\`step_seconds\`, \`at\`);`);
    this.addSql(`alter table \`metric_rollups\` add unique \`metric_rollups_node_id_step_seconds_at_unique\`(\`node_id\`, \`step_seconds\`, \`at\`);`);

    this.addSql(`alter table \`metric_rollups\` add constraint \`metric_rollups_node_id_foreign\` foreign key (\`node_id\`) references \`nodes\` (\`id\`) on update cascade on delete cascade;`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`metric_rollups\`;`);
  }

}
