#!/usr/bin/env python3
# A JVM whose performance-data file another process removes while it runs, as
# a /tmp cleaner (systemd-tmpfiles, tmpwatch) does, then the same JVM class run
# again and left to exit by itself, which unlinks its own file.
#
# USAGE  hsperfdata-cleaner.py CLASSDIR OUT.json
# Writes what /proc showed: {"cleaned": {"javaPid", "rmPid", "perfPath",
# "deletedWhileAlive"}, "exited": {"javaPid", "perfPath"}}.
import json
import os
import subprocess
import sys

classes, out = sys.argv[1], sys.argv[2]


def start_jvm():
    # Prints "ready" once main runs (the perf file exists by then), exits on a line on stdin.
    java = subprocess.Popen(['java', '-XX:+UsePerfData', '-cp', classes, 'WaitForLine'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert java.stdout.readline().strip() == 'ready'
    return java


def perf_path(pid):
    # HotSpot's directory: /tmp / hsperfdata_<user> / <pid>. /tmp itself, whatever TMPDIR says (HotSpot reads no
    # TMPDIR on Linux, and the test suite sets one of its own: test/global-setup.ts).
    import pwd
    return os.path.join('/tmp', 'hsperfdata_' + pwd.getpwuid(os.getuid()).pw_name, str(pid))


def deleted_in_maps(pid, path):
    with open('/proc/%d/maps' % pid) as maps:
        return any(line.rstrip('\n').endswith(path + ' (deleted)') for line in maps)


result = {}
java = start_jvm()
path = perf_path(java.pid)
rm = subprocess.Popen(['rm', '-f', path])
rm.wait()
result['cleaned'] = {'javaPid': java.pid, 'rmPid': rm.pid, 'perfPath': path, 'deletedWhileAlive': deleted_in_maps(java.pid, path)}
java.stdin.write('\n')
java.stdin.close()
java.wait()

java = start_jvm()
result['exited'] = {'javaPid': java.pid, 'perfPath': perf_path(java.pid), 'mappedWhileAlive': any(line.rstrip('\n').endswith(perf_path(java.pid)) for line in open('/proc/%d/maps' % java.pid))}
java.stdin.write('\n')
java.stdin.close()
java.wait()
result['exited']['goneAfterExit'] = not os.path.exists(result['exited']['perfPath'])

with open(out, 'w') as f:
    json.dump(result, f)
