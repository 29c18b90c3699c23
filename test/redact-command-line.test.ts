// --redact on the "how to reproduce" command. It was redacted as one line of
// free text, where a path ends at its first space: `--path '/data/secret
// words here/*'` kept "words" and "here", and a glob without a slash
// (`--path '*acmecorp*'`) was kept whole. Each argument is now redacted on its
// own. Expected hashes are computed here with node:crypto (the first 8 hex
// digits of a component's SHA-256), not by the code under test.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandLine } from '../src/report/formats.js';
import { redactArgument, redaction, redactProgramArgument, redactText } from '../src/report/redact.js';
import { requireTool, runCli } from './support/tools.js';

const h = (component: string): string => createHash('sha256').update(component).digest('hex').slice(0, 8);
const TRACE = 'traces/f-o-ttt-T-y/trace.txt';
const REDACTED_TRACE = `${h('traces')}/${h('f-o-ttt-T-y')}/${h('trace')}.txt`;

describe('the reproducing command under --redact', () => {
  it('hashes a path option value whole, spaces and all, and a glob without a slash', () => {
    const shown = commandLine(['analyze', TRACE, '--redact', '--path', '/data/secret words here/*', '--path=*acmecorp*', '-o', '/srv/acme corp/report.md'], redaction(true, [TRACE]));
    // Top directories of the file system (/srv, /tmp) are kept, as in every redacted path.
    expect(shown).not.toMatch(/secret|words|here|acmecorp|acme|corp|data/);
    expect(shown).toBe(`orphanmap analyze ${REDACTED_TRACE} --redact --path /${h('data')}/${h('secret words here')}/${h('*')} --path=${h('*acmecorp*')} -o /srv/${h('acme corp')}/${h('report')}.md`);
  });

  it('keeps option names, "-" and the values of options that name nothing of the host', () => {
    const argv = ['analyze', '-', '--redact', '-f', 'jira', '--format=json', '-fmarkdown', '--pid', '4242', '--fail-on', 'error', '-o', '-'];
    expect(commandLine(argv, redaction(true))).toBe(`orphanmap ${argv.join(' ')}`);
  });

  it('is the command as typed without --redact, quoted for a shell', () => {
    expect(commandLine(['analyze', TRACE, '--path', "/data/it's here/*"])).toBe(`orphanmap analyze ${TRACE} --path '/data/it'\\''s here/*'`);
  });

  it('shows no word of the --path value in a Markdown report', () => {
    const result = runCli(['analyze', TRACE, '--redact', '--format', 'markdown', '--path', '/tmp/orphanmap-repro/secret words here/*']);
    expect(result.status, result.stderr).toBe(0);
    const reproduce = result.stdout.split('\n').find((line) => line.startsWith('orphanmap analyze'));
    expect(reproduce).toBe(`orphanmap analyze ${REDACTED_TRACE} --redact --format markdown --path /tmp/${h('orphanmap-repro')}/${h('secret words here')}/${h('*')}`);
  });

  it("shows no word of report's --out directory in its README.txt and environment.json", () => {
    const out = join(mkdtempSync(join(tmpdir(), 'orphanmap-cmdline-')), 'acme secret stash');
    const result = runCli(['report', TRACE, '--redact', '--out', out]);
    expect(result.status, result.stderr).toBe(0);
    for (const name of ['README.txt', 'environment.json', 'report.md']) {
      const text = readFileSync(join(out, name), 'utf8');
      expect(text, name).toContain(`orphanmap report ${REDACTED_TRACE} --redact --out `);
      expect(text, name).not.toMatch(/acme|secret|stash/);
    }
  });
});

