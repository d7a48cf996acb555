/** The platform name stored with every Discord result, job and setting. */
export const PLATFORM = 'discord';

/** The Discord bot's fixed answers outside the shared job's replies (shared/replies.ts). */
export const MESSAGES = {
  noAudio: 'That message has no audio attachment or voice message.',
  notAdmin: 'Only members with the **Manage Server** permission can change these settings.',
  guildOnly: 'This works only in a server.',
} as const;
