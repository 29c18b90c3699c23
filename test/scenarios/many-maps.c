// Maps one page of FILE COUNT times, alternately read-only and read-write so
// that the kernel cannot merge neighbours: COUNT lines in /proc/PID/maps, each
// naming FILE (a long name makes them long). Prints "ready", then waits for
// its stdin to close. Usage: many-maps FILE COUNT
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int fd = open(argv[1], O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
  long count = atol(argv[2]);
  for (long i = 0; i < count; i++) {
    int prot = i % 2 == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
    if (mmap(NULL, 4096, prot, MAP_SHARED, fd, 0) == MAP_FAILED) return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char byte;
  while (read(0, &byte, 1) > 0) {
  }
  return 0;
}
