import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const PUBLIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'public');

/**
 * The page's files and wavesurfer.js, read once at start into a fixed table of paths: nothing else on
 * disk can be asked for, and the page needs no network beyond this server.
 */
export function loadStaticAssets(): ReadonlyMap<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const name of readdirSync(PUBLIC_DIR)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const asset = { body: readFileSync(join(PUBLIC_DIR, name)), contentType: type };
    assets.set(`/${name}`, asset);
    if (name === 'index.html') assets.set('/', asset);
  }
  // wavesurfer.js's ES module builds are self-contained (no imports), so two files are the whole library.
  const dist = dirname(createRequire(import.meta.url).resolve('wavesurfer.js'));
  for (const [path, file] of [
    ['/vendor/wavesurfer.esm.js', 'wavesurfer.esm.js'],
    ['/vendor/regions.esm.js', 'plugins/regions.esm.js'],
  ] as const) {
    assets.set(path, { body: readFileSync(join(dist, file)), contentType: TYPES['.js'] as string });
  }
  return assets;
}
