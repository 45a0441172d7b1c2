// The README's example (examples/train.ts) runs on this machine's WebGPU adapter and learns.
import { describe, expect, it } from 'vitest';
import { main } from '../examples/train.js';
import { webgpuTestEnvironment } from '../test-support/webgpu-env.js';

const env = await webgpuTestEnvironment('example.gpu.test.ts');

describe.skipIf(!env.ok)('README example', () => {
  it('trains a LoRA adapter on webgpu and the loss falls', async () => {
    const { backend, losses } = await main(3);
    expect(backend).toBe('webgpu');
    expect(losses).toHaveLength(3);
    expect(losses[2]).toBeLessThan(losses[0]);
  });
});
