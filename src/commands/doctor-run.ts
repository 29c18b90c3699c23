// `orphanmap doctor`'s work, loaded when the command runs (doctor.ts registers
// it): can this host capture? One line per requirement, with the command that
// fixes it. The checks return data (tested on the real machine); formatting is
// separate.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { EXIT_FINDINGS } from '../errors.js';
import { openReportOutput } from './output.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  id: 'privileges' | 'ptrace-scope' | 'strace' | 'seccomp-bpf' | 'bpftrace' | 'tracefs' | 'btf' | 'max-map-count';
  status: CheckStatus;
  /** What was found, e.g. "strace 6.1". */
  detail: string;
  /** The command or step that fixes a warn/fail; null when ok. */
  fix: string | null;
}

/** Where the checks look; tests may point them elsewhere. */
export interface DoctorEnv {
  readFile(path: string): string | null;
  exists(path: string): boolean;
  /** Runs a program; null when it cannot be started (not installed). */
  run(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } | null;
  uid: number;
}

export const systemDoctorEnv: DoctorEnv = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  exists: existsSync,
  run(file, args) {
    const result = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.error !== undefined) return null;
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  },
  uid: process.getuid?.() ?? -1,
};

// linux/capability.h
const CAP_SYS_PTRACE = 19n;
const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export function effectiveCapabilities(statusText: string | null): bigint | null {
  const match = statusText === null ? null : /^CapEff:\s*([0-9a-f]+)$/m.exec(statusText);
  return match?.[1] === undefined ? null : BigInt(`0x${match[1]}`);
}

const has = (caps: bigint | null, cap: bigint): boolean => caps !== null && (caps & (1n << cap)) !== 0n;

export function runDoctorChecks(env: DoctorEnv = systemDoctorEnv): DoctorCheck[] {
  const caps = effectiveCapabilities(env.readFile('/proc/self/status'));
  const canPtrace = env.uid === 0 || has(caps, CAP_SYS_PTRACE);
  return [privilegesCheck(env.uid, caps), ptraceScopeCheck(env, canPtrace), ...straceChecks(env), bpftraceCheck(env), tracefsCheck(env), btfCheck(env), maxMapCountCheck(env)];
}

function privilegesCheck(uid: number, caps: bigint | null): DoctorCheck {
  const canPtrace = uid === 0 || has(caps, CAP_SYS_PTRACE);
  const canBpf = has(caps, CAP_BPF) && has(caps, CAP_PERFMON) && has(caps, CAP_SYS_ADMIN);
  const capNames = [
    has(caps, CAP_SYS_PTRACE) ? 'CAP_SYS_PTRACE' : null,
    has(caps, CAP_BPF) ? 'CAP_BPF' : null,
    has(caps, CAP_PERFMON) ? 'CAP_PERFMON' : null,
    has(caps, CAP_SYS_ADMIN) ? 'CAP_SYS_ADMIN' : null,
  ].filter((name) => name !== null);
  const who = uid === 0 ? 'root' : `uid ${uid}`;
  return {
    id: 'privileges',
    status: canPtrace && canBpf ? 'ok' : canPtrace || canBpf ? 'warn' : 'fail',
    detail: `${who}, effective capabilities: ${capNames.length > 0 ? capNames.join(' ') : 'none of the tracing ones'}`,
    fix: canPtrace && canBpf ? null : 'run as root (sudo orphanmap ...), or grant CAP_SYS_PTRACE (strace) and CAP_BPF CAP_PERFMON CAP_SYS_ADMIN (bpftrace)',
  };
}

function ptraceScopeCheck(env: DoctorEnv, canPtrace: boolean): DoctorCheck {
  const scopeText = env.readFile('/proc/sys/kernel/yama/ptrace_scope');
  const scope = scopeText === null ? null : Number(scopeText.trim());
  if (scope === null) return { id: 'ptrace-scope', status: 'ok', detail: 'kernel.yama.ptrace_scope: Yama not enabled', fix: null };
  // 1: only descendants unless CAP_SYS_PTRACE; 2: CAP_SYS_PTRACE only; 3: never.
  const status: CheckStatus = scope === 0 || (scope <= 2 && canPtrace) ? 'ok' : scope === 3 ? 'fail' : 'warn';
  return {
    id: 'ptrace-scope',
    status,
    detail: `kernel.yama.ptrace_scope = ${scope}${scope === 3 ? ' (ptrace attach disabled until reboot)' : ''}`,
    fix: status === 'ok' ? null : scope === 3 ? 'use --backend bpftrace (ptrace_scope 3 cannot be lowered without a reboot)' : 'sysctl -w kernel.yama.ptrace_scope=0, or run as root',
  };
}

/** strace and its --seccomp-bpf, as capture-strace.sh will use them. */
function straceChecks(env: DoctorEnv): [DoctorCheck, DoctorCheck] {
  const strace = env.run('strace', ['-V']);
  const straceVersion = strace === null ? null : (/version\s+(\d+(?:\.\d+)*)/.exec(strace.stdout)?.[1] ?? null);
  let version: DoctorCheck;
  if (strace === null || straceVersion === null) {
    version = { id: 'strace', status: 'fail', detail: 'strace not found', fix: 'apt-get install -y strace (or: dnf install strace)' };
  } else {
    const old = compareVersions(straceVersion, '5.3') < 0;
    version = { id: 'strace', status: old ? 'warn' : 'ok', detail: `strace ${straceVersion}`, fix: old ? 'upgrade strace to 5.3 or later (for --seccomp-bpf and -yy)' : null };
  }
  if (strace === null) return [version, { id: 'seccomp-bpf', status: 'warn', detail: 'not checked: no strace', fix: 'apt-get install -y strace' }];
  return [version, seccompCheck(env)];
}

