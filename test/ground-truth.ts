// Moved to test/support/ground-truth.ts: kept so tests not yet moved there still import it.
export * from './support/ground-truth.js';
