#!/usr/bin/env bash
# package_test.sh BUILD_DIR VERSION: builds vidbatch_VERSION_<arch>.deb from BUILD_DIR with cpack,
# checks that its Depends name the package of every library the binary links, installs it with
# apt-get, runs the installed vidbatch (--version, validate on an installed example), removes it
# and checks that nothing is left. Exit 77 (skipped) when not root or when vidbatch is already
# installed on this machine otherwise than by this test.
set -euo pipefail
build=$1 version=$2
fail() { echo "package test: $*" >&2; exit 1; }
skip() { echo "package test: SKIPPED: $*" >&2; exit 77; }

[[ $(id -u) -eq 0 ]] || skip "installing a package needs root (run the suite as root to include it)"
for tool in cpack dpkg-shlibdeps apt-get readelf; do
  command -v "$tool" >/dev/null || fail "$tool is missing (tools/bootstrap --test installs it)"
done
# One install at a time on this machine (several checkouts may run their suites at once).
exec 9>/tmp/vidbatch-package-test.lock
flock -w 600 9 || fail "another package test held /tmp/vidbatch-package-test.lock for 10 minutes"
if dpkg-query -W -f='${Status}' vidbatch 2>/dev/null | grep -q 'ok installed'; then
  skip "a vidbatch package is installed on this machine; the test would replace and remove it"
fi
[[ ! -e /usr/bin/vidbatch ]] || skip "/usr/bin/vidbatch exists; the test would replace and remove it"

work=$(mktemp -d /tmp/vidbatch-package.XXXXXX)
installed=0
cleanup() {
  if [[ $installed -eq 1 ]]; then
    apt-get purge -y -qq -o DPkg::Lock::Timeout=300 vidbatch >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cpack -G DEB -B "$work" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
arch=$(dpkg --print-architecture)
deb=$work/vidbatch_${version}_${arch}.deb
[[ -f $deb ]] || fail "cpack did not write $(basename "$deb"): $(ls "$work")"
[[ $(dpkg-deb -f "$deb" Package) == vidbatch ]] || fail "the package is not called vidbatch"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "package version is not $version"

# Every library vidbatch links (DT_NEEDED) must come from a package named in Depends.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
dpkg-deb -x "$deb" "$work/root"
binary=$work/root/usr/bin/vidbatch
[[ -x $binary ]] || fail "the package has no usr/bin/vidbatch"
needed=$(readelf -d "$binary" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p')
[[ -n $needed ]] || fail "readelf found no NEEDED entry in usr/bin/vidbatch"
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed -E 's/^ +//; s/[ (].*//')
for lib in $needed; do
  # dpkg -S prints "pkg:arch[, pkg2:arch]: /path" per file.
  owners=$(dpkg -S "*/$lib" 2>/dev/null | sed -E 's/: \/.*//' | tr ',' '\n' |
           sed -E 's/^ +//; s/:.*//' | sort -u)
  [[ -n $owners ]] || fail "no installed package owns $lib"
  grep -qFx -f <(echo "$owners") <<<"$depends_names" ||
    fail "$lib comes from $(xargs <<<"$owners"), which Depends does not name"
done

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 "$deb" \
  >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get install $deb failed"; }
installed=1
[[ $(command -v vidbatch) == /usr/bin/vidbatch ]] || fail "vidbatch is not /usr/bin/vidbatch"
[[ $(/usr/bin/vidbatch --version) == "vidbatch $version" ]] ||
  fail "vidbatch --version says '$(/usr/bin/vidbatch --version)', not 'vidbatch $version'"
examples=/usr/share/doc/vidbatch/examples
(cd "$work" && /usr/bin/vidbatch validate "$examples/demo.yaml") >"$work/validate.out" 2>&1 ||
  { cat "$work/validate.out" >&2; fail "vidbatch validate $examples/demo.yaml failed"; }
grep -q 'ok, batch demo' "$work/validate.out" || fail "validate printed: $(cat "$work/validate.out")"

apt-get purge -y -qq -o DPkg::Lock::Timeout=300 vidbatch >"$work/apt.log" 2>&1 ||
  { cat "$work/apt.log" >&2; fail "apt-get purge vidbatch failed"; }
installed=0
[[ ! -e /usr/bin/vidbatch && ! -e /usr/share/doc/vidbatch ]] || fail "files left after the purge"
echo "package test: $(basename "$deb") installed, ran and was removed"
