// ff-fd-contest: a thread that opens and closes a config file while the main
// thread's open of a temporary file is entered but has not taken its number
// (review 27, F1: two pollers and a main thread that keeps a mapping of each
// temporary file it unlinks). Run under strace -ff with every openat2 held at
// its entry (-e inject=openat2:delay_enter=…), each round goes:
//   main:   openat2(tmp-R) entered, stamped, held by strace
//   poller: (waits until /proc says main is in its openat2) openat(config) = N; read; close(N)
//   main:   the openat2 runs now and returns N, the lowest free number;
//           ftruncate(N); mmap(N) 4 KiB shared; close(N); unlink(tmp-R)
// so main's open is stamped before the poller's open and close of the very
// number it returns. The main thread opens with openat2 so that strace holds
// its opens alone; the poller's (glibc's open: openat) run at once.
//
// USAGE: ff-fd-contest DIR TRUTH [mirror]
// Round R's file DIR/tmp-R is kept mapped until exit after its unlink (a
// leak) for an even R, unmapped before it (clean) for an odd one; DIR/config
// is never unlinked. With `mirror` (review 29), no tmp-R is unlinked or
// unmapped, and at the end config, never mapped, is replaced by a rename of
// config.new over it, as a config rewrite or a log rotation does: no leak. TRUTH gets "file PATH ADDRESS OUTCOME FD POLLER_FD" per
// round (the number main's open returned, and the one the poller's open of
// config returned in that round), then the (deleted) lines of the program's
// own /proc/self/maps under DIR as "live ADDRESS PATH".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 6, PAGE = 4096, POLL_US = 100, WAIT_LIMIT_S = 30 };

static const char *dir;
static sem_t go, done;
static volatile pid_t mainTid;
static int pollerFds[ROUNDS];

static void die(const char *what) {
  perror(what);
  exit(2);
}

/** sem_wait, again when a signal cut it short (EINTR): a wait must end in its post. */
static void awaitPost(sem_t *sem) {
  while (sem_wait(sem) != 0)
    if (errno != EINTR) die("sem_wait");
}

/**
 * Waits until the main thread is inside openat2 (held there at its entry by
 * strace's delay_enter), as its /proc/self/task/TID/syscall says: its first
 * field is the number of the call a task is stopped in. Read with pread on a
 * file opened before the rounds, so that no open of the poller's comes between.
 */
static void awaitOpenat2(int syscallFile) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    char text[64];
    ssize_t length = pread(syscallFile, text, sizeof text - 1, 0);
    if (length < 0) die("pread syscall");
    text[length] = '\0';
    if (text[0] != '\0' && strtol(text, NULL, 10) == SYS_openat2) return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > WAIT_LIMIT_S) {
      fprintf(stderr, "ff-fd-contest: the main thread never entered openat2\n");
      exit(2);
    }
    struct timespec poll = {0, POLL_US * 1000L};
    nanosleep(&poll, NULL);
  }
}

static void *pollConfig(void *unused) {
  (void)unused;
  char path[4096];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)mainTid);
  int syscallFile = open(path, O_RDONLY | O_CLOEXEC);
  if (syscallFile < 0) die("open syscall");
  snprintf(path, sizeof path, "%s/config", dir);
  sem_post(&done);
  for (int round = 0; round < ROUNDS; round++) {
    awaitPost(&go);
    awaitOpenat2(syscallFile);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open config");
    char byte;
    if (read(fd, &byte, 1) != 1) die("read config");
    if (close(fd) != 0) die("close config");
    pollerFds[round] = fd;
    sem_post(&done);
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3 && !(argc == 4 && strcmp(argv[3], "mirror") == 0)) {
    fprintf(stderr, "usage: ff-fd-contest DIR TRUTH [mirror]\n");
    return 2;
  }
  int mirror = argc == 4;
  dir = argv[1];
  if (mkdir(dir, 0755) != 0) die("mkdir");
  char path[4096];
  snprintf(path, sizeof path, "%s/config", dir);
  int config = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (config < 0 || write(config, "x", 1) != 1 || close(config) != 0) die("config");
  // The truth file is opened before the rounds: its number is not one a round can get.
  FILE *truth = fopen(argv[2], "w");
  if (truth == NULL) die("truth");
  mainTid = (pid_t)syscall(SYS_gettid);
  sem_init(&go, 0, 0);
  sem_init(&done, 0, 0);
  pthread_t poller;
  if (pthread_create(&poller, NULL, pollConfig, NULL) != 0) die("pthread_create");
  // The poller's own files are open before the first round.
  awaitPost(&done);
  void *addresses[ROUNDS];
  int fds[ROUNDS];
  for (int round = 0; round < ROUNDS; round++) {
    snprintf(path, sizeof path, "%s/tmp-%d", dir, round);
    sem_post(&go);
    struct open_how how = {.flags = O_RDWR | O_CREAT | O_CLOEXEC, .mode = 0644};
    int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
    if (fd < 0) die("openat2");
    // The poller's open and close are done before main's next call.
    awaitPost(&done);
    if (ftruncate(fd, PAGE) != 0) die("ftruncate");
    void *address = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (address == MAP_FAILED) die("mmap");
    if (close(fd) != 0) die("close");
    int kept = mirror || round % 2 == 0;
    if (!kept && munmap(address, PAGE) != 0) die("munmap");
    if (!mirror && unlink(path) != 0) die("unlink");
    addresses[round] = address;
    fds[round] = fd;
  }
  pthread_join(poller, NULL);
  if (mirror) {
    char fresh[4096];
    snprintf(fresh, sizeof fresh, "%s/config.new", dir);
    snprintf(path, sizeof path, "%s/config", dir);
    int next = open(fresh, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (next < 0 || write(next, "y", 1) != 1 || close(next) != 0) die("config.new");
    if (rename(fresh, path) != 0) die("rename");
  }
  for (int round = 0; round < ROUNDS; round++) {
    snprintf(path, sizeof path, "%s/tmp-%d", dir, round);
    fprintf(truth, "file %s %p %s %d %d\n", path, addresses[round], mirror ? "named" : round % 2 == 0 ? "kept" : "clean", fds[round], pollerFds[round]);
  }
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) die("maps");
  char line[8192];
  while (fgets(line, sizeof line, maps) != NULL) {
    char *name = strchr(line, '/');
    char *deleted = name == NULL ? NULL : strstr(name, " (deleted)");
    if (deleted == NULL || strncmp(name, dir, strlen(dir)) != 0) continue;
    *deleted = '\0';
    fprintf(truth, "live 0x%lx %s\n", strtoul(line, NULL, 16), name);
  }
  fclose(maps);
  fclose(truth);
  return 0;
}
