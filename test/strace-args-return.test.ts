import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitCall } from '../src/parse/strace-args.js';

/** The return text as splitCall read it before the -T duration was found by a backward scan: lastIndexOf(' <'), then `\d+\.\d+`. */
function returnByLastIndexOf(body: string): string | null {
  const close = body.indexOf(')');
  const eq = body.indexOf('= ', close + 1);
  if (eq < 0) return null;
  for (let k = close + 1; k < eq; k++) if (body.charCodeAt(k) !== 32) return null;
  let end = body.length;
  if (body.endsWith('>')) {
    const open = body.lastIndexOf(' <');
    if (open >= eq + 2 && /^\d+\.\d+$/.test(body.slice(open + 2, end - 1))) end = open;
  }
  return body.slice(eq + 2, end);
}

describe('the return value after a -T duration is taken off', () => {
  it('is what a search for the last " <" and a duration after it gives', () => {
    const tail = fc.array(fc.constantFrom(' ', '<', '>', '.', '0', '7', '=', 'x', ' <', '= '), { maxLength: 14 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(tail, fc.constantFrom('', ' <', ' <1.5>', '>'), (text, end) => {
        const body = `3) = ${text}${end}`;
        expect(splitCall(body)?.ret ?? null).toBe(returnByLastIndexOf(body));
      }),
      { numRuns: 20000 },
    );
    for (const body of ['3) = 0 <0.000004>', '3) = 0 <.5>', '3) = 0 <5.>', '3) = 0 <1.2.3>', '3) = 0<1.5>', '3) = 5</x <1.5>> <0.1>', ') = <1.5>', ') =  <1.5>', '3) = 0 <1x5>']) {
      expect(splitCall(body)?.ret ?? null, body).toBe(returnByLastIndexOf(body));
    }
  });
});
