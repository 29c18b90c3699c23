/*
 * Maps 1 MiB of PATH (made if need be), shared, closes the fd, says "mapped"
 * on stdout and waits for stdin's end. Static, so that it runs in an empty
 * chroot. Review 29: a chrooted target's "seg (deleted)".
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int fd = open(argv[1], O_RDWR | O_CREAT, 0600);
  if (fd < 0 || ftruncate(fd, 1 << 20) != 0) return 3;
  char *p = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return 4;
  p[0] = 1;
  close(fd);
  printf("mapped\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  return 0;
}
