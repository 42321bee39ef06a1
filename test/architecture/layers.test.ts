import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

// The layering rule of docs/adr/0008-layers.md, run by `npm run deps` on the real tree. These
// cases prove the rule itself bites: each fixture breaks it once and must be refused.
const repo = resolve(import.meta.dirname, '..', '..');
const depcruise = join(repo, 'node_modules', '.bin', 'depcruise');
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function cruise(files: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'boka-layers-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const run = spawnSync(depcruise, ['src', '--config', join(repo, '.dependency-cruiser.cjs')], { cwd: dir, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('dependency rule (layers and cycles)', () => {
  it('refuses a lower room importing a higher one, even for a type', () => {
    const r = cruise({
      'src/errors/app-error.ts': "import type { Principal } from '../access/principal.js';\nexport type X = Principal;\n",
      'src/access/principal.ts': 'export type Principal = { id: string };\n',
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /layer-0-errors-imports-upward: src\/errors\/app-error\.ts → src\/access\/principal\.ts/);
  });

  it('refuses the access layer importing a capability', () => {
    const r = cruise({
      'src/access/pipeline.ts': "import { lookup } from '../tenancy/members.repo.js';\nexport const x = lookup;\n",
      'src/tenancy/members.repo.ts': 'export const lookup = 1;\n',
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /layer-4-access-imports-upward/);
  });

  it('refuses a capability importing the composition root', () => {
    const r = cruise({
      'src/booking/booking.routes.ts': "import type { AppServices } from '../app-services.js';\nexport type X = AppServices;\n",
      'src/app-services.ts': 'export interface AppServices { x: 1 }\n',
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /imports-upward: src\/booking\/booking\.routes\.ts → src\/app-services\.ts/);
  });

  it('refuses a cycle inside one layer', () => {
    const r = cruise({
      'src/auth/a.ts': "import { b } from '../mfa/b.js';\nexport const a = () => b;\n",
      'src/mfa/b.ts': "import { a } from '../auth/a.js';\nexport const b = () => a;\n",
    });
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /no-circular/);
  });

  it('accepts imports that point down', () => {
    const r = cruise({
      'src/booking/booking.routes.ts': "import { AppError } from '../errors/index.js';\nexport const x = AppError;\n",
      'src/errors/index.ts': 'export class AppError {}\n',
    });
    assert.equal(r.status, 0, r.output);
  });
});
