#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli.sh - the `brigade` tool end to end: every command, its exit codes and its output.
#
# usage: test_cli.sh BRIGADE CLI_HOLD [PYTHON3]
# Prints one line per check and exits 1 when any failed, 77 when /dev/shm is missing.  JSON
# checks need PYTHON3 and the fill checks numpy; without them those checks are skipped.
# `brigade gc` removes every dead segment of the user, which is what it is for; the checks
# only look at this script's own names, brgt-<pid>-cli-*.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 BRIGADE CLI_HOLD [PYTHON3]" >&2
	exit 2
fi
brigade=$1
hold=$2
py=${3:-}
if [ ! -d /dev/shm ] || [ ! -w /dev/shm ]; then
	echo "SKIP: /dev/shm is not a writable directory"
	exit 77
fi

# Another run of this script (from another build directory) would gc our dead segments while
# we look at them: runs take turns, with a bound on the wait.
if command -v flock >/dev/null; then
	exec 9>>"${TMPDIR:-/tmp}/brigade-test-cli.lock"
	flock -w 45 9 || echo "# note: ran without the lock (another run held it for 45 s)"
fi

p=brgt-$$-cli
shm=/dev/shm
tmp=$(mktemp -d) || exit 1
hold_pid=

cleanup() {
	if [ -n "$hold_pid" ]; then
		kill "$hold_pid" 2>/dev/null
		wait "$hold_pid" 2>/dev/null
	fi
	rm -f "$shm/$p"-*
	rm -rf "$tmp"
}
trap cleanup EXIT

nchecks=0
nfailed=0
nskipped=0

pass() {
	nchecks=$((nchecks + 1))
	echo "ok $nchecks - $1"
}

# fail DESC [DETAIL...]: one line per detail, indented under the check.
fail() {
	nchecks=$((nchecks + 1))
	nfailed=$((nfailed + 1))
	echo "FAIL $nchecks - $1"
	shift
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/    /'
	done
}

skip() {
	nskipped=$((nskipped + 1))
	echo "skip - $1"
}

# run WANT DESC CMD...: runs CMD (stdout in $tmp/out, stderr in $tmp/err), checks its exit
# status; returns 0 when it matched.
run() {
	local want=$1 desc=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$desc"
		return 0
	fi
	fail "$desc" "command: $*" "exit status: $rc, expected $want" \
		"stdout: $(head -c 600 "$tmp/out")" "stderr: $(head -c 600 "$tmp/err")"
	return 1
}

# check DESC CMD...: passes when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		pass "$desc"
	else
		fail "$desc" "command: $*" "stdout was: $(head -c 600 "$tmp/out")" \
			"stderr was: $(head -c 600 "$tmp/err")"
	fi
}

# out_has / err_has / out_lacks REGEX: grep -E over the last run's stdout / stderr.
out_has() { grep -qE -- "$1" "$tmp/out"; }
err_has() { grep -qE -- "$1" "$tmp/err"; }
out_lacks() { ! grep -qE -- "$1" "$tmp/out"; }

# pycheck DESC FILE CODE [ARG...]: runs CODE with d = the JSON in FILE, ARGs in sys.argv[2:];
# CODE asserts (with the values in the message).
pycheck() {
	local desc=$1 file=$2 code=$3
	shift 3
	if [ -z "$py" ]; then
		skip "$desc (no python3)"
		return
	fi
	if "$py" -c "import json, os, sys
d = json.load(open(sys.argv[1]))
$code" "$file" "$@" >"$tmp/py.err" 2>&1; then
		pass "$desc"
	else
		fail "$desc" "json: $(head -c 1000 "$file")" "$(tail -n 5 "$tmp/py.err")"
	fi
}

