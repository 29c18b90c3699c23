// Moved to test/support/trace-text.ts: kept so tests not yet moved there still import it.
export * from './support/trace-text.js';
