// Moved to test/support/tools.ts: kept so tests not yet moved there still import it.
export * from './support/tools.js';
