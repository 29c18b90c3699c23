// `orphanmap report`'s work, loaded when the command runs (report.ts registers it).
import { writeEvidence } from '../evidence/write.js';
import { reportHeadline } from '../report/finding-view.js';
import { escapeControl } from '../report/sanitize.js';
import { packageVersion } from './version.js';

/** Writes the evidence directory; says what it found and wrote on stderr, and the directory on stdout. */
export async function writeReportDir(inputs: string[], out: string, redact: boolean): Promise<void> {
  const result = await writeEvidence(inputs, { out, redact, argv: process.argv.slice(2), version: packageVersion() });
  process.stderr.write(`orphanmap: ${escapeControl(reportHeadline(result.report))}\norphanmap: wrote ${result.files.join(', ')}\n`);
  process.stdout.write(`${escapeControl(result.dir)}\n`);
}
