#!/usr/bin/env node
// Generates a large, realistic strace trace of a Kafka-like JVM broker, in the
// shape of `strace -f -o FILE -ttt -T -y` (unfiltered: most calls are noise),
// with a known number of findings.
//
// The generator lives here, beside the tests that import it; bench/generate-trace.mjs
// is its command line and re-exports it for the benchmarks.
//
// USAGE
//   node bench/generate-trace.mjs SIZE [OUT] [--seed N] [--leak-rate R] [--gc-rate R] [--filtered]
//   node bench/generate-trace.mjs 100MB                 → bench/out/trace-100MB.txt
//   node bench/generate-trace.mjs 1GB bench/out/big.txt --seed 7
//
// Writes OUT and OUT.expected.json: the line and byte counts and the number of
// findings of each kind that orphanmap must report. The expectation is exact,
// not statistical: the generator keeps its own model of fds and mappings and
// counts a finding at the very line that decides it, in print order, with the
// engine's rules (close/munmap take effect at entry, everything else at exit).
//
// The workload (docs/kafka-index-lifecycle.md): partitions roll segments;
// a roll trims the old active segment's .index/.timeindex (open, ftruncate to
// the real size, mmap again, close). A "leaky" trim keeps the old 10 MiB
// mapping (Kafka on Linux: remapped-without-unmap); a correct one munmaps it
// first. Retention renames the oldest segment to *.deleted, and later munmaps
// the current mapping and unlinks: a leaked mapping still live at that unlink
// is unlinked-while-mapped. A Cleaner thread unmaps some leaked mappings
// (GC), sometimes before the unlink (then no unlink finding), sometimes after.
// Around that: futex storms, socket reads/writes, epoll, sendfile, anonymous
// mmaps, checkpoint files renamed over their previous version, and now and
// then a posix_spawn'd helper (vfork + execve + exit).
//
// strace's own framing is imitated: only one line is ever open; when another
// thread prints, the open line is ended with " <unfinished ...>" and finished
// later as "<... NAME resumed>".
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const GENERATOR_VERSION = 4;

/** bench/, where the command line writes by default (bench/out/ is ignored by git). */
const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

// ---- arguments -------------------------------------------------------------

export function parseSize(text) {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|K|MB|M|GB|G)?$/i.exec(text);
  if (match === null) throw new Error(`not a size: "${text}" (try 100MB or 1GB)`);
  const unit = (match[2] ?? 'B').toUpperCase()[0];
  const scale = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * scale);
}

// ---- deterministic randomness ------------------------------------------------

/** mulberry32: small, fast, good enough for workloads and for tests that must replay a failure. */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the generator -----------------------------------------------------------

const MiB = 1024 * 1024;
const INDEX_SIZE = 10 * MiB;
const PAGE = 4096;
const PID = 24310;
const CWD = '/opt/kafka';
const LOG_DIR = '/var/lib/kafka/data';
const SEGMENTS_KEPT = 2;

/**
 * @param {{ bytes: number, seed?: number, leakRate?: number, gcRate?: number, write: (text: string) => void }} options
 */
