import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  InteractionContextType,
  type RESTPostAPIApplicationCommandsJSONBody,
} from 'discord.js';

/** The application commands `npm run deploy-commands` registers (and the bot answers). */

export const CONTEXT_MENU_NAME = 'Analyze emotions';

export const emotionCommand: RESTPostAPIApplicationCommandsJSONBody = {
  type: ApplicationCommandType.ChatInput,
  name: 'emotion',
  description: 'Hear which emotions are in a voice recording',
  integration_types: [ApplicationIntegrationType.GuildInstall],
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'file',
      description: 'Analyse an audio file (Ogg/Opus, WebM, M4A/AAC, MP3, WAV, FLAC)',
      options: [
        {
          type: ApplicationCommandOptionType.Attachment,
          name: 'audio',
          description: 'The recording',
          required: true,
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'listen',
      description: 'Join your voice channel and analyse each speaker',
      options: [
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'seconds',
          description: 'How long to listen (default 60)',
          min_value: 5,
          max_value: 3600,
        },
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'stop', description: 'Stop listening now' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'history',
      description: 'Your last analyses (only you see them)',
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'optout', description: 'Never analyse my voice' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'optin',
      description: 'Allow analysing my voice again',
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'forget', description: 'Delete all my results' },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: 'baseline',
      description: 'Your usual voice: the baseline your recordings are compared with',
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'status',
          description: 'How many recordings it has and whether it is in use (only you see it)',
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'reset',
          description: 'Delete your voice baseline in this server; it starts again',
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'settings',
      description: 'Server settings (Manage Server only)',
      options: [
        {
          type: ApplicationCommandOptionType.Channel,
          name: 'channel',
          description: 'Channel to turn auto-analysis on or off in',
          channel_types: [ChannelType.GuildText, ChannelType.GuildVoice, ChannelType.PublicThread],
        },
        {
          type: ApplicationCommandOptionType.Boolean,
          name: 'auto',
          description: 'Auto-analyse voice messages there',
        },
        {
          type: ApplicationCommandOptionType.Channel,
          name: 'digest_channel',
          description: 'Where the mood digest is posted',
          channel_types: [ChannelType.GuildText],
        },
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'retention_days',
          description: 'Delete results older than this many days (0: back to the default, 90)',
          min_value: 0,
          max_value: 3650,
        },
        {
          type: ApplicationCommandOptionType.Boolean,
          name: 'digest',
          description: 'Mood digest of `channel` (default: this one) on or off',
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'digest_schedule',
          description: 'daily [HH:MM], weekly [day] [HH:MM], or a cron expression such as 0 9 * * 1',
          max_length: 100,
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'digest_timezone',
          description: 'IANA time zone of the schedule, e.g. Europe/Berlin (default UTC)',
          max_length: 64,
        },
        {
          type: ApplicationCommandOptionType.Boolean,
          name: 'digest_empty_line',
          description: 'Post one short line for a period without recordings (default: post nothing)',
        },
      ],
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: 'digest',
      description: 'The channel mood digest',
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'now',
          description: "Preview this channel's mood digest (only you see it)",
        },
      ],
    },
  ],
};

export const analyzeContextMenu: RESTPostAPIApplicationCommandsJSONBody = {
  type: ApplicationCommandType.Message,
  name: CONTEXT_MENU_NAME,
  integration_types: [ApplicationIntegrationType.GuildInstall],
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
};

export const COMMANDS: readonly RESTPostAPIApplicationCommandsJSONBody[] = [
  emotionCommand,
  analyzeContextMenu,
];
