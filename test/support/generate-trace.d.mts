// Types for test/support/generate-trace.mjs, so tests can generate traces in-process.
export declare const GENERATOR_VERSION: number;
export declare function parseSize(text: string): number;
/** A deterministic generator of numbers in [0, 1) (mulberry32). */
export declare function prng(seed: number): () => number;
export interface GeneratedTrace {
  version: number;
  seed: number;
  leakRate: number;
  gcRate: number;
  target: number;
  filtered: boolean;
  bytes: number;
  lines: number;
  findings: { 'unlinked-while-mapped': number; 'remapped-without-unmap': number };
  counts: Record<string, number>;
}
export declare function generate(options: { bytes: number; seed?: number; leakRate?: number; gcRate?: number; filtered?: boolean; write: (text: string) => void }): GeneratedTrace;
export declare function main(args?: string[]): Promise<void>;
