#!/bin/sh
# Review 9, R9-1: tdbtool holds DIR/db.tdb open and mapped; `tdbrestore` and
# `mv` replace it (a copy renamed over its name); tdbtool inserts more, and
# tdb unmaps and maps the now nameless file again at each growth. The
# program's own record, RECORD: /proc/PID/maps's lines of db.tdb after the
# mv and before the quit, and the pid.
set -e
dir=$1 record=$2
cd "$dir"
mkfifo cmds
stdbuf -oL tdbtool < cmds > tdbtool.out 2>&1 &
tdb=$!
exec 3> cmds
value=$(printf 'v%.0s' $(seq 1 300))
# Each step ends with "show" of a marker key; its key printed says tdbtool did the step.
step() {
  echo "insert $1 done" >&3
  echo "show $1" >&3
  until grep -q "^$1\$" tdbtool.out; do sleep 0.05; done
}
echo "pid $tdb" > "$record"
echo "create db.tdb" >&3
for k in $(seq 1 400); do echo "insert key$k $value" >&3; done
step filled
tdbdump db.tdb > dump.txt
tdbrestore new.tdb < dump.txt
mv new.tdb db.tdb
echo "== after-mv" >> "$record"
grep ' /.*db\.tdb' /proc/$tdb/maps >> "$record"
for k in $(seq 401 700); do echo "insert key$k $value" >&3; done
step grown
echo "== before-quit" >> "$record"
grep ' /.*db\.tdb' /proc/$tdb/maps >> "$record"
echo quit >&3
exec 3>&-
wait $tdb
