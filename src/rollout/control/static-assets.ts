import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));

/**
 * The dashboard's files, read once at start into a fixed table: a request can only name one of
 * these keys, so no path from the URL ever reaches the file system. uPlot comes from npm as
 * its prebuilt browser bundle (no build step here).
 */
export function loadDashboardAssets(): ReadonlyMap<string, StaticAsset> {
  const require = createRequire(import.meta.url);
  const files: [string, string, string][] = [
    ['/ui', `${UI_DIR}dashboard.html`, 'text/html; charset=utf-8'],
    ['/ui/dashboard.js', `${UI_DIR}dashboard.js`, 'text/javascript; charset=utf-8'],
    ['/ui/dashboard.css', `${UI_DIR}dashboard.css`, 'text/css; charset=utf-8'],
    ['/ui/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['/ui/uplot.css', require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
  ];
  const assets = new Map<string, StaticAsset>();
  for (const [path, file, contentType] of files) assets.set(path, { body: readFileSync(file), contentType });
  assets.set('/ui/', assets.get('/ui') as StaticAsset);
  return assets;
}
