// Types for the parts of jsfive 0.4 (a pure-JS HDF5 reader, no bundled types) this package uses.
declare module 'jsfive' {
  /** An HDF5 group: child names and lookup. */
  export class Group {
    readonly keys: string[];
    get(name: string): Group | Dataset;
  }
  /** An HDF5 dataset: shape, dtype string (`'<f4'`) and values (a typed array). */
  export class Dataset {
    readonly shape: number[];
    readonly dtype: string;
    readonly value: unknown;
  }
  /** An HDF5 file read from an ArrayBuffer. */
  export class File extends Group {
    constructor(buffer: ArrayBuffer, filename?: string);
  }
}
