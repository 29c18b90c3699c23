/*
 * fast-forker COUNT MICROSECONDS: forks a child every MICROSECONDS, COUNT in
 * all, then waits; every child waits in pause() until killed. A prefork server
 * under a burst, at its worst: children keep appearing while a capture
 * stopped lists and ends the command's tree, and those forked after the list
 * was made, reparented to init once their parent dies, are in no tree of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  int count = atoi(argv[1]);
  int interval = atoi(argv[2]);
  for (int i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid == 0)
      for (;;) pause();
    if (pid < 0) {
      perror("fork");
      break;
    }
    usleep(interval);
  }
  for (;;) pause();
}
