import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ortRoot = join(dirname(require.resolve('onnxruntime-node')), '..');

describe('installing onnxruntime-node without its CUDA download', () => {
  it('npm runs in this project without an unknown-config warning', async () => {
    const { stderr } = await run('npm', ['config', 'get', 'registry'], { env: process.env });
    expect(stderr).not.toMatch(/Unknown project config/);
  });

  it("denies onnxruntime-node's install script, which would only fetch the CUDA provider", () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    // What the script installs on each platform: CUDA manifests only, fetched from outside npm.
    const metadata = require(join(ortRoot, 'script', 'install-metadata.js')) as {
      requirements: Record<string, string[]>;
    };
    for (const wanted of Object.values(metadata.requirements)) {
      for (const name of wanted) expect(name).toMatch(/^cuda/);
    }
  });

  it('the CPU runtime this platform needs ships inside the npm package', () => {
    const folder = join(ortRoot, 'bin', 'napi-v6', process.platform, process.arch);
    expect(existsSync(join(folder, 'onnxruntime_binding.node'))).toBe(true);
    const library = process.platform === 'linux' ? 'libonnxruntime.so.1' : undefined;
    if (library) expect(existsSync(join(folder, library))).toBe(true);
  });
});
