// Runs real benchmark workers (tfjs on wasm; PEFT when the offline PyTorch is present) through the
// conductor's protocol for a few steps: they start, train (the loss falls) and exit by themselves.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startWorker } from './worker-process.js';

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));

describe('benchmark workers', () => {
  it('a wasm worker builds the MLP, trains it and exits when its input closes', async () => {
    const w = await startWorker('wasm-1t', process.execPath, ['--import', 'tsx', worker, 'wasm-1t', 'mlp'], ['mlp']);
    expect(w.ready).toMatchObject({ ready: true, trainable: { 'mlp/lora': 22_736, 'mlp/full': 669_706 } });
    const reply = await w.request({ workload: 'mlp', variant: 'lora', steps: 8 });
    expect(reply.times).toHaveLength(8);
    expect(reply.loss).toBeLessThan(reply.firstLoss);
    expect(await w.close()).toBe('exited');
  });

  it('an engine that cannot start reports why instead of a row', async () => {
    const w = await startWorker(
      'native',
      process.execPath,
      ['-e', 'process.stderr.write("no binding here"); process.exit(3)'],
      ['mlp'],
    );
    expect(w.ready.ready).toBe(false);
    expect(!w.ready.ready && w.ready.error).toMatch(/exited \(code 3\).*no binding here/);
  });

  const python = process.env['PEFT_PYTHON'] ?? '/tmp/peftenv/bin/python';
  it.skipIf(!existsSync(python))('the PEFT worker counts the same trainable parameters as ours', async () => {
    const w = await startWorker(
      'peft',
      python,
      [fileURLToPath(new URL('./peft_worker.py', import.meta.url)), '1', 'mlp,cnn'],
      ['mlp', 'cnn'],
    );
    expect(w.ready).toMatchObject({ ready: true, trainable: { 'mlp/lora': 22_736, 'mlp/full': 669_706 } });
    const ours = await startWorker('wasm-1t', process.execPath, ['--import', 'tsx', worker, 'wasm-1t', 'cnn'], ['cnn']);
    expect(ours.ready.ready && ours.ready.trainable).toEqual({
      'cnn/lora': (w.ready.ready && w.ready.trainable['cnn/lora'])!,
      'cnn/full': (w.ready.ready && w.ready.trainable['cnn/full'])!,
    });
    const reply = await w.request({ workload: 'cnn', variant: 'lora', steps: 3 });
    expect(reply.loss).toBeLessThan(reply.firstLoss);
    expect(await Promise.all([w.close(), ours.close()])).toEqual(['exited', 'exited']);
  });
  if (!existsSync(python)) console.log(`PEFT worker test skipped: no Python with PEFT at ${python} (set PEFT_PYTHON)`);
});
