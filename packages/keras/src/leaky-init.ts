// tfjs-layers 4.22's LSTM with unitForgetBias (Keras's default) builds its bias initializer from three
// tensors outside any tidy and leaks four tensors per LSTM. The loader overwrites every weight anyway, so it
// builds LSTMs with unit_forget_bias off and puts the flag back on the built cells (getConfig and later
// rebuilds see Keras's value).
import type { LayersModel } from '@tensorflow/tfjs-layers';

type Dict = Record<string, unknown>;
type AnyLayer = { name: string; getClassName(): string } & Dict;

const isDict = (x: unknown): x is Dict => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A copy of `topology` with every LSTM's `unit_forget_bias` off, and the names of the LSTMs that had it on. */
export function withoutUnitForgetBias(topology: Dict): { topology: Dict; names: Set<string> } {
  const names = new Set<string>();
  const walk = (x: unknown, owner: string | undefined): unknown => {
    if (Array.isArray(x)) return x.map((v) => walk(v, owner));
    if (!isDict(x)) return x;
    const out: Dict = {};
    const config = isDict(x['config']) ? x['config'] : undefined;
    const name = typeof config?.['name'] === 'string' ? (config['name'] as string) : owner;
    for (const [k, v] of Object.entries(x)) out[k] = walk(v, name);
    if (x['class_name'] === 'LSTM' && config?.['unit_forget_bias'] === true) {
      (out['config'] as Dict)['unit_forget_bias'] = false;
      names.add(name!);
      if (owner !== undefined) names.add(owner);
    }
    return out;
  };
  return { topology: walk(topology, undefined) as Dict, names };
}

/** Sets `unitForgetBias` back on the cells of the LSTMs {@link withoutUnitForgetBias} turned off. */
export function restoreUnitForgetBias(model: LayersModel, names: ReadonlySet<string>): void {
  if (names.size === 0) return;
  const visit = (layer: AnyLayer, matched: boolean): void => {
    const hit = matched || names.has(layer.name);
    if (layer.getClassName() === 'LSTM' && hit && isDict(layer['cell'])) layer['cell']['unitForgetBias'] = true;
    for (const key of ['forwardLayer', 'backwardLayer', 'layer'])
      if (isDict(layer[key]) && typeof (layer[key] as AnyLayer).getClassName === 'function')
        visit(layer[key] as AnyLayer, hit);
    for (const inner of (layer['layers'] as AnyLayer[] | undefined) ?? []) visit(inner, false);
  };
  for (const layer of model.layers as unknown as AnyLayer[]) visit(layer, false);
}
