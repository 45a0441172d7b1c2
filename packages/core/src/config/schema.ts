// The shape of a LoRA configuration: its types, each field's name in PEFT's adapter_config.json, and
// PEFT's defaults. Read first; config/checks.ts and ../config.ts build on it.

/** How LoRA weights start: PEFT's `init_lora_weights` values that tfjs-lora implements. */
export type InitLoraWeights = boolean | 'gaussian' | 'pissa' | `pissa_niter_${number}` | 'olora';
/** Which biases train alongside LoRA (PEFT's `bias`). */
export type BiasMode = 'none' | 'all' | 'lora_only';
/**
 * Which layers a setting applies to. string = 'all-linear' or a regex that must fully match the layer
 * path (PEFT: a str target is re.fullmatch); RegExp = full match; string[] = exact name or dotted-suffix match.
 */
export type ModuleSelector = string | RegExp | readonly string[];

/** A fully resolved LoRA configuration (PEFT's `LoraConfig`): all fields present, frozen. */
export interface LoraConfig {
  r: number;
  loraAlpha: number;
  loraDropout: number;
  targetModules: ModuleSelector | null;
  excludeModules: ModuleSelector | null;
  bias: BiasMode;
  modulesToSave: readonly string[] | null;
  initLoraWeights: InitLoraWeights;
  useRslora: boolean;
  useDora: boolean;
  rankPattern: Readonly<Record<string, number>>;
  alphaPattern: Readonly<Record<string, number>>;
  layersToTransform: number | readonly number[] | null;
  layersPattern: string | readonly string[] | null;
  fanInFanOut: boolean;
  /** PEFT fields we do not interpret but keep for a faithful round trip (snake_case keys as read) */
  extra: Readonly<Record<string, unknown>>;
}

/** What `loraConfig` accepts: any subset of the fields; the rest take PEFT's defaults. */
export type LoraConfigInput = Partial<Omit<LoraConfig, 'extra'>> & { extra?: Record<string, unknown> };

/** One layer's values under a config (what a LoRA layer is built with): rank and alpha after the patterns. */
export type LayerSettings = Pick<LoraConfig, 'r' | 'loraAlpha' | 'loraDropout' | 'useRslora' | 'useDora'>;

/** A LoraConfig field that tfjs-lora interprets. */
export type Field = Exclude<keyof LoraConfig, 'extra'>;

/** Each interpreted field and its snake_case name in PEFT's adapter_config.json. */
export const PEFT_KEYS: Readonly<Record<Field, string>> = Object.freeze({
  r: 'r',
  loraAlpha: 'lora_alpha',
  loraDropout: 'lora_dropout',
  targetModules: 'target_modules',
  excludeModules: 'exclude_modules',
  bias: 'bias',
  modulesToSave: 'modules_to_save',
  initLoraWeights: 'init_lora_weights',
  useRslora: 'use_rslora',
  useDora: 'use_dora',
  rankPattern: 'rank_pattern',
  alphaPattern: 'alpha_pattern',
  layersToTransform: 'layers_to_transform',
  layersPattern: 'layers_pattern',
  fanInFanOut: 'fan_in_fan_out',
});
/** Every interpreted field, in PEFT_KEYS order. */
export const FIELDS = Object.keys(PEFT_KEYS) as Field[];

/** PEFT 0.21's defaults for every interpreted field. */
export const LORA_DEFAULTS: Readonly<Omit<LoraConfig, 'extra'>> = Object.freeze({
  r: 8,
  loraAlpha: 8,
  loraDropout: 0,
  targetModules: null,
  excludeModules: null,
  bias: 'none',
  modulesToSave: null,
  initLoraWeights: true,
  useRslora: false,
  useDora: false,
  rankPattern: Object.freeze({}),
  alphaPattern: Object.freeze({}),
  layersToTransform: null,
  layersPattern: null,
  fanInFanOut: false,
});
