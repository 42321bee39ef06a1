import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createStatementNames } from '../../src/db/statement-names.js';

describe('prepared-statement names', () => {
  test('one stable name per statement text, different texts get different names', () => {
    const nameOf = createStatementNames();
    const a = nameOf('SELECT 1');
    assert.match(a!, /^boka_[\w-]{24}$/);
    assert.equal(nameOf('SELECT 1'), a);
    assert.equal(createStatementNames()('SELECT 1'), a, 'stable across instances (same text, same name)');
    assert.notEqual(nameOf('SELECT 2'), a);
  });

  test('past the bound, new texts run unnamed and known ones keep their names', () => {
    const nameOf = createStatementNames(2);
    const first = nameOf('SELECT 1');
    nameOf('SELECT 2');
    assert.equal(nameOf('SELECT 3'), undefined);
    assert.equal(nameOf('SELECT 1'), first);
  });
});