export function generate(options) {
  const random = prng(options.seed ?? 1);
  const leakRate = options.leakRate ?? 0.3;
  const gcRate = options.gcRate ?? 0.4;
  const target = options.bytes;
  const pick = (list) => list[Math.floor(random() * list.length)];
  const between = (low, high) => low + Math.floor(random() * (high - low + 1));

  // Output, batched.
  let buffer = '';
  let bytes = 0;
  let lines = 0;
  // --filtered: what `strace -e trace=<the calls orphanmap follows>` would keep (docs/trace-formats.md, "Recommended capture").
  const kept = options.filtered
    ? /^\d+ [\d.]+ (?:<\.\.\. )?(open|openat|close|mmap|munmap|mremap|ftruncate|truncate|rename|renameat2?|unlink|unlinkat|clone3?|vfork|execve|exit|exit_group|dup[23]?|fcntl)\b|^\d+ [\d.]+ \+\+\+/
    : null;
  let ticks = 0; // lines as strace would print them unfiltered: the workload's clock
  const print = (text) => {
    ticks++;
    if (kept !== null && !kept.test(text)) return;
    buffer += text;
    buffer += '\n';
    lines++;
    if (buffer.length > 1 << 20) flush();
  };
  const flush = () => {
    bytes += Buffer.byteLength(buffer);
    options.write(buffer);
    buffer = '';
  };
  const written = () => bytes + buffer.length; // the trace is ASCII

  // Clock: integer microseconds since the epoch.
  let now = 1795606335190288;
  const stamp = (us) => {
    const frac = String(us % 1e6);
    return `${Math.floor(us / 1e6)}.${'000000'.slice(frac.length)}${frac}`;
  };
  const duration = (us) => {
    const frac = String(us % 1e6);
    return ` <${Math.floor(us / 1e6)}.${'000000'.slice(frac.length)}${frac}>`;
  };

  // Expected results, counted at the deciding line.
  const expected = {
    'unlinked-while-mapped': 0,
    'remapped-without-unmap': 0,
  };
  const counts = { segments: 0, trims: 0, leakyTrims: 0, deletions: 0, gcUnmaps: 0, gcBeforeUnlink: 0, spawns: 0, threadsStarted: 0, threadsExited: 0 };

  // ---- fds (one table: all threads share it) and address space ---------------
  const usedFds = new Set([0, 1, 2]);
  const lowestFreeFd = () => {
    let fd = 0;
    while (usedFds.has(fd)) fd++;
    usedFds.add(fd);
    return fd;
  };
  let nextAddress = 0x7f0000000000;
  /** Never reuses a range: the engine would (rightly) treat reuse as an unmap. */
  const allocate = (length, align) => {
    const size = Math.ceil(length / PAGE) * PAGE;
    nextAddress -= size + PAGE * between(0, 15);
    nextAddress -= nextAddress % align;
    return nextAddress;
  };
  const hex = (n) => `0x${n.toString(16)}`;

  // Long-lived descriptors opened before the interesting part.
  const sockets = [];
  for (let k = 0; k < 96; k++) sockets.push({ fd: lowestFreeFd(), label: `socket:[${4012345 + k * 7}]` });
  const epolls = [];
  for (let k = 0; k < 8; k++) epolls.push({ fd: lowestFreeFd(), label: 'anon_inode:[eventpoll]' });
  const fdText = (f) => `${f.fd}<${f.label}>`;

  // ---- threads -----------------------------------------------------------------
  /**
   * A call: `head` is the text up to the point where strace would cut it
   * (the arguments known at entry), `finish()` returns the text after it
   * (out-arguments and the return) and applies the call's effects at exit.
   */
  const threads = [];
  let nextTid = PID + 1;
  const newThread = (tid) => {
    const thread = { tid, call: null, job: null, entry: 0, lastFutex: null };
    threads.push(thread);
    return thread;
  };
  const main = newThread(PID);
  let open = null; // the thread whose entry line is held open, not yet printed

  const prefix = (thread, us) => `${thread.tid} ${stamp(us)} `;

  /** End the held line as unfinished, as strace does when another thread prints. */
  const closeHeld = () => {
    if (open === null) return;
    const thread = open;
    open = null;
    print(`${prefix(thread, thread.entry)}${thread.call.name}(${thread.call.head} <unfinished ...>`);
    thread.call.cut = true;
  };

  const start = (thread, call) => {
    closeHeld();
    now += between(1, 40);
    thread.call = call;
    thread.entry = now;
    call.cut = false;
    call.atEntry?.();
    open = thread;
  };

  const finish = (thread) => {
    const call = thread.call;
    if (open !== null && open !== thread) closeHeld();
    now += call.cut ? between(1, 30) : between(1, 8);
    const tail = call.finish();
    const took = duration(now - thread.entry);
    if (call.cut) print(`${prefix(thread, now)}<... ${call.name} resumed>${tail}${call.noReturn ? '' : took}`);
    else print(`${prefix(thread, thread.entry)}${call.name}(${call.head}${tail}${call.noReturn ? '' : took}`);
    if (open === thread) open = null;
    thread.call = null;
    call.after?.();
  };

  /** Print a call that strace shows on one line and nothing interleaves. */
  const complete = (thread, call) => {
    start(thread, call);
    finish(thread);
  };

  const simple = (name, head, ret) => ({ name, head, finish: () => `) = ${ret}` });

  // ---- data strings (-s 32 truncated, escaped as strace does) --------------------
  /** C-style escaping as strace does it: octal takes 3 digits only before an octal digit. */
  const escapeBytes = (count) => {
    const bytes = [];
    for (let k = 0; k < count; k++) bytes.push(Math.floor(random() * 256));
    let text = '';
    for (let k = 0; k < count; k++) {
      const byte = bytes[k];
      if (byte === 34) text += '\\"';
      else if (byte === 92) text += '\\\\';
      else if (byte === 10) text += '\\n';
      else if (byte === 9) text += '\\t';
      else if (byte >= 32 && byte < 127) text += String.fromCharCode(byte);
      else {
        const next = bytes[k + 1];
        const digitNext = next !== undefined && next >= 48 && next <= 55;
        text += `\\${digitNext ? byte.toString(8).padStart(3, '0') : byte.toString(8)}`;
      }
    }
    return text;
  };
  const kafkaRequests = [];
  for (let k = 0; k < 64; k++) {
    // Kafka protocol: 4-byte size, api key, version, correlation id, client id.
    kafkaRequests.push(`"\\0\\0\\0${between(20, 199)}\\0${between(0, 9)}\\0\\v${escapeBytes(4)}\\0\\rconsumer-${between(1, 9)}-${between(1, 99)}"...`);
  }
  const records = [];
  for (let k = 0; k < 64; k++) records.push(`"${escapeBytes(32)}"...`);
  // A few non-ASCII client ids, octal-escaped UTF-8 as strace prints them.
  kafkaRequests.push('"\\0\\0\\0<\\0\\1\\0\\v\\0\\0\\0\\1\\0\\10caf\\303\\251-\\342\\202\\254"...');

  // ---- noise --------------------------------------------------------------------
  const futexWords = [];
  for (let k = 0; k < 40; k++) futexWords.push(hex(0x7f3a10000000 + k * 0x1f88 + between(0, 0xff) * 8));
  const anonymous = []; // live anonymous mappings: [address, length]

  const noise = (thread) => {
    const roll = random();
    if (roll < 0.3) {
      const word = pick(futexWords);
      if (random() < 0.55) {
        const call = {
          name: 'futex',
          head: `${word}, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0, NULL, FUTEX_BITSET_MATCH_ANY`,
          finish: () => (random() < 0.15 ? ') = -1 EAGAIN (Resource temporarily unavailable)' : random() < 0.05 ? ') = -1 ETIMEDOUT (Connection timed out)' : ') = 0'),
          blocking: true,
        };
        return call;
      }
      return simple('futex', `${word}, FUTEX_WAKE_PRIVATE, ${pick([1, 1, 1, 2147483647])}`, between(0, 2));
    }
    if (roll < 0.4) {
      const epoll = pick(epolls);
      const socket = pick(sockets);
      return {
        name: 'epoll_wait',
        head: `${fdText(epoll)}, `,
        blocking: true,
        finish: () => (random() < 0.2 ? `[], 1024, 300) = 0` : `[{events=EPOLLIN, data={u32=${socket.fd}, u64=${socket.fd}}}], 1024, 300) = 1`),
      };
    }
    if (roll < 0.5) {
      const socket = pick(sockets);
      const size = between(4, 4096);
      return {
        name: 'read',
        head: `${fdText(socket)}, `,
        finish: () => (random() < 0.1 ? `0x7f3a2c0${between(10000, 99999)}, ${size}) = -1 EAGAIN (Resource temporarily unavailable)` : `${pick(kafkaRequests)}, ${size}) = ${between(4, size)}`),
      };
    }
    if (roll < 0.58) {
      const socket = pick(sockets);
      const size = between(8, 16384);
      return simple('write', `${fdText(socket)}, ${pick(kafkaRequests)}, ${size}`, size);
    }
    if (roll < 0.63) return simple('clock_gettime', `CLOCK_MONOTONIC, {tv_sec=${between(100000, 999999)}, tv_nsec=${between(0, 999999999)}}`, 0);
    if (roll < 0.66) return simple('sched_yield', '', 0);
    if (roll < 0.69) return simple('gettid', '', thread.tid);
    if (roll < 0.73) {
      const segment = anySegment();
      if (segment !== null) {
        const size = pick([4096, 8192, 16384, 65536]);
        return { name: 'pread64', head: `${segment.log.fd}<${segment.log.path}>, `, finish: () => `${pick(records)}, ${size}, ${between(0, 1 << 30)}) = ${size}` };
      }
    }
    if (roll < 0.76) {
      const partition = pick(partitions);
      const segment = partition.active;
      if (segment !== null && segment.log.fd >= 0) return simple('write', `${segment.log.fd}<${segment.log.path}>, ${pick(records)}, ${between(60, 16384)}`, between(60, 16384));
    }
    if (roll < 0.78) {
      const segment = anySegment();
      if (segment !== null) {
        const socket = pick(sockets);
        const offset = between(0, 1 << 30);
        const size = between(512, 1 << 20);
        return { name: 'sendfile', head: `${fdText(socket)}, ${segment.log.fd}<${segment.log.path}>, [${offset}]`, finish: () => ` => [${offset + size}], ${size}) = ${size}` };
      }
    }
    if (roll < 0.79) {
      const partition = pick(partitions);
      const segment = partition.active;
      if (segment !== null) return { name: 'fdatasync', head: `${segment.log.fd}<${segment.log.path}>`, finish: () => ') = 0', blocking: true };
    }
    if (roll < 0.83) return simple('mprotect', `${hex(0x7f3a00000000 + between(0, 0xffff) * PAGE)}, ${pick([4096, 8192, 65536])}, ${pick(['PROT_READ|PROT_WRITE', 'PROT_NONE', 'PROT_READ'])}`, 0);
    if (roll < 0.85) return simple('madvise', `${hex(0x7f3a00000000 + between(0, 0xffff) * PAGE)}, ${pick([4096, 1040384])}, MADV_DONTNEED`, 0);
    if (roll < 0.87)
      return simple('getrusage', `RUSAGE_THREAD, {ru_utime={tv_sec=${between(0, 900)}, tv_usec=${between(0, 999999)}}, ru_stime={tv_sec=${between(0, 90)}, tv_usec=${between(0, 999999)}}, ...}`, 0);
    if (roll < 0.89) {
      const socket = pick(sockets);
      return { name: 'recvfrom', head: `${fdText(socket)}, `, finish: () => `${pick(kafkaRequests)}, 8192, 0, NULL, NULL) = ${between(10, 8192)}` };
    }
    if (roll < 0.91) return simple('rt_sigprocmask', 'SIG_SETMASK, [QUIT], NULL, 8', 0);
    if (roll < 0.93) {
      // Anonymous memory: the JVM's malloc arenas and thread stacks.
      if (anonymous.length > 64 || (anonymous.length > 0 && random() < 0.5)) {
        const [address, length] = anonymous.splice(Math.floor(random() * anonymous.length), 1)[0];
        return simple('munmap', `${hex(address)}, ${length}`, 0);
      }
      const length = pick([1052672, 8392704, 65536, 134217728]);
      return {
        name: 'mmap',
        head: `NULL, ${length}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0`,
        finish: () => {
          const address = allocate(length, PAGE);
          anonymous.push([address, length]);
          return `) = ${hex(address)}`;
        },
      };
    }
    if (roll < 0.95) {
      const socket = pick(sockets);
      return simple('newfstatat', `${fdText(socket)}, "", {st_mode=S_IFSOCK|0777, st_size=0, ...}, AT_EMPTY_PATH`, 0);
    }
    if (roll < 0.97) return { name: 'nanosleep', head: `{tv_sec=0, tv_nsec=${between(1, 999) * 1000}}, `, finish: () => 'NULL) = 0', blocking: true };
    return simple('lseek', `${fdText(pick(sockets))}, 0, SEEK_CUR`, '-1 ESPIPE (Illegal seek)');
  };

  // ---- files: segments, indexes, checkpoints ----------------------------------------
  const partitions = [];
  for (let k = 0; k < 24; k++) {
    partitions.push({ dir: `${LOG_DIR}/events-${Math.floor(k / 8)}.v2-${k % 8}`, next: 0, segments: [], active: null, busy: false });
  }
  const live = []; // segments with an open .log, for reads
  const anySegment = () => {
    for (let tries = 0; tries < 3 && live.length > 0; tries++) {
      const segment = live[Math.floor(random() * live.length)];
      if (segment.log.fd >= 0) return segment;
    }
    return null;
  };
  const name20 = (n) => String(n).padStart(20, '0');

  /** A mapped file in the generator's model. */
  const mapped = (path) => ({ path, fd: -1, maps: new Set(), leaked: null, current: null });

  const openCall = (file, flags) => ({
    name: 'openat',
    head: `AT_FDCWD<${CWD}>, "${file.path}", ${flags}${flags.includes('O_CREAT') ? ', 0666' : ''}`,
    finish: () => {
      file.fd = lowestFreeFd();
      return `) = ${file.fd}<${file.path}>`;
    },
  });
  const closeCall = (file) => {
    const fd = file.fd;
    return {
      name: 'close',
      head: `${fd}<${file.path}>`,
      atEntry: () => {
        usedFds.delete(fd); // close takes effect at entry
        file.fd = -1;
      },
      finish: () => ') = 0',
    };
  };
  const truncateCall = (file, size) => ({ name: 'ftruncate', head: `${file.fd}<${file.path}>, ${size}`, finish: () => ') = 0' });
  const mmapCall = (file, size, onMapped) => ({
    name: 'mmap',
    head: `NULL, ${size}, PROT_READ|PROT_WRITE, MAP_SHARED, ${file.fd}<${file.path}>, 0`,
    finish: () => {
      const map = { address: allocate(size, size >= 2 * MiB ? 2 * MiB : PAGE), size };
      onMapped?.(map);
      file.maps.add(map);
      file.current = map;
      return `) = ${hex(map.address)}`;
    },
  });
  const munmapCall = (file, map, after) => ({
    name: 'munmap',
    head: `${hex(map.address)}, ${map.size}`,
    atEntry: () => file.maps.delete(map),
    finish: () => ') = 0',
    after,
  });

  /** A roll: trim the old active segment's indexes, then create the next segment. */
  const rollJob = (partition) => {
    const steps = [];
    const old = partition.active;
    if (old !== null) {
      for (const file of [old.index, old.timeindex]) {
        const leaky = random() < leakRate;
        counts.trims++;
        if (leaky) counts.leakyTrims++;
        const size = file === old.index ? between(1, 1000) * 8 : between(1, 1000) * 12;
        const previous = file.current;
        steps.push(() => openCall(file, 'O_RDWR|O_CREAT'));
        if (!leaky) steps.push(() => munmapCall(file, previous));
        steps.push(() => truncateCall(file, size));
        steps.push(() =>
          mmapCall(file, size, () => {
            // The old mapping is still live and the size changed since: the resize signature.
            if (file.maps.has(previous)) expected['remapped-without-unmap']++;
            if (leaky) {
              file.leaked = previous;
              if (random() < gcRate) scheduleGc(file, previous);
            }
          }),
        );
        steps.push(() => closeCall(file));
      }
    }
    const base = partition.next;
    partition.next += between(1000, 900000);
    const segment = {
      partition,
      log: { path: `${partition.dir}/${name20(base)}.log`, fd: -1 },
      index: mapped(`${partition.dir}/${name20(base)}.index`),
      timeindex: mapped(`${partition.dir}/${name20(base)}.timeindex`),
    };
    counts.segments++;
    steps.push(() => openCall(segment.log, 'O_RDWR|O_CREAT|O_APPEND'));
    steps.push(() => ({ name: 'newfstatat', head: `${segment.log.fd}<${segment.log.path}>, "", `, finish: () => '{st_mode=S_IFREG|0644, st_size=0, ...}, AT_EMPTY_PATH) = 0' }));
    for (const file of [segment.index, segment.timeindex]) {
      steps.push(() => openCall(file, 'O_RDWR|O_CREAT'));
      steps.push(() => truncateCall(file, INDEX_SIZE));
      steps.push(() => mmapCall(file, INDEX_SIZE));
      steps.push(() => closeCall(file));
    }
    return {
      steps,
      done: () => {
        partition.active = segment;
        partition.segments.push(segment);
        live.push(segment);
        partition.busy = false;
        if (partition.segments.length > SEGMENTS_KEPT) scheduleDeletion(partition, partition.segments.shift());
      },
    };
  };

  const scheduleDeletion = (_partition, segment) => {
    // Kafka renames at once and deletes file.delete.delay.ms later.
    const renames = [];
    for (const file of [segment.log, segment.index, segment.timeindex]) {
      renames.push(() => ({
        name: 'rename',
        head: `"${file.path}", "${file.path}.deleted"`,
        finish: () => {
          file.path = `${file.path}.deleted`;
          return ') = 0';
        },
      }));
    }
    later(between(2000, 40000), {
      steps: renames,
      done: () => {
        const steps = [];
        steps.push(() => closeCall(segment.log));
        steps.push(() => ({ name: 'unlink', head: `"${segment.log.path}"`, finish: () => ') = 0' }));
        for (const file of [segment.index, segment.timeindex]) {
          steps.push(() => munmapCall(file, file.current));
          steps.push(() => ({
            name: 'unlink',
            head: `"${file.path}"`,
            finish: () => {
              // One finding per mapping still live when the last name goes.
              expected['unlinked-while-mapped'] += file.maps.size;
              if (file.leaked !== null && !file.maps.has(file.leaked)) counts.gcBeforeUnlink++;
              file.gone = true;
              return ') = 0';
            },
          }));
        }
        later(between(5000, 80000), {
          steps,
          done: () => {
            counts.deletions++;
            live.splice(live.indexOf(segment), 1);
          },
        });
      },
    });
  };

  const scheduleGc = (file, map) => {
    later(
      between(3000, 120000),
      {
        steps: [() => munmapCall(file, map, () => counts.gcUnmaps++)],
        done: () => {},
      },
      cleaner,
    );
  };

  /** Checkpoint files: written to .tmp and renamed over the previous version. */
  const checkpointJob = () => {
    const dir = pick([LOG_DIR, `${LOG_DIR}/__cluster_metadata-0`]);
    const name = pick(['recovery-point-offset-checkpoint', 'replication-offset-checkpoint', 'log-start-offset-checkpoint', 'cleaner-offset-checkpoint']);
    const file = { path: `${dir}/${name}.tmp`, fd: -1 };
    return {
      steps: [
        () => openCall(file, 'O_WRONLY|O_CREAT|O_TRUNC'),
        () => simple('write', `${file.fd}<${file.path}>, "0\\n${between(1, 48)}\\nevents-0.v2 0 ${between(1, 1e9)}\\n"..., ${between(40, 4000)}`, between(40, 4000)),
        () => ({ name: 'fsync', head: `${file.fd}<${file.path}>`, finish: () => ') = 0' }),
        () => closeCall(file),
        () => simple('rename', `"${file.path}", "${dir}/${name}"`, 0),
      ],
      done: () => {},
    };
  };

  // ---- jobs ---------------------------------------------------------------------------
  const ready = []; // jobs waiting for an idle thread
  const timers = []; // [atTick, job, thread?] sorted by atTick
  const later = (delayLines, job, thread = null) => {
    const at = ticks + delayLines;
    let k = timers.length;
    while (k > 0 && timers[k - 1][0] > at) k--;
    timers.splice(k, 0, [at, job, thread]);
  };

  // ---- startup --------------------------------------------------------------------------
  const startup = () => {
    print(
      `${PID} ${stamp(now)} execve("/usr/lib/jvm/java-17-openjdk-amd64/bin/java", ["java", "-Xmx1G", "-Xms1G", "-server", "-XX:+UseG1GC", "-cp", "/opt/kafka/libs/*", "kafka.Kafka", "config/server.properties"], 0x7ffd3c2e1a08 /* 31 vars */) = 0 <0.000412>`,
    );
    for (const lib of ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so', '/lib/x86_64-linux-gnu/libz.so.1']) {
      const file = { path: lib, fd: -1 };
      complete(main, openCall(file, 'O_RDONLY|O_CLOEXEC'));
      complete(main, simple('read', `${file.fd}<${lib}>, "\\177ELF\\2\\1\\1\\3\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"..., 832`, 832));
      const size = between(100, 20000) * PAGE;
      let address = 0;
      complete(main, { name: 'mmap', head: `NULL, ${size}, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, ${file.fd}<${lib}>, 0`, finish: () => `) = ${hex((address = allocate(size, 2 * MiB)))}` });
      complete(main, simple('mmap', `${hex(address + PAGE * 16)}, ${PAGE * 64}, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, ${file.fd}<${lib}>, 0x10000`, hex(address + PAGE * 16)));
      complete(main, closeCall(file));
    }
    // The JVM's performance-data file: mapped for the life of the process.
    const perf = { path: `/tmp/hsperfdata_kafka/${PID}`, fd: -1 };
    complete(main, openCall(perf, 'O_RDWR|O_CREAT|O_NOFOLLOW'));
    complete(main, truncateCall(perf, 32768));
    complete(main, simple('mmap', `NULL, 32768, PROT_READ|PROT_WRITE, MAP_SHARED, ${perf.fd}<${perf.path}>, 0`, hex(allocate(32768, PAGE))));
    complete(main, closeCall(perf));
    for (let k = 0; k < 40; k++) spawnThread(main);
  };

  const spawnThread = (parent) => {
    const tid = nextTid++;
    const stack = allocate(1052672, PAGE);
    const thread = newThread(tid);
    counts.threadsStarted++;
    complete(parent, {
      name: 'clone3',
      head: `{flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=${hex(stack + 1048976)}, parent_tid=${hex(stack + 1048976)}, exit_signal=0, stack=${hex(stack)}, stack_size=0xfffc0, tls=${hex(stack + 1048256)}}`,
      finish: () => ` => {parent_tid=[${tid}]}, 88) = ${tid}`,
    });
    complete(thread, simple('rseq', `${hex(stack + 1049568)}, 0x20, 0, 0x53053053`, 0));
    complete(thread, simple('set_robust_list', `${hex(stack + 1048992)}, 24`, 0));
  };

  const exitThread = (thread) => {
    counts.threadsExited++;
    complete(thread, { name: 'exit', head: '0', finish: () => ') = ?', noReturn: true });
    now += between(1, 20);
    print(`${thread.tid} ${stamp(now)} +++ exited with 0 +++`);
    threads.splice(threads.indexOf(thread), 1);
  };

  /** Runtime.exec: posix_spawn is clone(CLONE_VM|CLONE_VFORK); the parent resumes after the child's exec. */
  const spawnProcess = (parent) => {
    counts.spawns++;
    const child = { tid: nextTid++ };
    const stack = allocate(36864, PAGE);
    start(parent, {
      name: 'clone3',
      head: `{flags=CLONE_VM|CLONE_VFORK|CLONE_CLEAR_SIGHAND, exit_signal=SIGCHLD, stack=${hex(stack)}, stack_size=0x9000}`,
      finish: () => `, 88) = ${child.tid}`,
    });
    closeHeld();
    const line = (body) => {
      now += between(5, 60);
      print(`${child.tid} ${stamp(now)} ${body}`);
    };
    line(`execve("/usr/bin/df", ["df", "-k", "${LOG_DIR}"], 0x7ffd3c2e1a08 /* 31 vars */) = 0 <0.000${between(100, 999)}>`);
    finish(parent);
    // The child's own life: a new address space, libc, exit.
    const libc = allocate(2 * MiB, 2 * MiB);
    line(`openat(AT_FDCWD<${CWD}>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6> <0.000013>`);
    line(`mmap(NULL, 2037344, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0) = ${hex(libc)} <0.000011>`);
    line(`mmap(${hex(libc + 0x22000)}, 1540096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x22000) = ${hex(libc + 0x22000)} <0.000014>`);
    line(`close(3</usr/lib/x86_64-linux-gnu/libc.so.6>) = 0 <0.000008>`);
    line(`write(1<pipe:[${between(100000, 999999)}]>, "Filesystem     1K-blocks     Use"..., 132) = 132 <0.000009>`);
    line('exit_group(0) = ?');
    line('+++ exited with 0 +++');
    const waiter = pick(threads.filter((t) => t.call === null && !t.job)) ?? null;
    if (waiter !== null) complete(waiter, simple('wait4', `${child.tid}, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL`, child.tid));
  };

  // ---- the scheduler ----------------------------------------------------------------------
  const cleaner = newThread(nextTid++);
  const stepThread = (thread) => {
    if (thread.call !== null) {
      // A blocked call returns after a while; the held line returns soon.
      if (open === thread ? random() < 0.8 : random() < (thread.call.blocking ? 0.25 : 0.6)) finish(thread);
      return;
    }
    if (thread.job !== null) {
      const job = thread.job;
      const step = job.steps[job.at++];
      if (step === undefined) {
        thread.job = null;
        job.done();
        return;
      }
      start(thread, step());
      return;
    }
    if (ready.length > 0 && thread !== cleaner && random() < 0.5) {
      const job = ready.shift();
      job.at = 0;
      thread.job = job;
      return;
    }
    start(thread, noise(thread));
  };

  startup();
  let nextRoll = 0;
  let nextCheckpoint = 5000;
  let nextSpawn = 20000;
  let nextChurn = 15000;
  while (written() < target) {
    while (timers.length > 0 && timers[0][0] <= ticks) {
      const [, job, thread] = timers.shift();
      if (thread !== null && thread.job === null) {
        job.at = 0;
        thread.job = job;
      } else if (thread !== null) later(100, job, thread);
      else ready.push(job);
    }
    if (ticks >= nextRoll) {
      nextRoll = ticks + between(1000, 5000);
      const partition = pick(partitions);
      if (!partition.busy) {
        partition.busy = true;
        ready.push(rollJob(partition));
      }
    }
    if (ticks >= nextCheckpoint) {
      nextCheckpoint = ticks + between(5000, 20000);
      ready.push(checkpointJob());
    }
    const thread = threads[Math.floor(random() * threads.length)];
    if (ticks >= nextSpawn && thread.call === null && thread.job === null && thread !== cleaner) {
      nextSpawn = ticks + between(30000, 120000);
      spawnProcess(thread);
      continue;
    }
    if (ticks >= nextChurn && thread.call === null && thread.job === null && thread !== cleaner && thread !== main) {
      nextChurn = ticks + between(10000, 60000);
      exitThread(thread);
      spawnThread(main.call === null ? main : (pick(threads.filter((t) => t.call === null)) ?? main));
      continue;
    }
    stepThread(thread);
  }
  // The capture stops: every call in flight returns, nothing is left open.
  // (With --filtered the loop above runs until the *kept* bytes reach the size.)
  closeHeld();
  for (const thread of threads) if (thread.call !== null) finish(thread);
  flush();
  return { version: GENERATOR_VERSION, seed: options.seed ?? 1, leakRate, gcRate, filtered: options.filtered === true, target, bytes, lines, findings: expected, counts };
}

