import { Migration } from '@mikro-orm/migrations';

/**
 * Enrollment looks a name up regardless of case (`lower(name) = ?`); without this index that was a
 * scan of every node per enrollment. MySQL needs none: its collation is case-insensitive, so the
 * unique index on name serves `name = ?`. Not in the entity metadata (an expression index): drop
 * any `drop index nodes_name_lower_index` a generated migration proposes.
 */
export class Migration20261126060000_node_name_lower extends Migration {
  override async up(): Promise<void> {
    this.addSql('create index `nodes_name_lower_index` on `nodes` (lower(`name`));');
  }
}
