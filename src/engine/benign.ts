// Findings known to be benign: real instances of the pattern that are not
// leaks. Each rule has a name, so that every view can say why a finding is
// benign from this one place instead of guessing from its severity or path.

export interface BenignRule {
  /** Short, for a summary line: "1 benign (JVM hsperfdata at exit)". */
  readonly name: string;
  /** Plain words for a report: what the file is and why keeping it mapped is no leak. */
  readonly note: string;
  /** Matches the file's last name. */
  readonly path: RegExp;
}

const RULES: readonly BenignRule[] = [
  {
    name: 'JVM hsperfdata at exit',
    note: "The JVM's own performance-data file (hsperfdata): the JVM unlinks it at exit without unmapping it first. Benign; not a leak.",
    // /tmp/hsperfdata_<user>/<pid>
    path: /\/hsperfdata_[^/]+\/\d+$/,
  },
];

/** The rule that makes a mapping of this file benign, or null. */
export function benignRuleFor(path: string): BenignRule | null {
  return RULES.find((rule) => rule.path.test(path)) ?? null;
}
