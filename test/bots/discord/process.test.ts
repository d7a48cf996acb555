import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDiscord } from './fake-discord/server.ts';
import { type Any, fixture, TOKEN } from './harness.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'annamalai-discord-proc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function script(file: string, env: Record<string, string>, args: string[] = []) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [file, ...args], { env: { ...clean, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm start / npm run deploy-commands (real processes)', () => {
  it('npm start refuses to start without configuration, naming each missing variable', async () => {
    const { code, stderr } = await script('src/bots/discord/main.ts', {
      MODEL_DIR: 'test/fixtures/models/tiny',
    });
    expect(code).toBe(78);
    expect(stderr).toMatch(/DISCORD_TOKEN is missing/);
    expect(stderr).toMatch(/DISCORD_APPLICATION_ID is missing/);
  });

  it('rejects a malformed application id without echoing the token', async () => {
    const { code, stderr } = await script('src/bots/discord/main.ts', {
      DISCORD_TOKEN: TOKEN,
      DISCORD_APPLICATION_ID: 'abc',
    });
    expect(code).toBe(78);
    expect(stderr).toMatch(/DISCORD_APPLICATION_ID must be a Discord id/);
    expect(stderr).not.toContain(TOKEN);
  });

  it('deploy-commands registers commands/ in the dev guild, or globally with --global', async () => {
    const fake = new FakeDiscord();
    await fake.listen();
    try {
      const env = {
        DISCORD_TOKEN: TOKEN,
        DISCORD_APPLICATION_ID: fake.applicationId,
        DISCORD_API_URL: fake.apiUrl,
        DISCORD_DEV_GUILD_ID: fake.guildId,
      };
      const dev = await script('src/bots/discord/deploy-commands.ts', env);
      expect(dev.stdout).toMatch(/Registered 2 commands \(emotion, Analyze emotions\) in guild/);
      const global = await script('src/bots/discord/deploy-commands.ts', env, ['--global']);
      expect(global.stdout).toMatch(/globally/);
      const puts = fake.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
      expect(puts).toEqual([
        `/api/v10/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`,
        `/api/v10/applications/${fake.applicationId}/commands`,
      ]);
      const body = fake.requests.find((r) => r.method === 'PUT')?.body as unknown as Any[];
      const emotion = body.find((c) => c.name === 'emotion') as Any;
      expect(emotion.options.map((o: Any) => o.name)).toEqual([
        'file',
        'listen',
        'stop',
        'history',
        'optout',
        'optin',
        'forget',
        'baseline',
        'settings',
        'digest',
      ]);
      const baseline = emotion.options.find((o: Any) => o.name === 'baseline') as Any;
      expect(baseline.options.map((o: Any) => o.name)).toEqual(['status', 'reset']);
    } finally {
      await fake.close();
    }
  });

  it('on SIGTERM during an analysis, tells the waiting user, disconnects and exits 0; the token never reaches the logs', async () => {
    const fake = new FakeDiscord();
    await fake.listen();
    let child: ChildProcess | undefined;
    try {
      const clean = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_')),
      );
      child = spawn(process.execPath, ['src/bots/discord/main.ts'], {
        env: {
          ...clean,
          MODEL_DIR: 'test/fixtures/models/tiny',
          INFERENCE_WORKERS: '1',
          DATABASE_PATH: join(dir, 'bot.db'),
          LOG_LEVEL: 'debug',
          DISCORD_TOKEN: TOKEN,
          DISCORD_APPLICATION_ID: fake.applicationId,
          DISCORD_API_URL: fake.apiUrl,
          DISCORD_CDN_HOSTS: fake.cdnHost,
          SHUTDOWN_GRACE_S: '0.2',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr?.on('data', (c) => (stderr += String(c)));
      const exited = new Promise<number | null>((resolve) => child?.on('exit', (code) => resolve(code)));
      await fake.waitFor(() => /discord bot ready/.test(stderr), 20_000, 'the bot to log in');
      fake.holdCdn();
      const { token } = fake.fileCommand(
        fake.user('sigterm'),
        fake.attachment({
          name: 's.ogg',
          bytes: fixture('speech-stereo.opus.ogg'),
          contentType: 'audio/ogg',
        }),
      );
      await new Promise<void>((resolve) => fake.once('cdn', () => resolve()));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const told = fake
        .forInteraction(token)
        .find((q) => q.method === 'POST' && !q.path.endsWith('/callback'));
      expect((told?.body as Any)?.content).toMatch(/restarting/);
      expect((told?.body as Any)?.flags).toBe(64);
      expect(stderr).toMatch(/shutting down/);
      expect(stderr).not.toContain(TOKEN);
    } finally {
      child?.kill('SIGKILL');
      await fake.close();
    }
  });
});
