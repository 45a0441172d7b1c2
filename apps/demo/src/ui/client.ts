// The page's side of the worker protocol: promises for requests, a callback for progress events, and a
// fresh worker per backend.
import type { Request, Response, WorkerEvent } from '../protocol.js';

/** A running training worker. */
export class WorkerClient {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(onEvent: (e: WorkerEvent) => void, onCrash: (message: string) => void) {
    this.worker = new Worker(new URL('../worker/worker.ts', import.meta.url), {
      type: 'module',
      name: 'tfjs-lora-demo',
    });
    this.worker.onmessage = (e: MessageEvent) => {
      const data = e.data as Response | WorkerEvent;
      if ('event' in data) return onEvent(data);
      const p = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.ok) p?.resolve(data.result);
      else p?.reject(new Error(data.error));
    };
    this.worker.onerror = (e) => {
      onCrash(e.message || 'the worker failed to start');
      for (const p of this.pending.values()) p.reject(new Error(e.message));
      this.pending.clear();
    };
  }

  /** Sends a request; resolves with the worker's result. */
  call<T>(request: Request, transfer: Transferable[] = []): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request }, transfer);
    });
  }

  terminate(): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new WorkerReplacedError('worker replaced (backend switched)'));
    this.pending.clear();
  }
}

/** A request that was pending when its worker was replaced (not a failure worth showing). */
export class WorkerReplacedError extends Error {
  override readonly name = 'WorkerReplacedError';
}
