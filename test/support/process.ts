// Child processes owned by a test: output captured for failure messages, killed (whole process
// group) in teardown so no test leaves anything running.
import { type ChildProcess, spawn } from 'node:child_process';

export interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

export interface OwnedProcess {
  child: ChildProcess;
  /** stdout+stderr so far (bounded to the last 256 KiB). */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const MAX_CAPTURE = 256 * 1024;

export function startProcess(
  t: Teardown | undefined,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): OwnedProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so stop() also reaches grandchildren
  });
  let buf = '';
  const capture = (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    if (buf.length > MAX_CAPTURE) buf = buf.slice(buf.length - MAX_CAPTURE);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  // 'exit' can come before the pipes are drained — a process that prints an error and exits
  // would look silent — so wait for them too, but not forever: a grandchild may hold them open.
  const drained = Promise.all(
    [child.stdout, child.stderr].map((s) => (s ? new Promise<void>((r) => s.once('close', () => r())) : undefined)),
  );
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      const timer = setTimeout(() => resolve(code), 1000);
      void drained.then(() => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    child.once('error', (err) => {
      buf += `\n[spawn error] ${err.message}`;
      resolve(null);
    });
  });
  let stopped: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM') => {
    if (stopped) return stopped;
    stopped = (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-(child.pid as number), sig);
        } catch {
          // already gone
        }
      };
      kill(signal);
      const timer = setTimeout(() => kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    })();
    return stopped;
  };
  t?.teardown(() => stop());
  return { child, output: () => buf, exited, stop };
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 15000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}
