// `orphanmap doctor`: can this host capture? Registration only; the checks are
// in doctor-run.ts, loaded when the command runs, so that no other command
// loads node:child_process for them (4–9 ms of every start).
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check that this host can capture: privileges, ptrace scope, strace, seccomp-bpf, bpftrace, tracefs, BTF, vm.max_map_count')
    .action(async () => {
      const { runDoctor } = await import('./doctor-run.js');
      process.exitCode = await runDoctor();
    });
}
