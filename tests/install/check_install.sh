#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_install.sh BUILD_DIR - installs the build into a temporary DESTDIR and, from outside
# the source and build trees and with no LD_LIBRARY_PATH, uses it as a user would: the CLI,
# `brigade bench --quick` (its helpers found beside it), a program built with pkg-config from
# an installed example, a spawn pool whose worker is the installed one, the Python package
# (Python kernels in forked and spawned workers), and the manual.
# Prints "install: N passed, N failed"; exits 1 on a failure.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
unset LD_LIBRARY_PATH BRG_BENCH_PEER BRG_BENCH_PEERS BRG_WORKER_PATH
passed=0 failed=0
check() { # check LABEL COMMAND...: one check, its output kept in $dest/out
	if "${@:2}" >"$dest/out" 2>&1; then
		passed=$((passed + 1))
		echo "ok   $1"
	else
		failed=$((failed + 1))
		echo "FAIL $1"
		sed 's/^/     /' "$dest/out" | tail -20
	fi
}

check "meson install into a DESTDIR" meson install -C "$build" --destdir "$dest" --quiet
dirs=$(meson introspect --buildoptions "$build" |
	/usr/bin/python3 -c 'import json, os, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(*(os.path.join(o["prefix"], o[k]) for k in ("bindir", "libdir", "libexecdir", "datadir",
                                                 "mandir")))')
read -r bindir libdir libexecdir datadir mandir <<<"$dirs"
bin=$dest$bindir lib=$dest$libdir libexec=$dest$libexecdir data=$dest$datadir man=$dest$mandir
cd "$dest" || exit 1 # outside the source and build trees

check "the installed CLI runs" "$bin/brigade" --help
check "... and loads the installed library" sh -c \
	"test \"\$(realpath \"\$(ldd '$bin/brigade' | awk '/libbrigade/ {print \$3}')\")\" = \"\$(realpath '$lib/libbrigade.so.1')\""
export PKG_CONFIG_PATH=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
check "pkg-config knows it" sh -c "pkg-config --modversion brigade | grep -qx '$(meson introspect --projectinfo "$build" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')'"
check "the installed bench runs, its peers found beside it" sh -c "
	'$bin/brigade' bench --quick --json --workers 1 --kernels triad,dot --rounds 1 \
		--out '$dest/results' >'$dest/bench.json' &&
	/usr/bin/python3 -c '
import json, sys
recs = json.load(open(sys.argv[1]))[\"records\"]
ok = {r[\"impl\"] for r in recs if r[\"status\"] in (\"ok\", \"skipped\")}
sys.exit(0 if {\"brigade\", \"serial\", \"openmp\", \"openblas\"} <= ok else 1)' '$dest/bench.json'"
ex=$data/doc/brigade/examples/user_kernel.c
check "an installed example builds with pkg-config" sh -c \
	"cc -o '$dest/user_kernel' '$ex' \$(pkg-config --cflags --libs brigade) -lm -Wl,-rpath,'$lib'"
check "... and runs" "$dest/user_kernel"
check "a spawn pool runs the installed worker, found beside the library" sh -c \
	"cc -o '$dest/spawn_check' '$src/tests/install/spawn_check.c' \$(pkg-config --cflags --libs brigade) -Wl,-rpath,'$lib' &&
	 test \"\$('$dest/spawn_check' '$build/tests/kernels/libkplugin.so' | xargs realpath)\" = \"\$(realpath '$libexec/brigade-worker')\""
pkg=$(find "$dest" -path '*/brigade/_kernels.py' | head -1)
cat >"$dest/pykernel.py" <<'PY'
import sys
import brigade


def squares(b, e):
    return sum(i * i for i in range(b + 1, e + 1))


if __name__ == "__main__":
    lib = brigade.library_path()
    for start in ("fork", "spawn"):
        with brigade.Pool(workers=2, start=start) as pool:
            assert pool.reduce_ranges(squares, 10**5) == 333338333350000, start
    print(lib)
PY
check "the installed Python package runs Python kernels, forked and spawned" sh -c "
	test -n '$pkg' && cd '$dest' &&
	PYTHONPATH=\"\$(dirname \"\$(dirname '$pkg')\")\" BRIGADE_LIBRARY='$lib/libbrigade.so.1' \
		/usr/bin/python3 pykernel.py"
check "the manual is installed" test -f "$man/man3/brg_pool_create.3" -a \
	-f "$man/man7/brigade.7" -a -f "$man/man1/brigade.1"
if command -v man >/dev/null; then
	check "man brg_pool_create" sh -c "MANPATH='$man' man -P cat brg_pool_create 2>/dev/null | grep -q 'brg_pool_create'"
fi
echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
