// ff-fd-race: two threads that hand an fd number to each other on purpose,
// the shape of a JVM opening, mapping and closing index files from many
// threads. Run under strace -ff with every openat held at its entry
// (-e inject=openat:delay_enter=…), each round goes:
//   holder: openat(H) = N; ftruncate; wakes the other thread
//   other:  openat(O) entered, stamped, held by strace
//   holder: (sleeps HOLD_US, so the other is surely in its openat) mmap(N); close(N)
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
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 24, PAGE = 4096, HOLD_US = 5000 };
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

static void die(const char *what) {
  perror(what);
  exit(2);
}

/** sem_wait, again when a signal cut it short (EINTR): a wait must end in its post. */
static void awaitPost(sem_t *sem) {
  while (sem_wait(sem) != 0)
    if (errno != EINTR) die("sem_wait");
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
  for (int round = 0; round < ROUNDS; round++) {
    pathOf(path, sizeof path, thread, round);
    if (round % 2 == thread) {
      int fd = openSized(path);
      sem_post(&turn[1 - thread]);
      struct timespec hold = {0, HOLD_US * 1000L};
      nanosleep(&hold, NULL);
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
