import type { webApi } from '@slack/bolt';

/**
 * Where Slack admin notices (storage lost) go: a DM from the app to the workspace's primary owner, the one
 * person every workspace has and who can reach whoever runs the app (Slack does not tell a Socket Mode app
 * who installed it). Looks through the first pages of users.list only: enough for the owner, who is listed
 * early, without walking a huge workspace.
 */
const PAGES = 5;

export async function tellWorkspaceOwner(client: webApi.WebClient, text: string): Promise<void> {
  let cursor: string | undefined;
  for (let page = 0; page < PAGES; page++) {
    const list = await client.users.list({ limit: 200, ...(cursor ? { cursor } : {}) });
    const owner = list.members?.find((m) => m.is_primary_owner && !m.deleted && m.id);
    if (owner?.id) {
      await client.chat.postMessage({ channel: owner.id, text });
      return;
    }
    cursor = list.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  throw new Error('no primary owner found to tell');
}