function seccompCheck(env: DoctorEnv): DoctorCheck {
  // capture-strace.sh's own test: the filter only together with --kill-on-exit
  // (strace 6.6+), since a command left under the filter by a dead strace gets
  // ENOSYS from every traced syscall (docs/safety.md).
  const probe = (extra: string[]) => env.run('strace', ['-f', '--seccomp-bpf', ...extra, '-qq', '-e', 'trace=exit_group', '-o', '/dev/null', 'true']);
  const works = (result: ReturnType<typeof probe>) => result !== null && result.status === 0 && result.stderr.trim() === '';
  const seccomp = probe([]);
  if (works(seccomp) && works(probe(['--kill-on-exit']))) {
    return { id: 'seccomp-bpf', status: 'ok', detail: 'strace --seccomp-bpf --kill-on-exit works: launched commands run at near full speed, and die with strace if it is killed', fix: null };
  }
  if (works(seccomp)) {
    // Not a fault: captures are safe and complete, launched ones only slower.
    return {
      id: 'seccomp-bpf',
      status: 'ok',
      detail:
        'strace --seccomp-bpf works, but this strace has no --kill-on-exit (6.6+): launched commands are traced without the filter (slower), so a killed strace never leaves them with failing syscalls',
      fix: null,
    };
  }
  return {
    id: 'seccomp-bpf',
    status: 'warn',
    detail: `strace --seccomp-bpf unavailable: ${firstLine(seccomp?.stderr) ?? 'failed'}`,
    fix: 'upgrade strace (6.6 or later for --seccomp-bpf with --kill-on-exit) and use a kernel with CONFIG_SECCOMP_FILTER; captures still work, slower',
  };
}

function bpftraceCheck(env: DoctorEnv): DoctorCheck {
  const bpftrace = env.run('bpftrace', ['--version']);
  const bpftraceVersion = bpftrace === null ? null : (/v?(\d+\.\d+(?:\.\d+)?)/.exec(bpftrace.stdout)?.[1] ?? null);
  return bpftrace === null || bpftraceVersion === null
    ? { id: 'bpftrace', status: 'warn', detail: 'bpftrace not found (needed only for --backend bpftrace)', fix: 'apt-get install -y bpftrace (or: dnf install bpftrace)' }
    : { id: 'bpftrace', status: 'ok', detail: `bpftrace v${bpftraceVersion}`, fix: null };
}

function tracefsCheck(env: DoctorEnv): DoctorCheck {
  const tracefs = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((dir) => env.exists(`${dir}/events`));
  if (tracefs !== undefined) return { id: 'tracefs', status: 'ok', detail: `tracefs mounted at ${tracefs}`, fix: null };
  // Mounted, but its directory is root's alone (mode 0700): to anyone else it looks absent (review 11).
  const mounted = /^\S+ (\S+) tracefs /m.exec(env.readFile('/proc/self/mounts') ?? '')?.[1];
  if (mounted !== undefined && env.uid !== 0) {
    return {
      id: 'tracefs',
      status: 'warn',
      detail: `tracefs is mounted at ${mounted}, but this user (uid ${env.uid}) cannot read it: bpftrace cannot find tracepoints`,
      fix: 'run orphanmap as root (bpftrace needs it)',
    };
  }
  return { id: 'tracefs', status: 'warn', detail: 'tracefs not mounted: bpftrace cannot find tracepoints', fix: 'mount -t tracefs nodev /sys/kernel/tracing' };
}

function btfCheck(env: DoctorEnv): DoctorCheck {
  const btf = env.exists('/sys/kernel/btf/vmlinux');
  return {
    id: 'btf',
    status: btf ? 'ok' : 'warn',
    detail: btf ? 'kernel BTF at /sys/kernel/btf/vmlinux' : 'no kernel BTF: orphanmap.bt cannot read curtask->files (inodes, mm)',
    fix: btf ? null : 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or --backend strace',
  };
}

function maxMapCountCheck(env: DoctorEnv): DoctorCheck {
  const mapCountText = env.readFile('/proc/sys/vm/max_map_count');
  const maxMapCount = mapCountText === null ? null : Number(mapCountText.trim());
  if (maxMapCount === null || !Number.isFinite(maxMapCount)) return { id: 'max-map-count', status: 'warn', detail: 'vm.max_map_count unreadable', fix: 'cat /proc/sys/vm/max_map_count' };
  // Kafka's own docs ask for 262144; below it, leaked index mappings reach "Map failed" sooner.
  return {
    id: 'max-map-count',
    status: maxMapCount < 262144 ? 'warn' : 'ok',
    detail: `vm.max_map_count = ${maxMapCount}`,
    fix: maxMapCount < 262144 ? 'sysctl -w vm.max_map_count=262144 (brokers with many segments need headroom for leaked mappings)' : null,
  };
}

/** Runs the checks and prints them; the exit status. */
export async function runDoctor(): Promise<number> {
  const checks = runDoctorChecks();
  const output = openReportOutput(undefined);
  output.write(formatDoctor(checks));
  await output.close();
  // A failed check is an answer, not a bug (exit 1 is kept for bugs): 3, as when --fail-on finds something.
  return checks.some((check) => check.status === 'fail') ? EXIT_FINDINGS : 0;
}

export function formatDoctor(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((check) => check.id.length));
  return checks
    .map((check) => `${check.status.padEnd(4)}  ${check.id.padEnd(width)}  ${check.detail}${check.fix === null ? '' : `\n      ${' '.repeat(width)}  fix: ${check.fix}`}`)
    .join('\n')
    .concat('\n');
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function firstLine(text: string | undefined): string | null {
  const line = text?.split('\n').find((l) => l.trim() !== '');
  return line === undefined ? null : line.trim();
}
