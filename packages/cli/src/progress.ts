// A one-line progress bar for long CLI jobs: redrawn in place on a terminal, one line per phase elsewhere
// (logs, CI), so output stays readable in both.
import type { CliIO } from './command.js';

/** A progress line for one phase at a time. */
export interface ProgressLine {
  /** Starts a phase of `total` units. */
  start(label: string, total: number): void;
  /** Moves to `done` units, with a short status text. */
  update(done: number, status?: string): void;
  /** Ends the phase with a summary line. */
  done(summary: string): void;
  /** Prints a message on its own line. */
  note(message: string): void;
}

const WIDTH = 28;

/** A {@link ProgressLine} on `io` (redrawn with \r when stdout is a TTY and `io` is the process's). */
export function progressLine(io: CliIO, tty: boolean = process.stdout.isTTY === true): ProgressLine {
  let label = '';
  let total = 1;
  let started = 0;
  let lastDraw = 0;
  let drawn = false;
  const render = (done: number, status: string): string => {
    const frac = Math.min(1, done / total);
    const fill = Math.round(frac * WIDTH);
    const secs = (Date.now() - started) / 1000;
    return `${label.padEnd(18)} [${'#'.repeat(fill)}${'.'.repeat(WIDTH - fill)}] ${String(Math.round(frac * 100)).padStart(3)}%  ${secs.toFixed(0)} s  ${status}`;
  };
  return {
    start(l, t) {
      label = l;
      total = Math.max(1, t);
      started = Date.now();
      lastDraw = tty ? 0 : started;
      drawn = false;
      if (!tty) io.out(`${label}: ${t} steps\n`);
    },
    update(done, status = '') {
      const now = Date.now();
      if (tty) {
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        io.out(`\r${render(done, status)}\x1b[K`);
        drawn = true;
      } else if (now - lastDraw >= 10_000) {
        lastDraw = now; // a line every 10 s in logs
        io.out(`  ${render(done, status)}\n`);
      }
    },
    done(summary) {
      if (tty && drawn) io.out(`\r${render(total, '')}\x1b[K\n`);
      io.out(`  ${summary}\n`);
      drawn = false;
    },
    note(message) {
      if (tty && drawn) io.out('\n');
      drawn = false;
      io.out(`${message}\n`);
    },
  };
}
