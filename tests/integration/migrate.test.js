'use strict';
// `parleyd migrate`: applies migrations once, is idempotent, and is safe when
// two processes race on the same fresh database.

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { startBarrierProxy } = require('../helpers/pg');
const { runParleyd } = require('../helpers/parleyd');
const { suite } = require('../helpers/suite');

// Only the cluster: the tests run `parleyd migrate` themselves.
const fx = suite({ nodes: 0 });
let firstRows;

function out(r) {
  return `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr.slice(-6000)}`;
}

/** All schema_migrations rows, as JSON text (keeps microseconds), ordered. */
async function migrationRows(database) {
  const r = await fx.pg.query('SELECT to_jsonb(m)::text AS j FROM schema_migrations m ORDER BY 1', undefined, { database });
  return r.rows.map((row) => row.j);
}

/** The column that identifies a migration: `version` if there is one, else the first. */
async function keyColumn(database) {
  const r = await fx.pg.query(
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

test('migrate on an empty database exits 0 and records the migrations', { timeout: 60000 }, async () => {
  const before = await fx.pg.query("SELECT to_regclass('schema_migrations') AS t");
  assert.equal(before.rows[0].t, null, 'the database should start empty');

  const r = await runParleyd(['migrate'], { databaseUrl: fx.pg.url });
  assert.equal(r.code, 0, out(r));

  firstRows = await migrationRows(fx.pg.database);
  assert.ok(firstRows.length >= 1, 'schema_migrations has no rows after migrate');
  const key = await keyColumn(fx.pg.database);
  const dup = await fx.pg.query(`SELECT ${key}::text AS k, count(*)::int AS n FROM schema_migrations GROUP BY 1 HAVING count(*) > 1`);
  assert.deepEqual(dup.rows, [], 'a migration is recorded twice');
  const tables = await fx.pg.query("SELECT to_regclass('agents') AS a, to_regclass('agent_sessions') AS s");
  assert.ok(tables.rows[0].a && tables.rows[0].s, 'agents / agent_sessions tables missing after migrate');
});

test('migrate again exits 0 and changes nothing', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the previous test');
  const r = await runParleyd(['migrate'], { databaseUrl: fx.pg.url });
  assert.equal(r.code, 0, out(r));
  const rows = await migrationRows(fx.pg.database);
  assert.equal(rows.length, firstRows.length, 'row count changed');
  assert.deepEqual(rows, firstRows, 'schema_migrations rows (e.g. applied_at) changed on the second run');
});

test('two migrate processes started together on a fresh database both succeed, migrations applied once', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the first test');
  const key = await keyColumn(fx.pg.database);
  const expected = (await fx.pg.query(`SELECT ${key}::text AS k FROM schema_migrations ORDER BY 1`)).rows.map((x) => x.k);

  // A few rounds, each on its own fresh database. The two processes reach the
  // database through a proxy that holds their first connections until both
  // have connected, so that their migrations really run at the same time.
  for (let round = 1; round <= 3; round++) {
    const db = `race_${round}`;
    await fx.pg.createDatabase(db);
    const proxy = await startBarrierProxy(fx.pg.port, { parties: 2, timeoutMs: 5000 });
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
    const got = (await fx.pg.query(`SELECT ${key}::text AS k FROM schema_migrations ORDER BY 1`, undefined, { database: db })).rows.map((x) => x.k);
    assert.deepEqual(got, expected, `round ${round}: schema_migrations differs from a single sequential migrate`);
  }
});

test('an applied migration that was edited stops migrate, naming it; history is left untouched', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the first test');
  const db = 'edited_history';
  const url = await fx.pg.createDatabase(db);
  assert.equal((await runParleyd(['migrate'], { databaseUrl: url })).code, 0);
  const sums = await fx.pg.query('SELECT version, checksum FROM schema_migrations ORDER BY version', undefined, { database: db });
  assert.ok(
    sums.rows.every((r) => /^[0-9a-f]{64}$/.test(r.checksum)),
    'every migration has a SHA-256 checksum',
  );
  // What a database looks like whose migration 0002 was applied from a
  // different file than the one this binary carries.
  await fx.pg.query("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 2", undefined, { database: db });
  const r = await runParleyd(['migrate'], { databaseUrl: url });
  assert.notEqual(r.code, 0, out(r));
  assert.match(r.stderr, /migrations are history/);
  assert.match(r.stderr, /0002_realtime/);
  // A row recorded before checksums existed adopts the file's.
  await fx.pg.query('UPDATE schema_migrations SET checksum = NULL WHERE version = 2', undefined, { database: db });
  assert.equal((await runParleyd(['migrate'], { databaseUrl: url })).code, 0);
  const adopted = await fx.pg.query('SELECT checksum FROM schema_migrations WHERE version = 2', undefined, { database: db });
  assert.equal(adopted.rows[0].checksum, sums.rows.find((x) => Number(x.version) === 2).checksum);
});

test('functions are re-applied when they differ from the binary, without a migration', { timeout: 60000 }, async () => {
  assert.ok(firstRows, 'depends on the first test');
  const iso = "SELECT parley_iso('2026-01-02 03:04:05.678901+00'::timestamptz) AS t";
  assert.equal((await fx.pg.query(iso)).rows[0].t, '2026-01-02T03:04:05.678901Z');
  // A function changed behind the binary's back, as an older binary's would be.
  await fx.pg.query("CREATE OR REPLACE FUNCTION parley_iso(ts timestamptz) RETURNS text LANGUAGE sql AS $$ SELECT 'stale' $$");
  await fx.pg.query("UPDATE schema_functions SET checksum = 'older'");
  const before = (await fx.pg.query('SELECT version, checksum FROM schema_migrations ORDER BY version')).rows;
  const r = await runParleyd(['migrate'], { databaseUrl: fx.pg.url });
  assert.equal(r.code, 0, out(r));
  assert.match(r.stdout + r.stderr, /schema functions applied/);
  assert.equal((await fx.pg.query(iso)).rows[0].t, '2026-01-02T03:04:05.678901Z', "the binary's parley_iso is back");
  assert.deepEqual((await fx.pg.query('SELECT version, checksum FROM schema_migrations ORDER BY version')).rows, before, 'no migration ran');
  // Unchanged functions are not re-applied.
  const again = await runParleyd(['migrate'], { databaseUrl: fx.pg.url });
  assert.doesNotMatch(again.stdout + again.stderr, /schema functions applied/);
});
