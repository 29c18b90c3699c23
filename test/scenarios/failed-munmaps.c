// Review 27, F6: munmaps that fail, printed by strace as <unfinished ...>.
// A thread opens and closes /dev/null without pause, so that strace, writing
// one trace for both threads, cuts the main thread's calls in two. The main
// thread maps FILE 8 KiB MAP_SHARED, calls munmap on addresses that are not
// page-aligned (p+1 and p+4097) ROUNDS times each, unlinks FILE, and keeps
// the mapping. The kernel refuses each of those munmaps (EINVAL) before it
// does anything. The program's own record, written to TRUTH:
//   einval N          how many of its munmaps failed with EINVAL
//   other N           how many did anything else (succeeded or failed otherwise)
//   mapped ADDRESS    what its mmap returned, lower-case hex without 0x
//   live LINE         each line of /proc/self/maps naming FILE after the unlink
// With a fourth argument, "enomem": FILE is mapped 12 KiB, the process fills
// its own map count (vm.max_map_count, read, never changed) with small
// anonymous mappings, and munmaps the middle page of FILE's mapping ROUNDS
// times: the split that needs one mapping more fails with ENOMEM (counted in
// "other", with "enomem N"). The filler goes before the unlink.
// With "eperm": FILE's 8 KiB mapping is sealed (mseal, Linux 6.10), and the
// whole of it munmapped ROUNDS times: each fails with EPERM ("eperm N").
// Usage: failed-munmaps FILE TRUTH ROUNDS [enomem|eperm]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int go, stop, spun;

static void *spam(void *unused) {
  (void)unused;
  // Made before the map count is full (its stack is a mapping), it waits without a call till then.
  while (!atomic_load(&go)) {
  }
  while (!atomic_load(&stop)) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) close(fd);
    atomic_fetch_add(&spun, 1);
  }
  return NULL;
}

/**
 * Waits till the other thread has made another call: each munmap comes while
 * it is making calls, which strace prints between the munmap's two halves,
 * on a loaded machine too (left to the scheduler, a run had none).
 */
static void beside_calls(void) {
  int seen = atomic_load(&spun);
  while (atomic_load(&spun) == seen) {
  }
}

/** Anonymous mappings, alternately readable and not (so none merges), until the kernel refuses one more: the map count is full. */
static void fill_map_count(char **filler, size_t *filler_length) {
  // Most of the count in one region cut by mprotect (not traced: no trace line each), the rest by mmap.
  size_t pages = 300000;
  *filler_length = pages * 4096;
  *filler = mmap(NULL, *filler_length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (*filler == MAP_FAILED) exit(1);
  for (size_t page = 1; page < pages; page += 2)
    if (mprotect(*filler + page * 4096, 4096, PROT_NONE) != 0) break;
  for (int k = 0;; k++)
    if (mmap(NULL, 4096, k % 2 == 0 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED) break;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s FILE TRUTH ROUNDS [enomem|eperm]\n", argv[0]);
    return 2;
  }
  const char *path = argv[1];
  int rounds = atoi(argv[3]);
  int enomem_mode = argc == 5 && strcmp(argv[4], "enomem") == 0;
  int eperm_mode = argc == 5 && strcmp(argv[4], "eperm") == 0;
  size_t length = enomem_mode ? 12288 : 8192;
  FILE *truth = fopen(argv[2], "w");
  if (truth == NULL) return 1;
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, (off_t)length) != 0) return 1;
  char *p = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 1;
  close(fd);
  p[0] = 1;
  // mseal is 462 on every architecture; glibc may have no wrapper for it.
  if (eperm_mode && syscall(462, p, length, 0) != 0) {
    perror("mseal (Linux 6.10 and later)");
    return 1;
  }
  pthread_t thread;
  if (pthread_create(&thread, NULL, spam, NULL) != 0) return 1;
  char *filler = NULL;
  size_t filler_length = 0;
  if (enomem_mode) fill_map_count(&filler, &filler_length);
  atomic_store(&go, 1);
  int einval = 0, enomem = 0, eperm = 0, other = 0;
  for (int i = 0; i < rounds; i++) {
    beside_calls();
    if (eperm_mode) {
      if (munmap(p, length) != 0 && errno == EPERM) eperm++;
      else other++;
      continue;
    }
    if (enomem_mode) {
      if (munmap(p + 4096, 4096) != 0 && errno == ENOMEM) enomem++;
      else other++;
      continue;
    }
    char *unaligned[2] = {p + 1, p + 4097};
    for (int k = 0; k < 2; k++) {
      if (k > 0) beside_calls();
      if (munmap(unaligned[k], 4096) != 0 && errno == EINVAL) einval++;
      else other++;
    }
  }
  atomic_store(&stop, 1);
  pthread_join(thread, NULL);
  if (filler != NULL && munmap(filler, filler_length) != 0) return 1;
  if (unlink(path) != 0) return 1;
  fprintf(truth, "einval %d\nenomem %d\neperm %d\nother %d\nmapped %lx\n", einval, enomem, eperm, other, (unsigned long)p);
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) return 1;
  char line[4096];
  while (fgets(line, sizeof line, maps) != NULL)
    if (strstr(line, path) != NULL) fprintf(truth, "live %s", line);
  fclose(maps);
  fclose(truth);
  return 0;
}
