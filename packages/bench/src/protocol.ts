// The line protocol between the benchmark's conductor (run.ts) and its workers (worker.ts for tfjs,
// peft_worker.py for PEFT on PyTorch): one JSON object per line on stdin and stdout.
import type { Variant, WorkloadName } from './workloads.js';

/** First line a worker writes once its models are built (or `error` when it cannot run). */
export interface ReadyMessage {
  ready: true;
  /** What ran, for the table's header (backend, threads, versions). */
  label: string;
  /** Trainable parameters per `workload/variant`. */
  trainable: Record<string, number>;
}

/** A worker that could not start: why, for the table's footnotes. */
export interface FailedMessage {
  ready: false;
  error: string;
}

/** Conductor → worker: run `steps` training steps of one model and report each step's time. */
export interface StepRequest {
  workload: WorkloadName;
  variant: Variant;
  steps: number;
}

/** Worker → conductor: milliseconds of each step, and the loss of the first and last (to show every engine learns). */
export interface StepReply {
  times: number[];
  firstLoss: number;
  loss: number;
}

/** The benchmark's engines: tfjs-lora on a tfjs backend, or PEFT on PyTorch. */
export const ENGINES = ['peft', 'wasm-1t', 'wasm-2t', 'native', 'cpu'] as const;
/** One engine. */
export type EngineName = (typeof ENGINES)[number];
