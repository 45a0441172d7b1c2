// The vitest settings every package shares. tfjs packages are pre-bundled once (deps optimizer), which cuts
// a package's test start from ~14 s to ~2 s, and every tfjs package must share that one tfjs-core instance.
// Every test runs under the shared tensor-leak check of @tfjs-lora/test-support (src/leak-check.ts).
import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vitest/config';

/** The setup file that fails a test whose live tensor count changed (`tf.memory().numTensors`). */
export const LEAK_CHECK = fileURLToPath(new URL('./packages/test-support/src/leak-check.ts', import.meta.url));

/** Options of {@link tfjsTestConfig}. */
export interface TfjsTestConfigOptions {
  /** tfjs packages to pre-bundle besides tfjs-core, tfjs-layers and tfjs-backend-cpu. */
  tfjs?: string[];
  /** Per-test and per-hook timeout (default 60 s). */
  timeoutMs?: number;
  /** 'forks' where native addons (Dawn) or browsers are driven from the test process. */
  pool?: 'forks' | 'threads';
}

/** A package's vitest config: tests in src/, tfjs pre-bundled, the tensor-leak check around every test. */
export function tfjsTestConfig(options: TfjsTestConfigOptions = {}): UserConfig {
  const timeout = options.timeoutMs ?? 60_000;
  return defineConfig({
    test: {
      include: ['src/**/*.test.ts'],
      testTimeout: timeout,
      hookTimeout: timeout,
      setupFiles: [LEAK_CHECK],
      ...(options.pool ? { pool: options.pool } : {}),
      deps: {
        optimizer: {
          ssr: {
            enabled: true,
            include: [
              '@tensorflow/tfjs-core',
              '@tensorflow/tfjs-layers',
              '@tensorflow/tfjs-backend-cpu',
              ...(options.tfjs ?? []),
            ],
          },
        },
      },
    },
  });
}
