// Review 10's target: maps FILES files (4 KiB each, shared) under a path of
// some 3,900 bytes in BASE, then the first of them again EXTRA times (each a
// mapping of its own: their offsets do not follow on, so the kernel cannot
// merge them), so that its /proc/PID/maps is large and slow to read. Says
// "mapped PID" and waits for the file GO.fork; then forks a child that keeps
// making system calls (traced by strace -f as the parent is), says
// "ready PID CHILD", and exits without unmapping once the file GO exists.
// Usage: review10-target BASE FILES EXTRA GO
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  const char *base = argv[1], *go = argv[4];
  int files = atoi(argv[2]), extra = atoi(argv[3]);
  if (mkdir(base, 0755) != 0 || chdir(base) != 0) return 1;
  // Deep, so that each line of maps is long: ~3,900 bytes, under PATH_MAX.
  for (size_t len = strlen(base); len + 2 < 3900; len += 2)
    if (mkdir("a", 0755) != 0 || chdir("a") != 0) return 1;
  char name[32];
  int first = -1;
  for (int i = 0; i < files; i++) {
    snprintf(name, sizeof name, "f%05d", i);
    int fd = open(name, O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
    if (mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) return 1;
    if (i == 0) first = fd; else close(fd);
  }
  for (int i = 0; i < extra; i++) {
    // Every other page left free, so that no two mappings touch.
    char *hole = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (hole == MAP_FAILED || munmap(hole + 4096, 4096) != 0) return 1;
    if (mmap(hole + 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, first, 0) == MAP_FAILED) return 1;
    munmap(hole, 4096);
  }
  printf("mapped %d\n", getpid());
  fflush(stdout);
  char fork_file[4200];
  snprintf(fork_file, sizeof fork_file, "%s.fork", go);
  while (access(fork_file, F_OK) != 0) usleep(100000);
  pid_t child = fork();
  if (child == 0)
    for (;;) { close(open("/dev/null", O_RDONLY)); usleep(50000); }
  printf("ready %d %d\n", getpid(), child);
  fflush(stdout);
  while (access(go, F_OK) != 0) usleep(100000);
  _exit(0);
}
