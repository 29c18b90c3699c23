// The options several commands share, each parsed by one rule in one place:
// `--pid`, `--duration`, `--format` and `--fail-on`. A bad value is a
// UsageError (exit 2) that names the option and repeats what was given.
import { Option } from 'commander';
import { checkDurationSeconds } from '../capture/scripts.js';
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

export function formatOption<F extends string>(choices: readonly F[], defaultValue: F): Option {
  return new Option('-f, --format <format>', 'output format').choices(choices).default(defaultValue);
}

export const FAIL_ON = ['error', 'warning'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export function failOnOption(description: string): Option {
  return new Option('--fail-on <severity>', description).choices(FAIL_ON);
}

/** `--fail-on error`: any error; `--fail-on warning`: any error or warning. Info never fails. */
export function failsOn(severities: Iterable<string>, threshold: FailOn | undefined): boolean {
  if (threshold === undefined) return false;
  for (const severity of severities) if (severity === 'error' || (threshold === 'warning' && severity === 'warning')) return true;
  return false;
}
