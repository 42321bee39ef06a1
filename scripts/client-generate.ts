// The typed client's inputs, generated from the routes (never written by hand):
//   npm run openapi:export    → packages/client/openapi.json (buildApp on an in-memory PGlite, never listening)
//   npm run client:generate   → the same, then packages/client/src/schema.d.ts (openapi-typescript)
// test/client/generated.test.ts fails when either committed file differs from what this renders.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/config.js';
import { openDatabase } from '../src/db/index.js';

export const OPENAPI_JSON = new URL('../packages/client/openapi.json', import.meta.url);
export const SCHEMA_TYPES = new URL('../packages/client/src/schema.d.ts', import.meta.url);

/**
 * The OpenAPI document as committed: one fixed configuration (no environment read), so the file
 * depends on the routes alone. The document does not depend on AUTH_SIGNUP_MODE or NODE_ENV.
 */
export async function renderOpenApiJson(): Promise<string> {
  const db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory', databasePoolMax: 1 });
  try {
    const config = loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') });
    const app = await buildApp(config, { db });
    try {
      await app.ready();
      return `${JSON.stringify(app.swagger(), null, 2)}\n`;
    } finally {
      await app.close();
    }
  } finally {
    await db.close();
  }
}

/** `schema.d.ts` for openapi-fetch, exactly as the openapi-typescript CLI writes it. */
export async function renderSchemaTypes(openapiJson: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(openapiJson) as OpenAPI3);
  return `${COMMENT_HEADER}${astToString(ast)}`;
}

async function main(args: readonly string[]): Promise<void> {
  const json = await renderOpenApiJson();
  writeFileSync(OPENAPI_JSON, json);
  console.log(`wrote ${fileURLToPath(OPENAPI_JSON)}`);
  if (args.includes('--types')) {
    writeFileSync(SCHEMA_TYPES, await renderSchemaTypes(readFileSync(OPENAPI_JSON, 'utf8')));
    console.log(`wrote ${fileURLToPath(SCHEMA_TYPES)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
