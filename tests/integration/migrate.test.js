'use strict';
// `parleyd migrate`: applies migrations once, is idempotent, and is safe when
// two processes race on the same fresh database.

const { before, after, test } = require('node:test');
const assert = require('node:assert/strict');

const { startCluster, startBarrierProxy } = require('../helpers/pg');
const { runParleyd } = require('../helpers/parleyd');

let pg;
let firstRows;

function out(r) {
  return `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-6000)}`;
}

/** All schema_migrations rows, as JSON text (keeps microseconds), ordered. */
async function migrationRows(database) {
  const r = await pg.query('SELECT to_jsonb(m)::text AS j FROM schema_migrations m ORDER BY 1', undefined, { database });
  return r.rows.map((row) => row.j);
}

/** The column that identifies a migration: `version` if there is one, else the first. */
async function keyColumn(database) {
  const r = await pg.query(
    `SELECT column_name FROM information_schema.columns
      WHERE table_name = 'schema_migrations' AND table_schema = current_schema()
      ORDER BY ordinal_position`,
    undefined,
    { database },
  );
  const cols = r.rows.map((x) => x.column_name);
  assert.ok(cols.length > 0, 'schema_migrations has no columns');
  return cols.includes('version') ? 'version' : cols[0];
}

before(async () => {
  pg = await startCluster();
}, { timeout: 60000 });

after(async () => {
  if (pg) await pg.stop();
});

test('migrate on an empty database exits 0 and records the migrations', { timeout: 60000 }, async () => {
  const before = await pg.query("SELECT to_regclass('schema_migrations') AS t");
  assert.equal(before.rows[0].t, null, 'the database should start empty');

  const r = await runParleyd(['migrate'], { databaseUrl: pg.url });
  assert.equal(r.code, 0, out(r));

  firstRows = await migrationRows(pg.database);
  assert.ok(firstRows.length >= 1, 'schema_migrations has no rows after migrate');
  const key = await keyColumn(pg.database);
  const dup = await pg.query(`SELECT ${key}::text AS k, count(*)::int AS n FROM schema_migrations GROUP BY 1 HAVING count(*) > 1`);
  assert.deepEqual(dup.rows, [], 'a migration is recorded twice');
  const tables = await pg.query("SELECT to_regclass('agents') AS a, to_regclass('agent_sessions') AS s");
  assert.ok(tables.rows[0].a && tables.rows[0].s, 'agents / agent_sessions tables missing after migrate');
});

test('migrate again exits 0 and changes nothing', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the previous test');
  const r = await runParleyd(['migrate'], { databaseUrl: pg.url });
  assert.equal(r.code, 0, out(r));
  const rows = await migrationRows(pg.database);
  assert.equal(rows.length, firstRows.length, 'row count changed');
  assert.deepEqual(rows, firstRows, 'schema_migrations rows (e.g. applied_at) changed on the second run');
});

test('two migrate processes started together on a fresh database both succeed, migrations applied once', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the first test');
  const key = await keyColumn(pg.database);
  const expected = (await pg.query(`SELECT ${key}::text AS k FROM schema_migrations ORDER BY 1`)).rows.map((x) => x.k);

  // A few rounds, each on its own fresh database. The two processes reach the
  // database through a proxy that holds their first connections until both
  // have connected, so that their migrations really run at the same time.
  for (let round = 1; round <= 3; round++) {
    const db = `race_${round}`;
    await pg.createDatabase(db);
    const proxy = await startBarrierProxy(pg.port, { parties: 2, timeoutMs: 5000 });
    let a;
    let b;
    try {
      const url = proxy.urlFor(db);
      [a, b] = await Promise.all([runParleyd(['migrate'], { databaseUrl: url }), runParleyd(['migrate'], { databaseUrl: url })]);
    } finally {
      await proxy.close();
    }
    assert.equal(a.code, 0, `round ${round}, first process: ${out(a)}`);
    assert.equal(b.code, 0, `round ${round}, second process: ${out(b)}`);
    const got = (await pg.query(`SELECT ${key}::text AS k FROM schema_migrations ORDER BY 1`, undefined, { database: db })).rows.map((x) => x.k);
    assert.deepEqual(got, expected, `round ${round}: schema_migrations differs from a single sequential migrate`);
  }
});
