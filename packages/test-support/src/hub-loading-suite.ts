// The Hugging Face Hub loading test that the text and vision packages share: their fixtures served in the Hub's
// URL layout by a real local server (hub-server.ts), a model loaded through hf:// and its PEFT adapter by URL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HfModelChecks } from './hf-model-checks.js';
import { startHubServer, type HubServer } from './hub-server.js';

/** Options of {@link describeHubLoading}. */
export interface HubLoadingOptions {
  /** How the test's name calls the fixture's adapter (`'its PEFT adapter'`). */
  adapter: string;
  /** Largest max difference to the reference outputs that passes. */
  tolerance: number;
}

/**
 * The describe block "hf:// from a server with the Hub’s URL layout": serves the package's fixtures as the Hub
 * repositories `tiny/<fixture name>` ({@link startHubServer}, revision `main`), and tests that
 * `hf://tiny/<fixture>` loads with `hubEndpoint` and gives the reference outputs, that config.json and
 * model.safetensors were fetched in the Hub's layout, and that the fixture's `adapter/` folder, loaded by URL from
 * the same server, gives the reference's `logits_lora`.
 */
export function describeHubLoading(hf: HfModelChecks, fixture: string, options: HubLoadingOptions): void {
  describe('hf:// from a server with the Hub’s URL layout', () => {
    let hub: HubServer;
    beforeAll(async () => {
      hub = await startHubServer((repo, file) =>
        repo.startsWith('tiny/') ? hf.fixture(repo.slice(5), file) : undefined,
      );
    });
    afterAll(() => hub.close());

    it(`loads hf://org/name and ${options.adapter} from the same server`, async () => {
      const model = await hf.load(`hf://tiny/${fixture}`, { hubEndpoint: hub.endpoint });
      expect(await hf.outputDiff(model, fixture)).toBeLessThan(options.tolerance);
      expect(hub.requested).toContain(`/tiny/${fixture}/resolve/main/config.json`);
      expect(hub.requested).toContain(`/tiny/${fixture}/resolve/main/model.safetensors`);
      const adapterUrl = hub.url(`tiny/${fixture}`, 'adapter/');
      expect(await hf.adapterDiff(model, adapterUrl, fixture)).toBeLessThan(options.tolerance);
      model.dispose();
    });
  });
}
