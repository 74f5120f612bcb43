/**
 * Child process of store.test.ts: opens the store at `<dataDir>` (or `<url>`), runs three migration steps
 * of plugin "race" (each holds its transaction a little while), prints the numbers of the steps it applied
 * as one JSON line, and exits. Two of them at once show that each step is applied once.
 *
 * Usage: tsx store-migrate-child.ts <dataDir> [url]
 */
import { openStore, type MigrationStep } from '../../core/store.js';

const [dataDir, url] = process.argv.slice(2);
if (!dataDir) throw new Error('usage: store-migrate-child.ts <dataDir> [url]');
const store = openStore({ dataDir, url });
const applied: number[] = [];
const step = (n: number, body: MigrationStep): MigrationStep => async (db, dialect) => {
  applied.push(n);
  await body(db, dialect);
  await new Promise((resolve) => setTimeout(resolve, 30));
};
await store.forPlugin('race').migrate([
  step(1, (db) => db.schema.createTable('race_a').addColumn('id', 'integer', (c) => c.primaryKey()).execute()),
  step(2, (db) => db.schema.alterTable('race_a').addColumn('note', 'text').execute()),
  step(3, (db) => db.schema.createTable('race_b').addColumn('id', 'text', (c) => c.primaryKey()).execute()),
]);
await store.close();
process.stdout.write(`${JSON.stringify(applied)}\n`);
