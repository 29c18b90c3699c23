// A mapping replaced by an mmap(MAP_FIXED | MAP_POPULATE) over it, and its
// file unlinked by another process that first waits to see it gone from
// /proc, for test/capture-review34-fixed-populate.test.ts (review 34,
// exactness F3).
//
// USAGE: fixed-over-populate DIR ROUNDS MIB
//   Writes DIR/big (MIB MiB of real blocks). Each round R: maps DIR/xR (one
//   page, shared) at the start of a range it reserved, forks a watcher, and
//   maps DIR/big over the range with MAP_FIXED | MAP_POPULATE, its pages
//   dropped from the cache first: the kernel unmaps xR as the call starts,
//   then reads the big file in before it returns. The watcher (which unmaps
//   its own fork copy of xR first) reads /proc/PARENT/maps until xR is not in
//   it, and only then unlinks xR. Each writes its record to DIR/truth.txt:
//     R watcher POLLS           xR gone from the parent's maps before the unlink
//     R mapper MICROSECONDS     how long the mmap over it took
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long micros(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

static void record(const char *truth, const char *line) {
  int fd = open(truth, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line)) exit(4);
  close(fd);
}

// Whether /proc/PID/maps (read whole) names `path`.
static int maps_name(pid_t pid, const char *path) {
  char name[64], line[4096];
  snprintf(name, sizeof name, "/proc/%d/maps", (int)pid);
  FILE *maps = fopen(name, "r");
  if (maps == NULL) exit(5);
  int found = 0;
  while (fgets(line, sizeof line, maps) != NULL)
    if (strstr(line, path) != NULL) found = 1;
  fclose(maps);
  return found;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: fixed-over-populate DIR ROUNDS MIB\n");
    return 2;
  }
  const char *dir = argv[1];
  int rounds = atoi(argv[2]);
  size_t length = (size_t)atoi(argv[3]) << 20;
  char big[4096], truth[4096], small[4096], line[256];
  snprintf(big, sizeof big, "%s/big", dir);
  snprintf(truth, sizeof truth, "%s/truth.txt", dir);

  int big_fd = open(big, O_RDWR | O_CREAT | O_TRUNC, 0644);
  static char block[1 << 20];
  memset(block, 'b', sizeof block);
  for (size_t at = 0; at < length; at += sizeof block)
    if (pwrite(big_fd, block, sizeof block, (off_t)at) != (ssize_t)sizeof block) return 3;
  // Written back, so that dropping its pages makes MAP_POPULATE read the disk.
  fsync(big_fd);

  for (int round = 0; round < rounds; round++) {
    snprintf(small, sizeof small, "%s/x%d", dir, round);
    posix_fadvise(big_fd, 0, 0, POSIX_FADV_DONTNEED);
    int small_fd = open(small, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (small_fd < 0 || ftruncate(small_fd, 4096) != 0) return 3;
    char *range = mmap(NULL, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *page = mmap(range, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, small_fd, 0);
    if (range == MAP_FAILED || page != range) return 3;
    close(small_fd);
    int go[2];
    if (pipe(go) != 0) return 3;
    pid_t parent = getpid();
    pid_t watcher = fork();
    if (watcher == 0) {
      munmap(page, 4096);
      char byte;
      if (read(go[0], &byte, 1) != 1) _exit(6);
      int polls = 1;
      while (maps_name(parent, small)) polls++;
      unlink(small);
      snprintf(line, sizeof line, "%d watcher %d\n", round, polls);
      record(truth, line);
      _exit(0);
    }
    long long started = micros();
    if (write(go[1], "g", 1) != 1) return 3;
    char *over = mmap(page, length, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, big_fd, 0);
    long long took = micros() - started;
    if (over != page) return 3;
    waitpid(watcher, NULL, 0);
    snprintf(line, sizeof line, "%d mapper %lld\n", round, took);
    record(truth, line);
    close(go[0]);
    close(go[1]);
    munmap(range, length);
  }
  return 0;
}
