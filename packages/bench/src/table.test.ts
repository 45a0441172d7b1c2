import { describe, expect, it } from 'vitest';
import { markdownTable } from './print-table.js';
import { formatTables, quantile, type Results } from './table.js';

describe('quantile', () => {
  it('interpolates between order statistics (numpy.quantile, linear)', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([], 0.5)).toBeNaN();
  });
});

describe('formatTables', () => {
  it('puts each engine against PEFT and LoRA against full fine-tuning', () => {
    const series = (times: number[]) => ({ times, firstLoss: 2.3, loss: 1.1, trainable: 10 });
    const results: Results = {
      mlp: {
        peft: { lora: series([2, 2, 2]), full: series([4, 4, 4]) },
        'wasm-1t': { lora: series([5, 5, 5]), full: series([6, 6, 6]) },
      },
    };
    const text = formatTables(results, { peft: 'PEFT', 'wasm-1t': 'wasm 1 thread' });
    const row = text.split('\n').find((l) => l.startsWith('| wasm 1 thread'))!;
    const cells = row.split('|').map((c) => c.trim());
    // LoRA 5 ms, full 6 ms: LoRA/full 0.83×, vs PEFT LoRA 2.5×, vs PyTorch full 1.5×.
    expect(cells.slice(4, 7)).toEqual(['0.83×', '2.50×', '1.50×']);
    expect(text).toContain('2.30 → 1.10');
  });
});

describe('markdownTable', () => {
  it('pads columns, left-aligns the first and right-aligns the rest', () => {
    expect(
      markdownTable(
        ['name', 'ms'],
        [
          ['a', '1.5'],
          ['longer', 12],
        ],
      ),
    ).toBe(['| name   |  ms |', '|--------|----:|', '| a      | 1.5 |', '| longer |  12 |'].join('\n'));
  });
});
