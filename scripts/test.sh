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
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${need_apt[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "missing: ${need_apt[*]} (install them with: sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm run typecheck
npm run lint
mkdir -p .test-results
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json || status=$?
PYTEST_ADDOPTS="--junitxml=$PWD/.test-results/pytest.xml" make -C training ci || status=$?
npx node scripts/test-summary.ts .test-results/vitest.json .test-results/pytest.xml
exit "$status"