// ---- command line -------------------------------------------------------------------------

/** `node bench/generate-trace.mjs SIZE [OUT] …`: writes OUT and OUT.expected.json. */
export async function main(args = process.argv.slice(2)) {
  const flags = {};
  const positional = [];
  for (let k = 0; k < args.length; k++) {
    const arg = args[k];
    if (arg === '--filtered') flags.filtered = true;
    else if (arg.startsWith('--')) flags[arg.slice(2)] = args[++k];
    else positional.push(arg);
  }
  if (positional.length === 0) {
    process.stderr.write('usage: node bench/generate-trace.mjs SIZE [OUT] [--seed N] [--leak-rate R] [--gc-rate R] [--filtered]\n');
    process.exit(2);
  }
  const bytes = parseSize(positional[0]);
  const out = positional[1] ?? join(BENCH, 'out', `trace-${positional[0]}.txt`);
  mkdirSync(dirname(out), { recursive: true });
  const fd = openSync(out, 'w');
  const started = Date.now();
  const result = generate({
    bytes,
    seed: flags.seed === undefined ? 1 : Number(flags.seed),
    leakRate: flags['leak-rate'] === undefined ? undefined : Number(flags['leak-rate']),
    gcRate: flags['gc-rate'] === undefined ? undefined : Number(flags['gc-rate']),
    filtered: flags.filtered === true,
    write: (text) => writeSync(fd, text),
  });
  closeSync(fd);
  writeFileSync(`${out}.expected.json`, `${JSON.stringify({ ...result, file: out }, null, 2)}\n`);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`${out}: ${result.lines} lines, ${(result.bytes / MiB).toFixed(1)} MiB in ${seconds.toFixed(1)} s; expected findings ${JSON.stringify(result.findings)}\n`);
}
