/*
 * Fills orphanmap.bt's maps (4,096 keys each at bpftrace's default
 * BPFTRACE_MAP_KEYS_MAX), then leaks (review 28, attack F2 and F3). A full
 * map takes no new key and bpftrace says nothing, so the calls after went
 * unprinted and the leak read as clean.
 *
 *   threads DIR N  N threads wait inside open() of a FIFO with no writer (each
 *                  holds its call's stash); the main thread maps 1 MiB of
 *                  DIR/leak, unlinks it, then opens the FIFO for writing,
 *                  which lets the others go.
 *   children DIR N N idle children; then one more maps 1 MiB of DIR/leak,
 *                  unlinks it and exits; then the others are killed.
 *
 * Its stderr says what it did, and what its own /proc/self/maps showed after
 * the unlink: "leaked DIR/leak at ADDRESS, unlink -> 0, deleted lines 1".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1 << 20)

static char fifo[4200];

static void leak(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/leak", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ftruncate(fd, SIZE) != 0) exit(10);
  char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) exit(11);
  memset(p, 1, SIZE);
  close(fd);
  int r = unlink(path);
  /* Its own maps, read after the unlink: the mapping shown deleted. */
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[8192];
  int deleted = 0;
  while (maps != NULL && fgets(line, sizeof line, maps) != NULL)
    if (strstr(line, path) != NULL && strstr(line, " (deleted)\n") != NULL) deleted++;
  if (maps != NULL) fclose(maps);
  fprintf(stderr, "leaked %s at %p, unlink -> %d, deleted lines %d\n", path, (void *)p, r, deleted);
}

static void *wait_in_open(void *unused) {
  (void)unused;
  int fd = open(fifo, O_RDONLY);
  if (fd >= 0) close(fd);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  int n = atoi(argv[3]);
  if (strcmp(argv[1], "threads") == 0) {
    snprintf(fifo, sizeof fifo, "%s/fifo", argv[2]);
    if (mkfifo(fifo, 0600) != 0) return 3;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 65536);
    pthread_t *threads = calloc(n, sizeof *threads);
    for (int i = 0; i < n; i++)
      if (pthread_create(&threads[i], &attr, wait_in_open, NULL) != 0) return 4;
    /* Each thread inside its open: its state in /proc is S (sleeping in the FIFO's open). */
    sleep(2);
    leak(argv[2]);
    int w = open(fifo, O_WRONLY);
    if (w >= 0) close(w);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
  } else if (strcmp(argv[1], "children") == 0) {
    pid_t *kids = calloc(n, sizeof *kids);
    for (int i = 0; i < n; i++) {
      kids[i] = fork();
      if (kids[i] == 0) {
        pause();
        _exit(0);
      }
      if (kids[i] < 0) return 4;
    }
    pid_t leaker = fork();
    if (leaker == 0) {
      leak(argv[2]);
      _exit(0);
    }
    waitpid(leaker, NULL, 0);
    for (int i = 0; i < n; i++) kill(kids[i], SIGKILL);
    for (int i = 0; i < n; i++) waitpid(kids[i], NULL, 0);
  } else {
    return 2;
  }
  return 0;
}
