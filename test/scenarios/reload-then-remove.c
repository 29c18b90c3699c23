/*
 * reload-then-remove PATH MODE: a server that maps its data file the usual
 * way (open, fstat, mmap, close: no fd kept) and says "ready". On SIGHUP it
 * prints each line of its own /proc/self/maps that names PATH ("maps LINE":
 * the truth), then, in MODE reload, maps the file by its name again and
 * unmaps the old mapping (a reload: the new one first, so that the data is
 * never unmapped), and says "done". When stdin ends it cleans up as it
 * shuts down: unmaps what it holds, removes PATH, and exits at once.
 * MODE keep does nothing on SIGHUP but print and say "done".
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static volatile sig_atomic_t hangup;

static void on_hangup(int signal_number) {
  (void)signal_number;
  hangup = 1;
}

static void *map_file(const char *path, size_t *size) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) exit(2);
  *size = (size_t)st.st_size;
  void *data = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) exit(2);
  close(fd);
  return data;
}

static void print_maps_of(const char *path) {
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[8192];
  if (maps == NULL) exit(2);
  while (fgets(line, sizeof line, maps) != NULL)
    if (strstr(line, path) != NULL) printf("maps %s", line);
  fclose(maps);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  const char *path = argv[1];
  int reload = strcmp(argv[2], "reload") == 0;
  size_t size;
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGHUP, on_hangup);
  void *data = map_file(path, &size);
  printf("ready\n");
  for (;;) {
    struct pollfd input = {.fd = 0, .events = POLLIN};
    if (poll(&input, 1, 20) > 0) {
      char buffer[64];
      if (read(0, buffer, sizeof buffer) <= 0) break;
    }
    if (!hangup) continue;
    hangup = 0;
    print_maps_of(path);
    if (reload) {
      size_t new_size;
      void *fresh = map_file(path, &new_size);
      munmap(data, size);
      data = fresh;
      size = new_size;
    }
    printf("done\n");
  }
  munmap(data, size);
  if (unlink(path) != 0) return 2;
  return 0;
}
