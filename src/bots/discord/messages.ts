/** The platform name stored with every Discord result, job and setting. */
export const PLATFORM = 'discord';

/** The Discord bot's fixed answers. */
export const MESSAGES = {
  busy: 'I am busy with other recordings right now; please try again in a minute.',
  shuttingDown:
    'I am restarting and had to stop before finishing this analysis. Please send it again in a minute.',
  optedOutSelf: 'You opted out, so I do not analyse your voice. `/emotion optin` turns analysis back on.',
  optedOutOther: 'That person opted out of emotion analysis, so I will not analyse their voice.',
  noAudio: 'That message has no audio attachment or voice message.',
  notAdmin: 'Only members with the **Manage Server** permission can change these settings.',
  guildOnly: 'This works only in a server.',
} as const;