# Row of NAME in the last `brigade ls` table, columns after the name joined by one space.
ls_row() { awk -v n="$1" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$tmp/out"; }

# ---------------------------------------------------------------------------------------------
echo "# top level"
run 0 "--version" "$brigade" --version
check "--version prints x.y.z" grep -qE '^[0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out"
run 2 "no command is a usage error" "$brigade"
check "no command: usage on stderr" err_has '^usage: brigade'
check "no command: nothing on stdout" test ! -s "$tmp/out"
for h in --help -h; do
	run 0 "brigade $h" "$brigade" $h
	for c in ls info create rm gc; do
		check "brigade $h lists '$c'" out_has "^  $c "
	done
	check "brigade $h: nothing on stderr" test ! -s "$tmp/err"
done
run 2 "unknown command" "$brigade" frobnicate
check "unknown command: named on stderr" err_has "unknown command 'frobnicate'"
check "unknown command: usage on stderr" err_has '^usage: brigade'
check "unknown command: nothing on stdout" test ! -s "$tmp/out"
run 2 "unknown top-level option" "$brigade" --bogus

for c in ls info create rm gc; do
	for h in --help -h; do
		run 0 "$c $h" "$brigade" $c $h
		check "$c $h: usage on stdout" out_has "^usage: brigade $c"
		check "$c $h: nothing on stderr" test ! -s "$tmp/err"
	done
	run 2 "$c --bogus is a usage error" "$brigade" $c --bogus
	check "$c --bogus: option named on stderr" err_has "unknown option '--bogus'"
	check "$c --bogus: usage on stderr" err_has "^usage: brigade $c"
	check "$c --bogus: nothing on stdout" test ! -s "$tmp/out"
done
run 2 "ls --json=1 (argument to a flag)" "$brigade" ls --json=1
check "ls --json=1: says it takes no argument" err_has "takes no argument"
run 2 "ls with a stray argument" "$brigade" ls extra
run 2 "gc with a stray argument" "$brigade" gc extra
run 2 "info without NAME" "$brigade" info
run 2 "info with two NAMEs" "$brigade" info "$p-x" "$p-y"
run 2 "rm without NAME" "$brigade" rm
if [ -w /dev/full ]; then
	run 1 "output that cannot be written is a failure" \
		sh -c 'exec "$0" --help >/dev/full' "$brigade"
	check "write error reported on stderr" err_has 'write error'
fi

# ---------------------------------------------------------------------------------------------
echo "# create, info"
# Everything but the arrays gc is meant to take is persistent: a `brigade gc` run by another
# test run at the same time then leaves them alone.
f=$p-f64
run 0 "create f64 3,4 --fill 1.5 --persistent" "$brigade" create "$f" --dtype f64 --shape 3,4 \
	--fill 1.5 --persistent
check "create: silent on success" test ! -s "$tmp/out" -a ! -s "$tmp/err"
check "create made $shm/$f" test -f "$shm/$f"
run 0 "info" "$brigade" info "$f"
check "info: name" out_has "^name: +$f\$"
check "info: kind array" out_has '^kind: +array$'
check "info: dtype f64" out_has '^dtype: +f64$'
check "info: shape 3x4" out_has '^shape: +3x4$'
check "info: nbytes 96" out_has '^nbytes: +96$'
check "info: mode 0600" out_has '^mode: +0600$'
check "info: persistent" out_has '^persistent: +yes$'
check "info: creator (brigade create) no longer alive" out_has '^alive: +no$'
run 0 "info --json" "$brigade" info "$f" --json
pycheck "info --json: every field" "$tmp/out" '
want = {"name": sys.argv[2], "kind": "array", "dtype": "f64", "shape": [3, 4], "nbytes": 96,
        "mode": "0600", "alive": False, "persistent": True, "shared": False,
        "creator_uid": os.getuid(), "generation": 2}
for k, v in want.items():
    assert d[k] == v, (k, d[k], v)
assert d["file_bytes"] >= 4096 + 96 and d["file_bytes"] % 4096 == 0, d["file_bytes"]
assert isinstance(d["creator_pid"], int) and d["creator_pid"] > 0, d["creator_pid"]
assert isinstance(d["created_ns"], int) and d["created_ns"] > 0, d["created_ns"]
' "$f"
run 0 "info NAME --json --any-owner (options after NAME)" "$brigade" info --any-owner "$f" --json

run 0 "create persistent u8 10" "$brigade" create "$p-keep" --dtype u8 --shape 10 --persistent
run 0 "create with no flag" "$brigade" create "$p-plain" --dtype u8 --shape 10
run 0 "info of it" "$brigade" info "$p-plain"
check "create with no flag: persistent (made on purpose, gc keeps it)" out_has '^persistent: +yes$'
check "create with no flag: generation 1" out_has '^generation: +1$'
run 0 "info --json (persistent)" "$brigade" info --json "$p-keep"
pycheck "persistent: true in JSON" "$tmp/out" '
assert d["persistent"] is True and d["alive"] is False, d'
run 0 "create --mode 0640" "$brigade" create "$p-mode" --persistent --dtype i32 --shape 2 --mode 0640
run 0 "info --json (mode 0640)" "$brigade" info --json "$p-mode"
pycheck "--mode 0640: mode 0640 and shared" "$tmp/out" '
assert d["mode"] == "0640" and d["shared"] is True, d'
check "--mode 0640: file mode on disk" test "$(stat -c %a "$shm/$p-mode")" = 640
run 0 "create 8 dimensions" "$brigade" create "$p-8d" --persistent --dtype i8 --shape 1,2,1,2,1,2,1,2
run 0 "info (8 dimensions)" "$brigade" info "$p-8d"
check "info: shape 1x2x1x2x1x2x1x2" out_has '^shape: +1x2x1x2x1x2x1x2$'
run 0 "create with a zero extent" "$brigade" create "$p-empty" --persistent --dtype f32 --shape 0,5 --fill 3
run 0 "create float64 (numpy dtype name)" "$brigade" create "$p-np" --persistent --dtype float64 --shape 2

# ---------------------------------------------------------------------------------------------
echo "# create: --fill values, read back with numpy"
run 0 "create i16 5,3 --fill -7" "$brigade" create "$p-i16" --persistent --dtype i16 --shape 5,3 --fill -7
run 0 "create u64 7 --fill 2^64-1" "$brigade" create "$p-u64" --persistent --dtype u64 --shape 7 \
	--fill 18446744073709551615
run 0 "create i64 3 --fill -2^63" "$brigade" create "$p-i64" --persistent --dtype i64 --shape 3 \
	--fill -9223372036854775808
run 0 "create f32 2,2,2 --fill 0.1" "$brigade" create "$p-f32" --persistent --dtype f32 --shape 2,2,2 --fill 0.1
run 0 "create i8 3 --fill -128" "$brigade" create "$p-i8" --persistent --dtype i8 --shape 3 --fill -128
run 0 "create u8 1000 --fill 255" "$brigade" create "$p-u8" --persistent --dtype u8 --shape 1000 --fill 255
run 0 "create u32 2 --fill +7" "$brigade" create "$p-u32" --persistent --dtype u32 --shape 2 --fill +7
run 0 "create i32 4 (no --fill)" "$brigade" create "$p-zero" --persistent --dtype i32 --shape 4
run 0 "create f64 8 MiB --fill 2.5 (huge pages)" "$brigade" create "$p-big" --persistent --dtype f64 \
	--shape 1048576 --fill 2.5
run 0 "create f64 8 MiB --fill 2.5 --small-pages" "$brigade" create "$p-bigs" --persistent \
	--dtype f64 --shape 1048576 --fill 2.5 --small-pages
run 0 "info (--small-pages is not recorded)" "$brigade" info "$p-bigs" --json
pycheck "info --json: flags as without --small-pages" "$tmp/out" '
assert d["persistent"] is True and d["shared"] is False, d
'
if [ -n "$py" ] && "$py" -c 'import numpy' 2>/dev/null; then
	numpy_check() { # DESC NAME DTYPE SHAPE VALUE: every element of NAME equals VALUE
		if "$py" -c '
import sys, numpy as np
path, dtype, shape, value = sys.argv[1:5]
m = np.load(path, mmap_mode="r")
shape = tuple(int(x) for x in shape.split(",") if x)
want = np.array(eval(value), dtype=dtype)
assert m.dtype == np.dtype(dtype), (m.dtype, dtype)
assert m.shape == shape, (m.shape, shape)
assert (m == want).all(), (m, want)
' "$shm/$2" "$3" "$4" "$5" >"$tmp/py.err" 2>&1; then
			pass "$1"
		else
			fail "$1" "$(tail -n 5 "$tmp/py.err")"
		fi
	}
	numpy_check "numpy: f64 3x4 all 1.5" "$f" float64 3,4 1.5
	numpy_check "numpy: i16 5x3 all -7" "$p-i16" int16 5,3 -7
	numpy_check "numpy: u64 all 2^64-1" "$p-u64" uint64 7 2**64-1
	numpy_check "numpy: i64 all -2^63" "$p-i64" int64 3 -2**63
	numpy_check "numpy: f32 all float32(0.1)" "$p-f32" float32 2,2,2 0.1
	numpy_check "numpy: i8 all -128" "$p-i8" int8 3 -128
	numpy_check "numpy: u8 all 255" "$p-u8" uint8 1000 255
	numpy_check "numpy: u32 all 7" "$p-u32" uint32 2 7
	numpy_check "numpy: i32 without --fill is zero" "$p-zero" int32 4 0
	numpy_check "numpy: f64 8 MiB all 2.5" "$p-big" float64 1048576 2.5
	numpy_check "numpy: f64 8 MiB --small-pages all 2.5" "$p-bigs" float64 1048576 2.5
	numpy_check "numpy: f32 0x5 (empty)" "$p-empty" float32 0,5 3
	numpy_check "numpy: 8 dimensions" "$p-8d" int8 1,2,1,2,1,2,1,2 0
else
	skip "--fill values (no python3 with numpy)"
fi

# ---------------------------------------------------------------------------------------------
echo "# usage errors of create (exit 2, nothing left in $shm)"
bad=$p-bad
for shape in "" "3,,4" "3,x" "-1" ",3" "3," "1,2,3,4,5,6,7,8,9" "99999999999999999999999" \
	"18446744073709551616" "3 ,4" " 3" "0x10" "+3" "3.0" "3x4"; do
	run 2 "create --shape '$shape' is a usage error" \
		"$brigade" create "$bad" --dtype f64 --shape "$shape"
done
check "create --shape junk: the error names the shape" err_has "bad shape '3x4'"
for dtype in f128 "" float F64 complex64; do
	run 2 "create --dtype '$dtype' is a usage error" "$brigade" create "$bad" --dtype "$dtype" --shape 2
done
for args in "u8 256" "u8 -1" "i8 -129" "i8 128" "i16 32768" "u64 18446744073709551616" \
	"i64 9223372036854775808" "f32 1e39" "f32 -1e39" "f64 1e999" "f64 abc" "i32 1.5" \
	"i32 1e3" "i32 0x10" "f64 1.5x" "i32 _"; do
	set -- $args
	run 2 "create --dtype $1 --fill '$2' is a usage error" \
		"$brigade" create "$bad" --dtype "$1" --shape 2 --fill "$2"
done
run 2 "create --fill '' is a usage error" "$brigade" create "$bad" --dtype f64 --shape 2 --fill ""
run 2 "create --fill ' 1' is a usage error" "$brigade" create "$bad" --dtype i32 --shape 2 --fill " 1"
for mode in 999 0400 0 8 abc 01640 "" 0660x; do
	run 2 "create --mode '$mode' is a usage error" \
		"$brigade" create "$bad" --dtype f64 --shape 2 --mode "$mode"
done
run 2 "create without --dtype" "$brigade" create "$bad" --shape 2
run 2 "create without --shape" "$brigade" create "$bad" --dtype f64
run 2 "create without NAME" "$brigade" create --dtype f64 --shape 2
run 2 "create with two NAMEs" "$brigade" create "$bad" "$bad-2" --dtype f64 --shape 2
run 2 "create --dtype without its argument" "$brigade" create "$bad" --shape 2 --dtype
check "missing argument: named on stderr" err_has "option '--dtype' needs an argument"
check "no usage error left a segment behind" test ! -e "$shm/$bad" -a ! -e "$shm/$bad-2"

echo "# failures of create and info (exit 1)"
cp "$shm/$f" "$tmp/f.before"
run 1 "create an existing name" "$brigade" create "$f" --dtype f64 --shape 2
check "create existing: message" err_has "^brigade: $f: .* \\(EEXIST\\)\$"
check "create existing: the old array is untouched" cmp -s "$shm/$f" "$tmp/f.before"
run 1 "create a bad name" "$brigade" create "bad/name" --dtype f64 --shape 2
check "create bad name: message" err_has '^brigade: bad/name: .* \(BRG_EBADNAME\)$'
run 1 "create a shape whose bytes overflow" "$brigade" create "$bad" --dtype f64 \
	--shape 4294967296,4294967296
check "create overflow: BRG_EOVERFLOW" err_has '\(BRG_EOVERFLOW\)$'
run 1 "info of a missing name" "$brigade" info "$p-missing"
check "info missing: message" err_has "^brigade: $p-missing: .+ \\(ENOENT\\)\$"
check "info missing: nothing on stdout" test ! -s "$tmp/out"
run 1 "info of a bad name" "$brigade" info "bad/name"
check "info bad name: message" err_has '^brigade: bad/name: .+ \(BRG_EBADNAME\)$'
run 1 "info --json of a missing name" "$brigade" info --json "$p-missing"

# ---------------------------------------------------------------------------------------------
echo "# ls, with a segment whose creator is alive and two whose creators exited"
# gc's victims, made just before the checks so that a concurrent gc has little time to take
# them.  The spec'd way to get a creator that is gone: a child process that exits.
a=$p-a
run 0 "create f64 3,4 --temporary" "$brigade" create "$a" --dtype f64 --shape 3,4 --fill 1.5 \
	--temporary
run 0 "create --temporary from a child process that exits" \
	sh -c 'exec "$0" create "$1" --dtype f64 --shape 2 --temporary' "$brigade" "$p-dead"
run 0 "info --json (--temporary)" "$brigade" info "$a" --json
cp "$tmp/out" "$tmp/info.json"
pycheck "info --json: not persistent, creator gone" "$tmp/info.json" '
assert d["persistent"] is False and d["alive"] is False and d["generation"] == 2, d'
# Reads the first line of a cli_hold coprocess (fd $1): "ready", or the run stops (every later
# check needs what it holds).
expect_ready() {
	line=
	read -r -t 20 line <&"$1"
	if [ "$line" != ready ]; then
		fail "$2" "read '$line'"
		exit 1
	fi
	pass "$2"
}
# Starts cli_hold with the arguments after $1 as a coprocess and waits for its "ready" ($1:
# the check's name): its pid in hold_pid, its output and input in hold_out and hold_in.
hold_start() {
	local what=$1
	shift
	coproc HOLD { exec "$hold" "$@"; }
	hold_pid=$HOLD_PID
	hold_out=${HOLD[0]}
	hold_in=${HOLD[1]}
	expect_ready "$hold_out" "$what"
}
# Lets the cli_hold coprocess go: closing its input makes it exit.
hold_stop() {
	exec {hold_in}>&-
	wait "$hold_pid"
	hold_pid=
}
hold_start "cli_hold created $p-live" "$p-live"

head -c 10000 /dev/urandom >"$shm/$p-junk"
cp "$shm/$p-junk" "$tmp/junk"
: >"$shm/$p-zerolen"

run 0 "ls --json" "$brigade" ls --json
cp "$tmp/out" "$tmp/ls.json"
pycheck "ls --json: live segment is alive" "$tmp/ls.json" '
s = {o["name"]: o for o in d}
o = s[sys.argv[2]]
assert o["alive"] is True and o["persistent"] is False, o
assert o["creator_pid"] == int(sys.argv[3]) and o["dtype"] == "f32" and o["shape"] == [16], o
' "$p-live" "$hold_pid"
pycheck "ls --json: $a as info --json shows it" "$tmp/ls.json" '
s = {o["name"]: o for o in d}
assert s[sys.argv[2]] == json.load(open(sys.argv[3])), (s[sys.argv[2]], sys.argv[3])
' "$a" "$tmp/info.json"
pycheck "ls --json: persistent segment" "$tmp/ls.json" '
s = {o["name"]: o for o in d}
assert s[sys.argv[2]]["persistent"] is True, s[sys.argv[2]]' "$p-keep"
pycheck "ls --json: non-brigade files left out, names in order" "$tmp/ls.json" '
names = [o["name"] for o in d]
assert sys.argv[2] not in names and sys.argv[3] not in names, names
assert names == sorted(names), names' "$p-junk" "$p-zerolen"
run 0 "ls" "$brigade" ls
check "ls: header" grep -qE '^NAME +KIND +DTYPE +SHAPE +BYTES +PID +ALIVE +PERSISTENT$' "$tmp/out"
check "ls: row of $p-live" test "$(ls_row "$p-live")" = "array f32 16 64 $hold_pid yes no"
check "ls: row of $a" grep -qE "^array f64 3x4 96 [0-9]+ no no\$" <(ls_row "$a")
check "ls: row of $p-keep" grep -qE "^array u8 10 10 [0-9]+ no yes\$" <(ls_row "$p-keep")
check "ls: junk not listed" test -z "$(ls_row "$p-junk")"
run 0 "ls --all" "$brigade" ls --all
check "ls --all: lists $a" test -n "$(ls_row "$a")"
run 0 "ls --all --json" "$brigade" ls --all --json
pycheck "ls --all --json: lists $a" "$tmp/out" '
assert sys.argv[2] in [o["name"] for o in d]' "$a"

echo "# info, rm on a non-brigade file"
run 1 "info on random bytes fails" "$brigade" info "$p-junk"
check "info on random bytes: brigade error named" err_has "^brigade: $p-junk: .+ \\(BRG_E[A-Z]+\\)\$"
run 1 "rm on random bytes fails" "$brigade" rm "$p-junk"
check "rm on random bytes: file still there, unchanged" cmp -s "$shm/$p-junk" "$tmp/junk"
run 1 "rm on an empty file fails" "$brigade" rm "$p-zerolen"
check "rm on an empty file: still there" test -e "$shm/$p-zerolen"

# ---------------------------------------------------------------------------------------------
echo "# gc"
run 0 "gc --dry-run" "$brigade" gc --dry-run
check "gc --dry-run: would remove $p-dead" out_has "^would remove $p-dead\$"
check "gc --dry-run: would remove $a" out_has "^would remove $a\$"
check "gc --dry-run: keeps the live one" out_lacks "$p-live"
check "gc --dry-run: keeps the persistent one" out_lacks "$p-keep"
check "gc --dry-run: leaves non-brigade files alone" out_lacks "$p-junk|$p-zerolen"
check "gc --dry-run: removed nothing" test -e "$shm/$p-dead" -a -e "$shm/$a"
run 0 "gc --dry-run --json" "$brigade" gc --dry-run --json
pycheck "gc --dry-run --json: the dead ones, not the others" "$tmp/out" '
names = [o["name"] for o in d]
assert sys.argv[2] in names and sys.argv[3] in names, names
assert not set(sys.argv[4:]) & set(names), names
assert all(o["alive"] is False and o["persistent"] is False for o in d), d
' "$p-dead" "$a" "$p-live" "$p-keep" "$p-junk"
run 0 "gc" "$brigade" gc
check "gc: reports $p-dead removed" out_has "^removed $p-dead\$"
check "gc: reports $a removed" out_has "^removed $a\$"
check "gc: $p-dead is gone" test ! -e "$shm/$p-dead"
check "gc: $a is gone" test ! -e "$shm/$a"
check "gc: the live one stays" test -e "$shm/$p-live"
check "gc: the persistent one stays" test -e "$shm/$p-keep"
check "gc: the one created with no flag stays" test -e "$shm/$p-plain"
check "gc: random bytes untouched" cmp -s "$shm/$p-junk" "$tmp/junk"
check "gc: empty file untouched" test -e "$shm/$p-zerolen"
run 0 "gc again" "$brigade" gc
check "gc again: nothing of ours left to remove" out_lacks "$p-"

# Now let the creator go.
hold_stop
run 0 "info --json after its creator exited" "$brigade" info --json "$p-live"
pycheck "creator exited: alive false" "$tmp/out" 'assert d["alive"] is False, d'
run 0 "gc --dry-run after its creator exited" "$brigade" gc --dry-run
check "gc --dry-run: would remove $p-live now" out_has "^would remove $p-live\$"
run 0 "gc --json after its creator exited" "$brigade" gc --json
pycheck "gc --json: lists $p-live as removed" "$tmp/out" '
assert sys.argv[2] in [o["name"] for o in d], d' "$p-live"
check "gc: $p-live is gone" test ! -e "$shm/$p-live"
check "gc: the persistent one still stays" test -e "$shm/$p-keep"

# ---------------------------------------------------------------------------------------------
echo "# rm"
run 0 "rm" "$brigade" rm "$p-keep"
check "rm: silent on success" test ! -s "$tmp/out" -a ! -s "$tmp/err"
check "rm: gone" test ! -e "$shm/$p-keep"
run 1 "rm twice fails" "$brigade" rm "$p-keep"
check "rm twice: message" err_has "^brigade: $p-keep: .+ \\(ENOENT\\)\$"
run 1 "rm of a bad name" "$brigade" rm "bad/name"
check "rm bad name: BRG_EBADNAME" err_has '\(BRG_EBADNAME\)$'
"$brigade" create "$p-x" --persistent --dtype u8 --shape 1
"$brigade" create "$p-y" --persistent --dtype u8 --shape 1
run 1 "rm goes on past a failure" "$brigade" rm "$p-x" "$p-missing" "$p-junk" "$p-y"
check "rm past failure: first and last removed" test ! -e "$shm/$p-x" -a ! -e "$shm/$p-y"
check "rm past failure: one message per failure" test "$(wc -l <"$tmp/err")" -eq 2
check "rm past failure: junk still there" cmp -s "$shm/$p-junk" "$tmp/junk"
for n in r1 r2 r3 r4; do
	"$brigade" create "$p-$n" --persistent --dtype f32 --shape 3
done
run 0 "rm of several" "$brigade" rm "$p-r1" "$p-r2" "$p-r3"
check "rm of several: all gone" test ! -e "$shm/$p-r1" -a ! -e "$shm/$p-r2" -a ! -e "$shm/$p-r3"
run 0 "rm -- NAME" "$brigade" rm -- "$p-r4"
check "rm -- NAME: gone" test ! -e "$shm/$p-r4"

# ---------------------------------------------------------------------------------------------
echo "# topo and status"
run 0 "topo" "$brigade" topo
check "topo: topology line" out_has '^topology: [0-9]+ packages?, [0-9]+ NUMA nodes?, [0-9]+ cores?, [0-9]+ PUs?$'
run 0 "topo --synthetic, 3 scattered" "$brigade" topo --synthetic "pack:2 numa:2 core:8 pu:2" \
	--workers 3 --bind scatter --json
pycheck "topo --json: 3 participants over both packages" "$tmp/out" '
assert d["topology"] == "2 packages, 4 NUMA nodes, 32 cores, 64 PUs", d
p = d["placement"]
assert d["workers"] == 3 and len(p) == 3 and d["bind"] == "scatter", d
assert len({x["core"] for x in p}) == 3, p
assert p[0]["core"] // 16 != p[1]["core"] // 16, p'
run 0 "topo --synthetic, more workers than cores" "$brigade" topo --synthetic "pack:1 core:4 pu:2" \
	--workers 6 --json
pycheck "topo --json: siblings only after every core has one" "$tmp/out" '
p = d["placement"]
assert [x["core"] for x in p] == [0, 1, 2, 3, 0, 1], p
assert len({x["pu"] for x in p}) == 6, p'
run 2 "topo --bind bogus" "$brigade" topo --bind bogus
run 1 "topo with a bad synthetic description" "$brigade" topo --synthetic "nonsense:7"
run 1 "status of a missing pool" "$brigade" status "$p-nopool"
"$brigade" create "$p-notpool" --persistent --dtype u8 --shape 1
run 1 "status of an array" "$brigade" status "$p-notpool"
check "status of an array: BRG_ENOTPOOL" err_has '\(BRG_ENOTPOOL\)$'
"$brigade" rm "$p-notpool"

hold_start "cli_hold made pool $p-pool" "$p-pool" pool
run 0 "status --json" "$brigade" status "$p-pool" --json
pycheck "status --json: 2 live participants, a job done" "$tmp/out" '
assert d["participants"] == 2 and d["parent_alive"] is True and d["parent_pid"] == int(sys.argv[2]), d
assert d["job_in_flight"] is False and d["job_id"] == 1 and d["start"] == "fork", d
w = d["workers"]
assert [x["index"] for x in w] == [0, 1] and all(x["alive"] for x in w), w
assert w[0]["pid"] == int(sys.argv[2]) and w[1]["pid"] != w[0]["pid"], w
assert all(x["state"] == "idle" and x["range"] is None for x in w), w
assert sum(x["chunks_done"] for x in w) >= 1, w' "$hold_pid"
run 0 "status" "$brigade" status "$p-pool"
check "status: a row per participant" test "$(grep -cE '^[01] +[0-9]+ ' "$tmp/out")" -eq 2
run 0 "ls --json lists the pool" "$brigade" ls --json
pycheck "ls --json: kind pool" "$tmp/out" '
s = {o["name"]: o for o in d}
assert s[sys.argv[2]]["kind"] == "pool" and s[sys.argv[2]]["alive"] is True, s.get(sys.argv[2])' "$p-pool"
hold_stop
check "pool destroyed with its creator: control block gone" test ! -e "$shm/$p-pool"
run 1 "status after destroy" "$brigade" status "$p-pool"

# Streams: a queue and a broadcast stream, 3 frames published, one received and held.
hold_start "cli_hold made queue stream $p-queue" "$p-queue" queue
run 0 "status STREAM (queue)" "$brigade" status "$p-queue"
check "status STREAM: slots by state" out_has "^stream $p-queue: queue, block; 4 slots of 64 bytes: 1 free, 0 loaned, 2 ready, 1 held$"
check "status STREAM: counts" out_has '^published 3, received 1, lost 0, given back from the dead 0; '
check "status STREAM: its consumer, 2 frames waiting, 1 held" out_has "^$hold_pid +yes +2 +1$"
run 0 "status NAME.stream --json (queue)" "$brigade" status "$p-queue.stream" --json
pycheck "status --json (queue): a consumer with its lag and frame" "$tmp/out" '
assert d["kind"] == "stream" and d["mode"] == "queue" and d["slots"] == 4, d
assert (d["free"], d["loaned"], d["ready"], d["held"]) == (1, 0, 2, 1), d
assert d["published"] == 3 and d["received"] == 1 and d["last_ns"] > 0, d
assert d["consumers"] == [{"pid": int(sys.argv[2]), "alive": True, "lag": 2, "reading": 1}], d' \
	"$hold_pid"
run 0 "ls lists the stream's two segments" "$brigade" ls
check "ls: the ring and the control state" test "$(ls_row "$p-queue" | cut -d' ' -f1-3) / $(ls_row "$p-queue.stream" | cut -d' ' -f1)" = "array f64 4x8 / stream"
# Its creator killed: the consumer shows dead, and gc takes both segments.
kill -9 "$hold_pid"
hold_stop 2>/dev/null
run 0 "status --json of a stream whose processes died" "$brigade" status "$p-queue" --json
pycheck "status --json: the consumer is dead, its frame still held" "$tmp/out" '
assert [c["alive"] for c in d["consumers"]] == [False] and d["held"] == 1, d'
run 0 "gc" "$brigade" gc
check "gc removed the dead stream's ring" test ! -e "$shm/$p-queue"
check "gc removed the dead stream's control state" test ! -e "$shm/$p-queue.stream"

hold_start "cli_hold made broadcast stream $p-bcast" "$p-bcast" broadcast
run 0 "status --json (broadcast)" "$brigade" status "$p-bcast" --json
pycheck "status --json (broadcast): a subscriber 2 frames behind, reading 1" "$tmp/out" '
assert d["mode"] == "broadcast" and (d["free"], d["ready"], d["held"]) == (1, 3, 0), d
assert d["subscribers"] == [{"pid": int(sys.argv[2]), "alive": True, "lag": 2, "reading": 1}], d' \
	"$hold_pid"
hold_stop
check "stream removed by its creator" test ! -e "$shm/$p-bcast.stream"
run 1 "status of a stream that is gone" "$brigade" status "$p-bcast"

# ---------------------------------------------------------------------------------------------
echo "# $nchecks checks, $nfailed failed, $nskipped skipped"
[ "$nfailed" -eq 0 ]
