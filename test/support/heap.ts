// The heap still used after full collections: what a test's objects keep
// alive, measured in-process (V8's gc() exposed at run time).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed after two full collections (the second takes what the first's finalizers freed). */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
