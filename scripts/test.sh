#!/usr/bin/env bash
# The project's one test command (README): installs what the tests need, then runs every check.
# Needs only the npm registry, PyPI and Debian's apt. Closes with one line "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for tool in ffmpeg:ffmpeg espeak-ng:espeak-ng opusenc:opus-tools sox:sox; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
# The web page's browser tests drive Debian's Chromium at this path (playwright-core never downloads one).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# The storage suite's Postgres half starts throwaway servers from Debian's binaries (test/storage/postgres-server.ts).
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    # Installing postgresql may start Debian's default cluster: the tests never use it, so it is stopped.
    if [[ " ${need_apt[*]} " == *" postgresql "* ]] && command -v pg_lsclusters >/dev/null; then
      pg_lsclusters -h | while read -r version cluster _; do pg_ctlcluster "$version" "$cluster" stop || true; done
    fi
  else
    echo "missing: ${need_apt[*]} (install them with: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm run typecheck
npm run lint
mkdir -p .test-results
# The Postgres tests stop their servers themselves; a run killed midway could leave one: stop it on exit.
stop_test_postgres() {
  for pid_file in "${TMPDIR:-/tmp}"/annamalai-pg-*/data/postmaster.pid; do
    [ -f "$pid_file" ] && kill -QUIT "$(head -n 1 "$pid_file")" 2>/dev/null || true
  done
}
trap stop_test_postgres EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json || status=$?
PYTEST_ADDOPTS="--junitxml=$PWD/.test-results/pytest.xml" make -C training ci || status=$?
npx node scripts/test-summary.ts .test-results/vitest.json .test-results/pytest.xml
exit "$status"
