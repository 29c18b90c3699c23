// The options several commands share, each parsed by one rule in one place:
// `--pid`, `--duration`, `--format`, `--fail-on`, `--path`, `--redact` and
// `--backend`. A bad value is a UsageError (exit 2) that names the option and
// repeats what was given, the same words whichever command took it.
import { Option } from 'commander';
import { BACKENDS, checkDurationSeconds } from '../capture/scripts.js';
import { UsageError } from '../errors.js';

/** PID_MAX_LIMIT on 64-bit Linux (include/linux/threads.h): no process id is larger. */
export const PID_MAX = 4_194_304;

/** A process id as ps and /proc print it: decimal digits, 1 to PID_MAX. */
export function parsePid(text: string, flag = '--pid'): number {
  const pid = /^[1-9][0-9]{0,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(pid <= PID_MAX)) throw new UsageError(`${flag} needs a process id (a whole number from 1 to ${PID_MAX}), not "${text}"`);
  return pid;
}

export function pidOption(description: string): Option {
  return new Option('--pid <pid>', description).argParser((text: string) => parsePid(text));
}

/** `--pid N...` (scan): the same rule for each process id, collected in order. */
export function pidsOption(description: string): Option {
  return new Option('--pid <pid...>', description).argParser((text: string, previous: number[] | undefined) => [...(previous ?? []), parsePid(text)]);
}

/**
 * What capture and live trace: a running process (`--pid N`) or a command
 * (after `--`), exactly one of them.
 */
export function targetOf(commandName: string, pid: number | undefined, command: readonly string[]): { pid: number } | { command: string[] } {
  if (pid !== undefined && command.length > 0) throw new UsageError('give --pid N or -- CMD..., not both');
  if (pid !== undefined) return { pid };
  if (command.length === 0) throw new UsageError(`${commandName} needs --pid N or -- CMD ARGS...`);
  return { command: [...command] };
}

/**
 * `--duration`: seconds as a number, fractions allowed, written as JavaScript
 * (and GNU sleep's strtod) reads numbers: `30`, `0.5`, `1e3`. Not blank, not
 * Infinity, from 1 ms to 2,147,483 s (24.8 days): what the capture scripts
 * can count (see checkDurationSeconds). capture and live share this rule.
 */
export function parseSeconds(text: string, flag = '--duration'): number {
  const seconds = text.trim() === '' ? Number.NaN : Number(text);
  checkDurationSeconds(seconds, `"${text}"`, flag);
  return seconds;
}

export function durationOption(description: string): Option {
  return new Option('--duration <seconds>', description).argParser((text: string) => parseSeconds(text));
}

export function formatOption<F extends string>(choices: readonly F[], defaultValue: F, description = 'output format'): Option {
  return new Option('-f, --format <format>', description).choices(choices).default(defaultValue);
}

export function pathOption(): Option {
  return new Option('--path <glob>', 'only findings whose file (any of its names) matches; without a slash, matches the base name');
}

export function redactOption(where: string): Option {
  return new Option('--redact', `replace path components with stable short hashes, ${where}`);
}

export function backendOption(): Option {
  return new Option('--backend <name>', 'tracer').choices([...BACKENDS]).default('strace');
}

export const FAIL_ON = ['error', 'warning'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export function failOnOption(description: string): Option {
  return new Option('--fail-on <severity>', description).choices(FAIL_ON);
}

/** `--fail-on error`: any error; `--fail-on warning`: any error or warning. Info never fails. */
export function failsOn(severities: Iterable<string>, threshold: FailOn | undefined): boolean {
  return failingCount(severities, threshold) > 0;
}

/** How many of `severities` fail `--fail-on threshold`. */
export function failingCount(severities: Iterable<string>, threshold: FailOn | undefined): number {
  if (threshold === undefined) return 0;
  let failing = 0;
  for (const severity of severities) if (severity === 'error' || (threshold === 'warning' && severity === 'warning')) failing++;
  return failing;
}
