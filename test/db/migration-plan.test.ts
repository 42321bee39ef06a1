import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  loadMigrations,
  planAutoMigration,
  planMigrationRun,
  readDeclaredPhase,
  requiredSchemaLevel,
  type MigrationFile,
  type MigrationPhase,
  type RegisteredInstance,
} from '../../src/db/index.js';

const m = (version: number, phase: MigrationPhase | undefined): MigrationFile => ({ version, name: `${String(version).padStart(3, '0')}.do.m.sql`, phase, sql: '' });
const now = new Date('2026-11-29T09:00:00Z');
const instance = (id: string, schemaLevel: number, secondsAgo: number): RegisteredInstance => ({
  id,
  version: `v${schemaLevel}`,
  schemaLevel,
  host: 'h',
  startedAt: new Date(now.getTime() - 3_600_000),
  lastSeenAt: new Date(now.getTime() - secondsAgo * 1000),
  staleAfterSeconds: 45,
});

describe('migration phases (pure)', () => {
  test('the header on the first line declares the phase; 001–005 are grandfathered; a typo is an error', () => {
    assert.equal(readDeclaredPhase(7, '-- phase: contract\nDROP TABLE x;'), 'contract');
    assert.equal(readDeclaredPhase(7, '--phase:expand\n'), 'expand');
    assert.equal(readDeclaredPhase(7, 'CREATE TABLE x ();\n-- phase: expand'), undefined, 'only the first line counts');
    assert.equal(readDeclaredPhase(3, '-- Security layer'), 'expand');
    assert.throws(() => readDeclaredPhase(7, '-- phase: expnad\n'), /unknown phase "expnad"/);
  });

  test('every shipped migration declares a phase', () => {
    const shipped = loadMigrations();
    assert.ok(shipped.length >= 6);
    for (const file of shipped) assert.ok(file.phase, `${file.name} declares no phase`);
    assert.equal(shipped.find((f) => f.version === 6)?.phase, 'expand');
  });

  test('required level is the newest expand migration', () => {
    assert.equal(requiredSchemaLevel([m(1, 'expand'), m(2, 'expand'), m(3, 'contract')]), 2);
    assert.equal(requiredSchemaLevel([m(1, 'expand'), m(2, 'contract'), m(3, 'expand')]), 3);
  });

  test('at start: expand up to the first pending contract, strand what lies behind it', () => {
    assert.deepEqual(planAutoMigration([m(1, 'expand'), m(2, 'expand')], 1), { target: 2, heldContract: undefined, stranded: [] });
    const held = planAutoMigration([m(1, 'expand'), m(2, 'expand'), m(3, 'contract')], 1);
    assert.equal(held.target, 2);
    assert.equal(held.heldContract?.version, 3);
    assert.deepEqual(held.stranded, []);
    const stranded = planAutoMigration([m(1, 'expand'), m(2, 'contract'), m(3, 'expand'), m(4, 'contract')], 1);
    assert.equal(stranded.target, undefined);
    assert.deepEqual(stranded.stranded.map((s) => s.version), [3]);
    assert.throws(() => planAutoMigration([m(1, 'expand'), m(2, undefined)], 1), /declares no phase/);
  });
});

describe('migration run plan (pure)', () => {
  const files = [m(1, 'expand'), m(2, 'expand'), m(3, 'contract'), m(4, 'expand')];
  const actions = (p: ReturnType<typeof planMigrationRun>) => p.steps.map((s) => `${s.migration.version}:${s.action}`);

  test('no live older instance: everything applies', () => {
    const p = planMigrationRun({ migrations: files, current: 1, instances: [instance('a', 4, 5)], now, phase: 'all', force: false });
    assert.deepEqual(actions(p), ['2:apply', '3:apply', '4:apply']);
    assert.equal(p.target, 4);
    assert.equal(p.complete, true);
  });

  test('a live instance whose build predates the contract refuses it and holds what follows', () => {
    const p = planMigrationRun({ migrations: files, current: 1, instances: [instance('old', 2, 5), instance('new', 4, 5)], now, phase: 'all', force: false });
    assert.deepEqual(actions(p), ['2:apply', '3:refuse', '4:hold']);
    assert.deepEqual(p.steps[1]?.blockers.map((b) => b.id), ['old']);
    assert.equal(p.target, 2);
    assert.equal(p.complete, false);
  });

  test('a stale instance no longer blocks; --force overrides a live one', () => {
    const stale = planMigrationRun({ migrations: files, current: 2, instances: [instance('old', 2, 46)], now, phase: 'all', force: false });
    assert.deepEqual(actions(stale), ['3:apply', '4:apply']);
    const forced = planMigrationRun({ migrations: files, current: 2, instances: [instance('old', 2, 1)], now, phase: 'all', force: true });
    assert.deepEqual(actions(forced), ['3:force', '4:apply']);
    assert.equal(forced.complete, true);
  });

  test('--phase expand applies expands only and is complete unless an expand waits behind a contract', () => {
    const tail = planMigrationRun({ migrations: files.slice(0, 3), current: 1, instances: [], now, phase: 'expand', force: false });
    assert.deepEqual(actions(tail), ['2:apply', '3:hold']);
    assert.equal(tail.complete, true);
    const behind = planMigrationRun({ migrations: files, current: 1, instances: [], now, phase: 'expand', force: false });
    assert.deepEqual(actions(behind), ['2:apply', '3:hold', '4:hold']);
    assert.equal(behind.complete, false);
  });

  test('nothing pending: empty plan', () => {
    const p = planMigrationRun({ migrations: files, current: 4, instances: [], now, phase: 'all', force: false });
    assert.deepEqual(p.steps, []);
    assert.equal(p.target, undefined);
    assert.equal(p.complete, true);
  });
});
