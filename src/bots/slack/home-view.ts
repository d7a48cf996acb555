import type { types } from '@slack/bolt';
import type { StoredAnalysis } from '../../core/records.ts';
import { ESTIMATE_NOTE } from '../../core/summary.ts';
import type { BaselineStatus } from '../shared/voice-baseline.ts';
import { baselineText, context, HELP_TEXT, historyLine, LIMITS, packLines, section } from './blocks.ts';

type KnownBlock = types.KnownBlock;

export interface HomeView {
  readonly optedOut: boolean;
  readonly history: readonly StoredAnalysis[];
  /** The person's voice baseline in this workspace (issue 21). */
  readonly baseline: BaselineStatus;
  readonly status?: string | undefined;
}

/** The App Home tab: recent analyses and the privacy controls. */
export function homeView(view: HomeView): { type: 'home'; blocks: KnownBlock[] } {
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Annamalai: emotions in speech' } },
    section(HELP_TEXT),
    { type: 'divider' },
    section('*Your privacy*'),
    section(
      view.optedOut
        ? 'You have *opted out*: I do not analyse recordings of your voice.'
        : 'Your clips are analysed when you or someone else asks, and in auto-analysis channels.',
    ),
    {
      type: 'actions',
      elements: [
        view.optedOut
          ? {
              type: 'button',
              action_id: 'home_optin',
              style: 'primary',
              text: { type: 'plain_text', text: 'Opt in again' },
            }
          : { type: 'button', action_id: 'home_optout', text: { type: 'plain_text', text: 'Opt out' } },
        {
          type: 'button',
          action_id: 'home_forget',
          style: 'danger',
          text: { type: 'plain_text', text: 'Forget my results' },
          confirm: {
            title: { type: 'plain_text', text: 'Forget your results?' },
            text: {
              type: 'mrkdwn',
              text: 'Every stored analysis of your voice in this workspace is deleted, and your voice baseline. This cannot be undone.',
            },
            confirm: { type: 'plain_text', text: 'Delete' },
            deny: { type: 'plain_text', text: 'Cancel' },
            style: 'danger',
          },
        },
      ],
    },
    ...(view.status ? [context([view.status])] : []),
    section(baselineText(view.baseline)),
    ...(view.baseline.kind === 'learning' || view.baseline.kind === 'in_use'
      ? [
          {
            type: 'actions' as const,
            elements: [
              {
                type: 'button' as const,
                action_id: 'home_baseline_reset',
                text: { type: 'plain_text' as const, text: 'Reset my voice baseline' },
              },
            ],
          },
        ]
      : []),
    { type: 'divider' },
    section('*Your recent analyses*'),
    ...(view.history.length
      ? packLines(view.history.map(historyLine)).map(section)
      : [section('_None stored._')]),
    context([`_${ESTIMATE_NOTE}_`]),
  ];
  return { type: 'home', blocks: blocks.slice(0, LIMITS.homeBlocks) };
}
