import { describe, expect, it } from 'vitest';
import { DiscordConfigError, loadDiscordConfig } from '../../src/bots/discord/config.ts';
import { loadBotSettings } from '../../src/bots/settings.ts';
import { loadSlackConfig, SlackConfigError } from '../../src/bots/slack/config.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';

const discordEnv = { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678' };
const slackEnv = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' };
const shared = {
  SHUTDOWN_GRACE_S: '0.2',
  DOWNLOAD_TIMEOUT_S: '7',
  WORK_CONCURRENCY: '2',
  WORK_QUEUE_MAX: '0',
};

describe('one bot settings schema', () => {
  it('reads the shared keys once, in milliseconds, the same for Discord, Slack and both at once', () => {
    const expected = {
      rateLimitUserPerMinute: 5,
      workConcurrency: 2,
      workQueueMax: 0,
      downloadTimeoutMs: 7000,
      shutdownGraceMs: 200,
    };
    expect(loadDiscordConfig({ ...discordEnv, ...shared }).bot).toEqual(expected);
    expect(loadSlackConfig({ ...slackEnv, ...shared }).bot).toEqual(expected);
    expect(loadBotSettings(shared)).toEqual(expected);
  });

  it('every configuration error is a ConfigError (no matching of class names)', () => {
    const errors = [
      () => loadDiscordConfig({}),
      () => loadSlackConfig({}),
      () => loadBotSettings({ WORK_CONCURRENCY: '0' }),
      () => loadConfig({ WEB_PORT: 'nope' }),
    ].map((load) => {
      try {
        load();
      } catch (error) {
        return error;
      }
      return undefined;
    });
    expect(errors[0]).toBeInstanceOf(DiscordConfigError);
    expect(errors[1]).toBeInstanceOf(SlackConfigError);
    for (const error of errors) expect(error).toBeInstanceOf(ConfigError);
  });

  it('FFMPEG_PATH is part of the validated configuration (empty means unset)', () => {
    expect(loadConfig({ FFMPEG_PATH: ' /opt/ffmpeg/bin/ffmpeg ' }).FFMPEG_PATH).toBe(
      '/opt/ffmpeg/bin/ffmpeg',
    );
    expect(loadConfig({ FFMPEG_PATH: '' }).FFMPEG_PATH).toBeUndefined();
  });
});
