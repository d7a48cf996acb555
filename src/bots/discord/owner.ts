import { type Client, Team } from 'discord.js';

/**
 * Where Discord admin notices (storage lost) go: a DM to the bot's owner — the application's owner, or its
 * team's owner. That is the person who runs the bot and can fix its database; a guild's admins cannot, and a
 * guild channel would also tell every member of every server about an operator's problem. Throws when no
 * owner can be found or messaged (the caller logs it; the loud error log line stands on its own).
 */
export async function tellOwner(client: Client, text: string): Promise<void> {
  const application = await client.application?.fetch();
  const owner = application?.owner;
  const user = owner instanceof Team ? owner.owner?.user : owner;
  if (!user) throw new Error('the application has no owner to tell');
  await user.send(text);
}
