/*
 * review7-kids KIDS MAPS DEPTH DIR: a parent that, once DIR/go exists, forks
 * KIDS children that each map one file MAPS times (every other mapping
 * read-only, so that none merge), then writes DIR/ready and waits. The file
 * lies DEPTH directories of 250 characters below DIR, so that each line of a
 * child's /proc/PID/maps is that long. Every process waits in pause() until
 * killed. Review 7: a target with thousands of children held the end of a
 * capture for minutes; children with big maps filled the disk.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void child(const char *path, int maps, int done) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) _exit(1);
  for (int i = 0; i < maps; i++)
    if (mmap(0, 4096, (i & 1) ? PROT_READ : PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0) == MAP_FAILED) _exit(1);
  close(fd);
  if (write(done, "k", 1) != 1) _exit(1);
  close(done);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc != 5) return 2;
  int kids = atoi(argv[1]), maps = atoi(argv[2]), depth = atoi(argv[3]);
  char path[8192], name[8192];
  snprintf(path, sizeof path, "%s", argv[4]);
  for (int i = 0; i < depth; i++) {
    size_t length = strlen(path);
    path[length] = '/';
    memset(path + length + 1, 'd', 250);
    path[length + 251] = 0;
    mkdir(path, 0755);
  }
  strcat(path, "/f");
  int fd = open(path, O_RDWR | O_CREAT, 0644);
  if (fd < 0 || ftruncate(fd, 4096) != 0) return 1;
  close(fd);
  snprintf(name, sizeof name, "%s/go", argv[4]);
  while (access(name, F_OK) != 0) usleep(10000);
  int pipes[2];
  if (pipe(pipes) != 0) return 1;
  for (int i = 0; i < kids; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      close(pipes[0]);
      child(path, maps, pipes[1]);
    }
    if (pid < 0) return 1;
  }
  close(pipes[1]);
  char byte;
  int ready = 0;
  while (ready < kids && read(pipes[0], &byte, 1) == 1) ready++;
  snprintf(name, sizeof name, "%s/ready.tmp", argv[4]);
  FILE *out = fopen(name, "w");
  if (out == NULL) return 1;
  fprintf(out, "%d\n", ready);
  fclose(out);
  char done[8192];
  snprintf(done, sizeof done, "%s/ready", argv[4]);
  rename(name, done);
  for (;;) pause();
}
