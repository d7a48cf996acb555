import type { HTTPReceiver } from '@slack/bolt';
import type { Logger } from '../../log.ts';

/**
 * Slack signs every HTTP request with its timestamp; a signed request replayed later is refused by Bolt when
 * older than 5 minutes, but Bolt accepts any timestamp in the future. A captured request stamped ahead (or a
 * clock far off) could then be replayed for as long as the stamp is ahead, so the README's promise is
 * "within ±5 minutes of now": this refuses anything stamped more than 5 minutes ahead with 401 before Bolt
 * reads it, so no listener runs.
 */
export const MAX_REQUEST_SKEW_S = 5 * 60;

export function refuseFutureRequests(
  receiver: HTTPReceiver,
  log: Logger,
  now: () => number = Date.now,
): void {
  const inner = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const stamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(stamp) && stamp > now() / 1000 + MAX_REQUEST_SKEW_S) {
      log.warn(
        { aheadS: Math.round(stamp - now() / 1000) },
        'refused a Slack request stamped in the future (more than 5 minutes ahead)',
      );
      req.resume();
      res.writeHead(401).end();
      return;
    }
    inner(req, res);
  };
}
