import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REPO_ROOT, renderExamples } from '../../src/deploy/examples.js';

/** examples/k8s/ is the generator's output for examples/rollout.yaml; regenerate with `npm run deploy:examples`. */
test('examples/k8s/ is current (npm run deploy:examples)', () => {
  const expected = renderExamples();
  assert.ok(expected.size >= 10);
  for (const [path, text] of expected) {
    let onDisk = '';
    try {
      onDisk = readFileSync(`${REPO_ROOT}${path}`, 'utf8');
    } catch {
      assert.fail(`${path} is missing: run npm run deploy:examples`);
    }
    assert.equal(onDisk, text, `${path} is stale: run npm run deploy:examples`);
  }
});
