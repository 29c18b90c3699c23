# A glib server that forks workers (review 81, F2): Gio's content type guess
# maps the shared MIME cache (XDG_DATA_DIRS/mime/mime.cache) and keeps it; the
# server forks two workers (no exec), which keep their copies; glib's own
# reload (xdgmime notices a changed cache within 5 s) unmaps the old cache in
# the server and maps the new one. The workers never guess again: they hold
# the old cache until they exit.
#
# stdin lines: "fork" (two workers), "end-workers" (they write their maps and
# exit; the server waits for them), "exit". stdout lines: "ready", "forked
# PID PID", "reloaded", "workers-done"; and "maps PID LINE" for every mapping of
# mime.cache /proc/self/maps shows: the server's before every guess, each
# worker's just before it exits (the truth).
import os
import select
import sys
import time

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio  # noqa: E402


def say(text):
    os.write(1, (text + '\n').encode())


def cache_lines():
    with open('/proc/self/maps') as maps:
        return [line.rstrip('\n') for line in maps if line.rstrip('\n').split(' ')[-1].endswith('/mime.cache') or line.rstrip('\n').endswith('/mime.cache (deleted)')]


guesses = 0


def guess():
    global guesses
    Gio.content_type_guess('f%d.txt' % guesses, None)
    guesses += 1


guess()
first = cache_lines()
if not first:
    sys.exit('glib mapped no mime.cache: is XDG_DATA_DIRS/mime/mime.cache there?')
say('ready')

end_workers = os.pipe()
workers = []
reloaded = False
buffered = b''
while True:
    ready, _, _ = select.select([0], [], [], 0.3)
    if ready:
        chunk = os.read(0, 4096)
        if not chunk:
            break
        buffered += chunk
        while b'\n' in buffered:
            command, buffered = buffered.split(b'\n', 1)
            if command == b'fork':
                for _ in range(2):
                    pid = os.fork()
                    if pid == 0:
                        os.close(end_workers[1])
                        # Blocks until the server closes its end: the worker's copy lives until then.
                        os.read(end_workers[0], 1)
                        for line in cache_lines():
                            say('maps %d %s' % (os.getpid(), line))
                        os._exit(0)
                    workers.append(pid)
                say('forked %d %d' % tuple(workers))
            elif command == b'end-workers':
                os.close(end_workers[1])
                for pid in workers:
                    os.waitpid(pid, 0)
                say('workers-done')
            elif command == b'exit':
                sys.exit(0)
    # The server's view before each guess; a guess may reload the cache.
    before = cache_lines()
    for line in before:
        say('maps %d %s' % (os.getpid(), line))
    guess()
    deleted = lambda lines: any(line.endswith(' (deleted)') for line in lines)  # noqa: E731
    if workers and not reloaded and deleted(before) and not deleted(cache_lines()):
        reloaded = True
        say('reloaded')
