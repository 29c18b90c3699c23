// ff-fd-race: two threads that hand an fd number to each other on purpose,
// the shape of a JVM opening, mapping and closing index files from many
// threads. Run under strace -ff with every openat held at its entry
// (-e inject=openat:delay_enter=…), each round goes:
//   holder: openat(H) = N; ftruncate; wakes the other thread
//   other:  openat(O) entered, stamped, held by strace
//   holder: (waits until /proc says the other thread is in its openat) mmap(N); close(N)
//   other:  the openat runs now and returns N, the lowest free number
// so the other thread's openat is stamped before the holder's mmap and close
// of the very number it returns. The two threads swap roles each round.
//
// USAGE: ff-fd-race DIR TRUTH
// Each file DIR/t<thread>-<round> is opened, ftruncated, mapped (4 KiB,
// shared) and closed; then by its number n = 2 * round + thread, n % 3:
//   0 clean:    munmap, unlink
//   1 kept:     unlink, and the mapping lives on until exit (a leak)
//   2 unmapped: unlink, then munmap (a leak the munmap resolves)
// TRUTH gets "file PATH ADDRESS OUTCOME FD" per file, "handed R" (in how many
// rounds the other thread got the holder's number), then the (deleted)
// lines of the program's own /proc/self/maps under DIR as "live ADDRESS PATH".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 24, PAGE = 4096, POLL_US = 100, WAIT_LIMIT_S = 30 };
static const char *const OUTCOMES[] = {"clean", "kept", "unmapped"};

struct file {
  void *address;
  int fd;
};

static const char *dir;
static struct file files[ROUNDS][2];
/** The holder of a round posts its thread's turn: the other thread may open. */
static sem_t turn[2];
/**
 * The other thread posts the holder's when its round is done: the next round
 * may begin. One per thread: with one for both, the holder of the next round
 * could take the post meant for this round's holder, which then waited for
 * ever once the other thread had finished (a hang seen under load).
 */
static sem_t done[2];
/** Each thread's id, for the other to read its state in /proc; and whether it has opened the other's. */
static volatile pid_t tids[2];
static volatile int ready[2];

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
 * Waits until the other thread is inside openat (held there at its entry by
 * strace's delay_enter), as its /proc/self/task/TID/syscall says (`syscall`,
 * open since the thread began): its first field is the number of the call a
 * task is stopped in. Read with pread, as an open would be an openat, held
 * too. A fixed sleep was not enough on a loaded machine: the other thread had
 * not reached its openat yet, and got another number ("handed 23").
 */
static void awaitOpenat(int syscall) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    char text[64];
    ssize_t length = pread(syscall, text, sizeof text - 1, 0);
    if (length < 0) die("pread syscall");
    text[length] = '\0';
    if (strtol(text, NULL, 10) == SYS_openat && text[0] != '\0') return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > WAIT_LIMIT_S) {
      fprintf(stderr, "ff-fd-race: the other thread never entered openat\n");
      exit(2);
    }
    struct timespec poll = {0, POLL_US * 1000L};
    nanosleep(&poll, NULL);
  }
}

static void pathOf(char *path, size_t size, int thread, int round) {
  snprintf(path, size, "%s/t%d-%d", dir, thread, round);
}

static int openSized(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) die("open");
  if (ftruncate(fd, PAGE) != 0) die("ftruncate");
  return fd;
}

/** Maps and closes `fd`, then does with the file what its number says. */
static void mapAndFinish(const char *path, int fd, int thread, int round) {
  void *address = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) die("mmap");
  if (close(fd) != 0) die("close");
  files[round][thread] = (struct file){address, fd};
  int outcome = (2 * round + thread) % 3;
  if (outcome == 0 && munmap(address, PAGE) != 0) die("munmap");
  if (unlink(path) != 0) die("unlink");
  if (outcome == 2 && munmap(address, PAGE) != 0) die("munmap");
}

static void *work(void *arg) {
  int thread = (int)(long)arg;
  char path[4096];
  tids[thread] = (pid_t)syscall(SYS_gettid);
  while (tids[1 - thread] == 0) sched_yield();
  // Opened before any round, so that its number is taken for good and no round's openat is this one.
  char other[64];
  snprintf(other, sizeof other, "/proc/self/task/%d/syscall", (int)tids[1 - thread]);
  int otherSyscall = open(other, O_RDONLY | O_CLOEXEC);
  if (otherSyscall < 0) die("open syscall");
  // Both are open before the first round: its numbers are the rounds' own.
  ready[thread] = 1;
  while (ready[1 - thread] == 0) sched_yield();
  for (int round = 0; round < ROUNDS; round++) {
    pathOf(path, sizeof path, thread, round);
    if (round % 2 == thread) {
      int fd = openSized(path);
      // The other thread set its id before it could take this post.
      sem_post(&turn[1 - thread]);
      awaitOpenat(otherSyscall);
      mapAndFinish(path, fd, thread, round);
      awaitPost(&done[thread]);
    } else {
      awaitPost(&turn[thread]);
      int fd = openSized(path);
      mapAndFinish(path, fd, thread, round);
      sem_post(&done[1 - thread]);
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ff-fd-race DIR TRUTH\n");
    return 2;
  }
  dir = argv[1];
  if (mkdir(dir, 0755) != 0) die("mkdir");
  sem_init(&turn[0], 0, 0);
  sem_init(&turn[1], 0, 0);
  sem_init(&done[0], 0, 0);
  sem_init(&done[1], 0, 0);
  pthread_t threads[2];
  for (long t = 0; t < 2; t++)
    if (pthread_create(&threads[t], NULL, work, (void *)t) != 0) die("pthread_create");
  for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
  FILE *truth = fopen(argv[2], "w");
  if (truth == NULL) die("truth");
  int handed = 0;
  char path[4096];
  for (int round = 0; round < ROUNDS; round++) {
    int holder = round % 2;
    if (files[round][1 - holder].fd == files[round][holder].fd) handed++;
    for (int t = 0; t < 2; t++) {
      pathOf(path, sizeof path, t, round);
      fprintf(truth, "file %s %p %s %d\n", path, files[round][t].address, OUTCOMES[(2 * round + t) % 3], files[round][t].fd);
    }
  }
  fprintf(truth, "handed %d\n", handed);
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