// The traced program's own command line, from a real capture: meta.json's
// cmdline (its argv) and command (the tracer's command line, quoted for a
// shell). Each argument was redacted as free text, so a path with a space kept
// the words after it.
describe("the traced program's command line under --redact, from a real capture", () => {
  it('hashes each argument that is a path, or an option whose value is one, whole, in cmdline and in command', () => {
    requireTool('strace');
    const bundle = join(mkdtempSync(join(tmpdir(), 'orphanmap-argv-')), 'bundle');
    const argv = ['/bin/sh', '-c', 'exit 0', 'sh', '/data/acme corp secret/orders-3', '-Dlog.dir=/data/acme corp secret'];
    const captured = runCli(['capture', '--out', bundle, '--', ...argv]);
    expect(captured.status, captured.stderr).toBe(0);
    // What the capture recorded, the truth the redaction is tested on: the argv as given.
    const meta = JSON.parse(readFileSync(join(bundle, 'meta.json'), 'utf8')) as { cmdline: string[]; command: string };
    expect(meta.cmdline).toEqual(argv);
    expect(meta.command).toContain("'/data/acme corp secret/orders-3'");
    const analyzed = runCli(['analyze', bundle, '--redact', '--format', 'json']);
    expect(analyzed.status, analyzed.stderr).toBe(0);
    const { environment } = JSON.parse(analyzed.stdout) as { environment: { cmdline: string[]; command: string } };
    const secret = `/${h('data')}/${h('acme corp secret')}`;
    // Every value is hashed: a path by its components, a word whole; the option name -c is kept.
    expect(environment.cmdline).toEqual([`/bin/${h('sh')}`, '-c', h('exit 0'), h('sh'), `${secret}/${h('orders')}-3`, `-Dlog.dir=${secret}`]);
    expect(environment.command).toContain(` ${secret}/${h('orders')}-3 -Dlog.dir=${secret}`);
    expect(environment.command).not.toContain('exit 0');
    expect(JSON.stringify(environment)).not.toMatch(/acme|corp|secret/);
  });
});

describe('a path after a colon under --redact', () => {
  it('is hashed in an option (-javaagent:, -Xbootclasspath/a:), a URL scheme and a list, as after a blank or =', () => {
    expect(redactArgument('-javaagent:/opt/acme-prod/jmx_prometheus_javaagent.jar=7071:/etc/acme-kafka/jmx.yml')).toBe(
      `-javaagent:/opt/${h('acme-prod')}/${h('jmx_prometheus_javaagent')}.jar=7071:/etc/${h('acme-kafka')}/${h('jmx')}.yml`,
    );
    expect(redactArgument('jdbc:sqlite:/srv/acme/db')).toBe(`jdbc:sqlite:/srv/${h('acme')}/${h('db')}`);
    expect(redactArgument('file:/srv/acme/x')).toBe(`file:/srv/${h('acme')}/${h('x')}`);
    expect(redactArgument('-Xbootclasspath/a:/opt/acme/boot.jar')).not.toMatch(/acme/);
    expect(redactText('unknown (/opt/hidden:vendorY/bin/java)')).toBe(`unknown (/opt/${h('hidden')}:${h('vendorY')}/bin/${h('java')})`);
    // A place in a message keeps its line number.
    expect(redactText('at traces/x/trace.txt:504')).toBe(`at ${h('traces')}/${h('x')}/${h('trace')}.txt:504`);
  });
});

// A broker's command line holds more than paths: its host name and port, a
// customer, a keystore password as a -D property. Only paths were hashed, so
// the host name the report hashes in its own row stood in clear in the
// command line (review 19's safety review, F2).
describe("the traced program's other values under --redact", () => {
  it('hashes every value of a broker-like command line, keeping option names, setting names, numbers and the program name', () => {
    const argv = [
      'java',
      '-Xmx1G',
      '-XX:+UseG1GC',
      '-Djavax.net.ssl.keyStorePassword=hunter2zz',
      'kafka.Kafka',
      '--override',
      'broker.id=3',
      '--bootstrap-server',
      'broker1.acmecorpzz.internal:9092',
      '--customer',
      'acmecorpzz',
      'jdbc:postgresql://db.acmecorpzz.internal:5432/orders',
    ];
    const shown = argv.map((arg, k) => redactProgramArgument(arg, k === 0));
    expect(shown).toEqual([
      'java',
      '-Xmx1G',
      '-XX:+UseG1GC',
      `-Djavax.net.ssl.keyStorePassword=${h('hunter2zz')}`,
      h('kafka.Kafka'),
      '--override',
      'broker.id=3',
      '--bootstrap-server',
      h('broker1.acmecorpzz.internal:9092'),
      '--customer',
      h('acmecorpzz'),
      `jdbc:postgresql://${h('db.acmecorpzz.internal:5432/orders')}`,
    ]);
    expect(shown.join(' ')).not.toMatch(/acmecorpzz|hunter2/);
  });
});
