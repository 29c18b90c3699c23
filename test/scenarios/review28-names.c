/*
 * Three ways a file keeps or loses its last name that the analysis got
 * wrong (review 28, exactness), one per MODE, each in its own DIR:
 *
 *   rename-links  maps DIR/a.dat; link(a.dat, b.dat); rename(a.dat, b.dat),
 *                 which does nothing, both names being one file's (rename(2));
 *                 unlink(b.dat): a.dat still names it. No leak.
 *   link-follow   maps DIR/a.dat; symlink s -> a.dat; linkat(s, L,
 *                 AT_SYMLINK_FOLLOW), as `ln -L` does: L names the file;
 *                 unlink(a.dat). No leak.
 *   leader-exit   maps DIR/a.dat; starts a thread; the main thread calls
 *                 pthread_exit, and the process lives on in the thread, which
 *                 unlinks a.dat 200 ms later. A leak.
 *
 * After the last step it writes the truth into DIR.truth, read from its own
 * /proc/thread-self/maps (a leader gone by pthread_exit reads empty maps):
 * "deleted N BYTES LINKS", the lines of files in DIR that print " (deleted)",
 * and the links their files have left (a hard link keeps a file whose name
 * the mapping was made by went: /proc prints it deleted all the same).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE (16 * 1024)

static char dir[4096];

static const char *in_dir(const char *name) {
  static char paths[4][4200];
  static int next;
  char *path = paths[next++ % 4];
  snprintf(path, sizeof paths[0], "%s/%s", dir, name);
  return path;
}

static void *map_new(const char *name) {
  int fd = open(in_dir(name), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, SIZE) != 0) exit(10);
  void *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) exit(11);
  close(fd);
  return p;
}

static void write_truth(void) {
  FILE *maps = fopen("/proc/thread-self/maps", "r");
  char line[8192], path[4200], suffix[4300];
  int count = 0;
  long bytes = 0, links = 0;
  snprintf(suffix, sizeof suffix, "%s/", dir);
  while (maps != NULL && fgets(line, sizeof line, maps) != NULL) {
    unsigned long start, end;
    if (strstr(line, suffix) == NULL || strstr(line, " (deleted)\n") == NULL) continue;
    if (sscanf(line, "%lx-%lx", &start, &end) != 2) continue;
    count++;
    bytes += (long)(end - start);
    /* The mapped file itself, by map_files (root): its links left. A stat: no call the trace follows. */
    char mapped[128];
    struct stat st;
    /* /proc/TID of this thread: a leader gone by pthread_exit has none of its own. */
    snprintf(mapped, sizeof mapped, "/proc/%d/map_files/%lx-%lx", (int)gettid(), start, end);
    if (stat(mapped, &st) != 0) exit(14);
    links += (long)st.st_nlink;
  }
  snprintf(path, sizeof path, "%s.truth", dir);
  FILE *out = fopen(path, "w");
  if (out == NULL) exit(12);
  fprintf(out, "deleted %d %ld %ld\n", count, bytes, links);
  fclose(out);
}

static void *unlink_later(void *unused) {
  (void)unused;
  usleep(200 * 1000);
  if (unlink(in_dir("a.dat")) != 0) exit(13);
  write_truth();
  exit(0);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  snprintf(dir, sizeof dir, "%s", argv[2]);
  static void *kept;
  kept = map_new("a.dat");
  if (strcmp(argv[1], "rename-links") == 0) {
    if (link(in_dir("a.dat"), in_dir("b.dat")) != 0 || rename(in_dir("a.dat"), in_dir("b.dat")) != 0) return 3;
    if (unlink(in_dir("b.dat")) != 0) return 4;
  } else if (strcmp(argv[1], "link-follow") == 0) {
    if (symlink("a.dat", in_dir("s")) != 0) return 3;
    if (linkat(AT_FDCWD, in_dir("s"), AT_FDCWD, in_dir("L"), AT_SYMLINK_FOLLOW) != 0) return 4;
    if (unlink(in_dir("a.dat")) != 0) return 5;
  } else if (strcmp(argv[1], "leader-exit") == 0) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, unlink_later, NULL) != 0) return 3;
    pthread_exit(NULL);
  } else {
    return 2;
  }
  write_truth();
  return kept == NULL;
}
