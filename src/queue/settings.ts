import type { Config } from '../config.ts';
import type { QueueSettings } from './pg-boss/boss.ts';

/** The scale-out queue's settings from the validated config; undefined when QUEUE_URL is unset (one process). */
export function queueSettings(config: Config): QueueSettings | undefined {
  if (!config.QUEUE_URL) return undefined;
  return {
    url: config.QUEUE_URL,
    retryLimit: config.QUEUE_RETRY_LIMIT,
    heartbeatSeconds: config.QUEUE_HEARTBEAT_S,
    superviseSeconds: config.QUEUE_SUPERVISE_S,
    expireSeconds: config.QUEUE_JOB_TIMEOUT_S,
  };
}
