import { type ChildProcess, spawn } from 'node:child_process';

/** A real entry point run by node for the tests that need a process: its combined output, as it arrives. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly out: { text: string };
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<void>;
}

/** `node <entry> <args>` with exactly `env`, no stdin; stdout and stderr gathered in `out.text`. */
export function spawnNode(entry: string, env: NodeJS.ProcessEnv, args: readonly string[] = []): NodeProcess {
  const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { text: '' };
  child.stdout?.on('data', (c) => (out.text += String(c)));
  child.stderr?.on('data', (c) => (out.text += String(c)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, out, exited };
}

/** SIGKILL to each child still running: a test's processes never outlive it, even when it failed midway. */
export function killRunning(children: readonly ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** The environment without any DISCORD_* variable, so a developer's own bot settings never leak into a test. */
export function envWithoutDiscord(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DISCORD_')));
}
