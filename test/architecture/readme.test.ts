import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const root = new URL('../../', import.meta.url);

/** The README's architecture section names every folder of src/ and places it on the floor the rule checks. */
test('README architecture names every src folder, on the floor .dependency-cruiser.cjs gives it', () => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Tests'));
  const folders = readdirSync(new URL('src/', root), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const config = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as { forbidden: Array<{ name: string; from: { path?: string } }> };
  const floors = config.forbidden.filter((r) => /^layer-\d/.test(r.name)).map((r) => /\^src\/\(([^)]+)\)/.exec(r.from.path ?? '')?.[1]?.split('|') ?? []);
  for (const folder of folders) {
    assert.ok(section.includes(`src/${folder}`), `README architecture does not name src/${folder}`);
    const floor = floors.findIndex((names) => names.includes(folder));
    const top = ['cli'].includes(folder);
    assert.ok(floor >= 0 || top, `src/${folder} is on no floor of .dependency-cruiser.cjs`);
    if (floor >= 0) {
      const row = section.split('\n').find((line) => new RegExp(`^\\| ${floor} \\|`).test(line)) ?? '';
      assert.ok(row.includes(`src/${folder}`), `README puts src/${folder} on another floor than the rule (${floor})`);
    }
  }
});
