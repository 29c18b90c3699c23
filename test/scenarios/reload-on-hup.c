/*
 * reload-on-hup PATH MODE: a server that maps its data file the usual way
 * (open, fstat, mmap, close: no fd kept), says "ready", and on SIGHUP does
 * what MODE says with it:
 *   reload  munmap it, then open and map the file by its name again (a reload)
 *   exec    execute sh, which waits for stdin to end (a daemon re-executing itself)
 *   unlink  munmap it, then remove its name itself
 * Before the SIGHUP's work it prints each line of its own /proc/self/maps
 * that names PATH ("maps LINE": the truth), and "done" after it. It exits
 * when stdin ends, without unmapping what it holds.
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
static void *data;
static size_t size;

static void on_hangup(int signal_number) {
  (void)signal_number;
  hangup = 1;
}

static void map_file(const char *path) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) exit(2);
  size = (size_t)st.st_size;
  data = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) exit(2);
  close(fd);
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
  const char *mode = argv[2];
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGHUP, on_hangup);
  map_file(path);
  printf("ready\n");
  for (;;) {
    struct pollfd input = {.fd = 0, .events = POLLIN};
    int ready = poll(&input, 1, 20);
    if (ready > 0) {
      char buffer[64];
      if (read(0, buffer, sizeof buffer) <= 0) return 0;
    }
    if (!hangup) continue;
    hangup = 0;
    print_maps_of(path);
    if (strcmp(mode, "exec") == 0) {
      printf("done\n");
      execl("/bin/sh", "sh", "-c", "cat > /dev/null", (char *)NULL);
      return 2;
    }
    munmap(data, size);
    if (strcmp(mode, "reload") == 0) map_file(path);
    else if (unlink(path) != 0) return 2;
    printf("done\n");
  }
}
