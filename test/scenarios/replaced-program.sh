# A program replaced while it runs (review 2, D5), for
# test/capture-replaced-program.test.ts: the kernel maps a program at
# execve, with no mmap a trace shows, and a relink or a package upgrade that
# removes its last name leaves /proc showing it "(deleted)".
#
# USAGE: sh replaced-program.sh DIR [GO]
#   With GO, waits for that file first (a tracer attaches meanwhile).
#   DIR/prog, a copy of /bin/sleep, runs in a child; once /proc shows it
#   mapped, rm removes DIR/prog, and DIR/shell too if it is there (the
#   test runs this script with a copy of /bin/sh by that name, to attach
#   to it). Then each one's /proc/PID/maps, read while it lives, is the
#   truth: DIR/prog.maps and DIR/shell.maps, with DIR/prog.pid and
#   DIR/shell.pid. The child is ended before the script ends.
dir=$1
if [ -n "$2" ]; then
  while [ ! -e "$2" ]; do sleep 0.05; done
fi
cp /bin/sleep "$dir/prog"
"$dir/prog" 60 &
prog=$!
until grep -q " $dir/prog\$" "/proc/$prog/maps" 2>/dev/null; do sleep 0.05; done
rm -f "$dir/prog" "$dir/shell"
echo "$prog" > "$dir/prog.pid"
echo "$$" > "$dir/shell.pid"
cat "/proc/$prog/maps" > "$dir/prog.maps"
cat "/proc/$$/maps" > "$dir/shell.maps"
kill "$prog"
wait
