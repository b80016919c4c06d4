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

# Only what users need: the command (and its loader), its bundle (and the code caches of the command's eager chunks) and types, the schema, the README, docs and the licence.
unexpected="$(tar -tzf "$work/$tarball" | sed 's#^package/##' | grep -vE '^(bin/(softmax-verify|load-cli)\.js|bin/package\.json|dist/bundle/[^/]+\.(js|cjs|cjs\.v8cache)|dist/([^/]+/)*[^/]+\.d\.ts|schema/fixture-v1\.schema\.json|docs/[^/]+\.md|python/softmax_verify\.py|README\.md|LICENSE|package\.json)$' || true)"
[ -z "$unexpected" ] || fail "unexpected files in the tarball: $unexpected"

mkdir "$work/app" "$work/from-git" "$work/elsewhere"
(cd "$work/app" && npm init -y >/dev/null && npm install --no-audit --no-fund --prefer-offline "$work/$tarball" >/dev/null 2>&1)
command="$work/app/node_modules/.bin/softmax-verify"
[ -x "$command" ] || fail "no softmax-verify in node_modules/.bin"

# The CI recipe (docs/ci.md) installs from the git repository, which builds through `prepare`.
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
# The dump writer the README offers where `pip install safetensors` is not, from the installed package (python3 with numpy, as CI has).
(cd "$work/elsewhere" && PYTHONPATH="$work/app/node_modules/softmax-verify/python" python3 -c \
  'from softmax_verify import save_dump; save_dump("dump.safetensors", [0.5, 1.5, -1.0], [1, 0, 0], source="check-package")') ||
  fail "python/softmax_verify.py from the installed package cannot write a dump"
(cd "$work/elsewhere" && "$command" --input dump.safetensors | grep -q '^PASS: ') || fail "the installed command does not pass a dump save_dump wrote"
# The library, as a JavaScript or TypeScript project imports it from the installed package.
cat > "$work/app/library.mjs" <<'JS'
import { verify, toJson } from 'softmax-verify';
const x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const g = [11, 12, 13, 14, 15, 16, 17, 18, 19];
const seed = await verify({ x, g });
const right = seed.results.closedForm.grad;
const wrong = await verify({ x, g, expected: { grad: Array.from(right, (v) => v * 1.05) } });
const doc = JSON.parse(toJson(seed));
console.log(JSON.stringify({ seed: seed.passed, wrong: wrong.passed, format: doc.format }));
JS
[ "$(cd "$work/app" && node library.mjs)" = '{"seed":true,"wrong":false,"format":"softmax-verify.report/v2"}' ] ||
  fail "the installed library does not verify the seed (passed) and a wrong grad (not passed)"
cat > "$work/app/consumer.ts" <<'TS'
import { verify, type Report, type VerifyRequest } from 'softmax-verify';
const request: VerifyRequest = { x: Float64Array.of(1, 2, 3), g: [[1], [0], [0]].flat(), dtype: 'float32', dim: -1 };
const report: Report = await verify(request, { reference: 'off' });
const passed: boolean = report.passed;
export { passed };
TS
cat > "$work/app/tsconfig.json" <<'JSON'
{ "compilerOptions": { "strict": true, "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022", "noEmit": true, "skipLibCheck": false, "types": [] }, "files": ["consumer.ts"] }
JSON
(cd "$work/app" && npm pkg set type=module && "$root/node_modules/.bin/tsc" -p tsconfig.json) || fail "a strict TypeScript consumer does not compile against the package's types"

echo "check-package: installed from the tarball (and from git), runs from any folder: the example passes, check passes, BigNumber loads, bad input exits 2; python/softmax_verify.py writes a dump that passes; the library verifies from the installed package and its types compile under strict TypeScript"
