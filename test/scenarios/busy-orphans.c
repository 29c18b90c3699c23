// Keeps several threads busy making and orphaning small shared mappings, so
// that a capture of it has records on every CPU (test/capture-bpftrace-order.test.ts).
//
// USAGE: busy-orphans DIR GO DONE SECONDS THREADS PAUSE_US
//   Makes DIR, waits for the file GO to exist (polling with opens of DIR, so a
//   tracer shows it waiting), then runs THREADS threads for SECONDS seconds, each pausing PAUSE_US
//   microseconds after each loop. SIGUSR1 ends the work before SECONDS are up.
//   Thread T's loop I opens DIR/tT-I, sizes it to 4 KiB, maps it shared and
//   closes it, then by I % 4: unmaps and unlinks it (clean); unlinks it and
//   keeps the mapping (a leak); unlinks then unmaps it; or keeps it mapped and
//   named until its next turn, when it unlinks it (a leak). Freed inodes come
//   back under new names, so only the order of the calls tells files apart.
//   Thread T runs only on the T-th CPU it may use (modulo their count): left
//   to the scheduler, a neighbour busy on one CPU sends every thread to the
//   other, and the capture then has next to no records of that CPU.
//   Then it writes DONE: its pid, the loops each thread ran, and its own
//   /proc/self/maps lines under DIR, and waits to be killed, mapping nothing more.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 8

static const char *dir;
static double seconds;
static useconds_t pause_us;
static long loops[MAX_THREADS];
static volatile sig_atomic_t work_ended;

static void end_work(int sig) {
  (void)sig;
  work_ended = 1;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *what) {
  perror(what);
  exit(2);
}

/** Pins the calling thread to the (t mod count)-th CPU of those the process may use. */
static void pin_to_cpu(long t) {
  cpu_set_t allowed, one;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) fail("sched_getaffinity");
  long wanted = t % CPU_COUNT(&allowed);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed) || wanted-- > 0) continue;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0) fail("pthread_setaffinity_np");
    return;
  }
}

static void *work(void *arg) {
  long t = (long)arg;
  pin_to_cpu(t);
  char name[512], kept[512] = "";
  double end = now() + seconds;
  long i = 0;
  for (; now() < end && !work_ended; i++) {
    snprintf(name, sizeof name, "%s/t%ld-%ld", dir, t, i);
    int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("open");
    if (ftruncate(fd, 4096) != 0) fail("ftruncate");
    void *at = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (at == MAP_FAILED) fail("mmap");
    close(fd);
    switch (i % 4) {
    case 0:
      munmap(at, 4096);
      unlink(name);
      break;
    case 1:
      unlink(name);
      break;
    case 2:
      unlink(name);
      munmap(at, 4096);
      break;
    default:
      if (kept[0] != '\0') unlink(kept);
      strcpy(kept, name);
      break;
    }
    usleep(pause_us);
  }
  loops[t] = i;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: busy-orphans DIR GO DONE SECONDS THREADS PAUSE_US\n");
    return 2;
  }
  dir = argv[1];
  seconds = atof(argv[4]);
  long threads = atol(argv[5]);
  pause_us = (useconds_t)atol(argv[6]);
  if (threads < 1 || threads > MAX_THREADS) fail("THREADS");
  signal(SIGUSR1, end_work);
  if (mkdir(dir, 0755) != 0) fail("mkdir");
  struct stat st;
  while (stat(argv[2], &st) != 0) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) close(fd);
    usleep(20000);
  }
  pthread_t tids[MAX_THREADS];
  for (long t = 0; t < threads; t++) pthread_create(&tids[t], NULL, work, (void *)t);
  for (long t = 0; t < threads; t++) pthread_join(tids[t], NULL);

  char partial[4096];
  snprintf(partial, sizeof partial, "%s.part", argv[3]);
  FILE *out = fopen(partial, "w");
  if (out == NULL) fail("fopen");
  fprintf(out, "pid %d\nloops", (int)getpid());
  for (long t = 0; t < threads; t++) fprintf(out, " %ld", loops[t]);
  fprintf(out, "\n");
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[4096];
  while (fgets(line, sizeof line, maps) != NULL)
    if (strstr(line, dir) != NULL) fputs(line, out);
  fclose(maps);
  fclose(out);
  rename(partial, argv[3]);
  for (;;) pause();
}
