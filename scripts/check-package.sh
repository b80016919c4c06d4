#!/usr/bin/env bash
# The package as users get it (CI runs this after the tests): `npm pack`, the tarball installed
# into an empty folder, the command run from other working directories. Fails on the first
# thing that is not as it should be.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "check-package: $*" >&2; exit 1; }

tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
echo "check-package: packed $tarball"

# Only what users need: the command, its bundle, the schema, the README and the licence.
unexpected="$(tar -tzf "$work/$tarball" | sed 's#^package/##' | grep -vE '^(bin/softmax-verify\.js|dist/bundle/[^/]+\.js|schema/fixture-v1\.schema\.json|README\.md|LICENSE|package\.json)$' || true)"
[ -z "$unexpected" ] || fail "unexpected files in the tarball: $unexpected"

mkdir "$work/app" "$work/from-git" "$work/elsewhere"
(cd "$work/app" && npm init -y >/dev/null && npm install --no-audit --no-fund --prefer-offline "$work/$tarball" >/dev/null 2>&1)
command="$work/app/node_modules/.bin/softmax-verify"
[ -x "$command" ] || fail "no softmax-verify in node_modules/.bin"

# The README's CI recipe installs from the git repository, which builds through `prepare`.
(cd "$work/from-git" && npm init -y >/dev/null && npm install --no-audit --no-fund --prefer-offline "git+file://$root" >/dev/null 2>&1) ||
  fail "installing from the git repository failed"
(cd / && "$work/from-git/node_modules/.bin/softmax-verify" | grep -q '^PASS: ') || fail "the git install does not pass the example"

version="$(node -p "require('$root/package.json').version")"
for cwd in "$work/elsewhere" /; do
  cd "$cwd"
  [ "$("$command" --version)" = "$version" ] || fail "--version from $cwd is not $version"
  "$command" > "$work/out.txt" || fail "the built-in example failed from $cwd"
  grep -q '^PASS: ' "$work/out.txt" || fail "the built-in example did not pass from $cwd"
  "$command" check "$root/fixtures" > "$work/check.txt" || fail "check of the project's fixtures failed from $cwd"
  "$command" --x 1,2,3 --g 1,0,0 --reference bignumber --format json > "$work/report.json" || fail "the BigNumber reference failed from $cwd"
  set +e
  "$command" --x 1,abc --g 1,2 2> "$work/err.txt"
  code=$?
  set -e
  [ "$code" = 2 ] || fail "a bad input exited with $code, not 2, from $cwd"
done
echo "check-package: installed from the tarball (and from git), runs from any folder: the example passes, check passes, BigNumber loads, bad input exits 2"
