// Six threads in a tight loop of getppid(2) while the main thread sleeps, then
// exit(3): the kernel kills the threads in the middle of their calls, which is
// when strace may fail to read a thread's registers at a call's entry and
// print the call with no name ("???(", "<... ??? resumed>"). Prints "ready"
// once the threads run. Usage: spin-exit MILLISECONDS
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *spin(void *unused) {
  for (;;) syscall(SYS_getppid);
  return unused;
}

int main(int argc, char **argv) {
  pthread_t threads[6];
  for (int i = 0; i < 6; i++) pthread_create(&threads[i], NULL, spin, NULL);
  printf("ready\n");
  fflush(stdout);
  usleep((useconds_t)atoi(argc > 1 ? argv[1] : "1000") * 1000);
  exit(0);
}
