/** The platform name stored with every Slack result, job and setting. */
export const PLATFORM = 'slack';
