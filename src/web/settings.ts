import type { Config } from '../config.ts';
import { checkExposure } from './auth.ts';

/** The web keys of the configuration, as the server uses them. */
export interface WebSettings {
  readonly host: string;
  readonly port: number;
  readonly token?: string;
  readonly rateLimitPerMinute: number;
  readonly uploadTimeoutMs: number;
  readonly concurrency: number;
  readonly queueMax: number;
}

export function webSettings(config: Config): WebSettings {
  checkExposure(config.WEB_HOST, config.WEB_TOKEN);
  return {
    host: config.WEB_HOST,
    port: config.WEB_PORT,
    ...(config.WEB_TOKEN !== undefined && { token: config.WEB_TOKEN }),
    rateLimitPerMinute: config.WEB_RATE_LIMIT_PER_MINUTE,
    uploadTimeoutMs: config.WEB_UPLOAD_TIMEOUT_S * 1000,
    concurrency: config.WEB_WORK_CONCURRENCY,
    queueMax: config.WEB_WORK_QUEUE_MAX,
  };
}
