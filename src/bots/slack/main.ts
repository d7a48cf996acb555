// `npm run start:slack`: the Slack app alone (Socket Mode by default). Refuses to start, naming what is
// missing, when its configuration is incomplete; SIGTERM/SIGINT finish or abandon work in flight and say so.
import { runBots } from '../process.ts';
import { slackRateRules } from './app.ts';
import { loadSlackConfig } from './config.ts';
import { SLACK_REDACT, startSlack } from './start.ts';

await runBots((env) => {
  const slack = loadSlackConfig(env);
  return {
    settings: slack.bot,
    rateRules: slackRateRules(slack),
    redact: SLACK_REDACT,
    start: [(runtime, logger) => startSlack(runtime, slack, logger)],
  };
});
