// A benchmark worker seen from the conductor: a child process answering one JSON line per request.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { EngineName, FailedMessage, ReadyMessage, StepReply, StepRequest } from './protocol.js';
import type { WorkloadName } from './workloads.js';

/** A started worker. */
export interface Worker {
  engine: EngineName;
  /** Its first line: the models are built, or why it could not start. */
  ready: ReadyMessage | FailedMessage;
  /** The workloads it built. */
  workloads: WorkloadName[];
  /** Runs a batch of steps; resolves with their times. */
  request(r: StepRequest): Promise<StepReply>;
  /** Closes its stdin and waits for it to exit by itself: 'exited', or what went wrong (after 15 s it is killed). */
  close(): Promise<string>;
}

/** Spawns `command args`, waits for its ready line (or its death, with its stderr's last lines). */
export async function startWorker(
  engine: EngineName,
  command: string,
  args: string[],
  workloads: WorkloadName[],
): Promise<Worker> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  let exitCode: number | null = null;
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve((exitCode = code))));
  const died = (what: string) =>
    new Error(`${engine} worker ${what}; its stderr ends with:\n${stderr.split('\n').slice(-8).join('\n')}`);
  const nextLine = async (): Promise<string> => {
    const next = await Promise.race([lines.next(), exited.then(() => ({ done: true as const, value: undefined }))]);
    if (next.done) throw died(`exited (code ${(await exited) ?? exitCode})`);
    return next.value;
  };
  let ready: ReadyMessage | FailedMessage;
  try {
    ready = JSON.parse(await nextLine()) as ReadyMessage | FailedMessage;
  } catch (e) {
    ready = { ready: false, error: (e as Error).message.split('\n').slice(0, 4).join(' ') };
  }
  if (!ready.ready) child.kill();
  let queue: Promise<unknown> = Promise.resolve();
  return {
    engine,
    ready,
    workloads,
    request(r) {
      const reply = queue.then(async () => {
        child.stdin.write(`${JSON.stringify(r)}\n`);
        return JSON.parse(await nextLine()) as StepReply;
      });
      queue = reply.catch(() => undefined);
      return reply;
    },
    async close() {
      child.stdin.end();
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref());
      const result = await Promise.race([exited, timeout]);
      if (result === 'timeout') {
        child.kill('SIGKILL');
        return `${engine} worker did not exit within 15 s of its input closing (killed)`;
      }
      return result === 0 ? 'exited' : `${engine} worker exited with code ${result}`;
    },
  };
}
