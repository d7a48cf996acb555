// Adds up vitest's JSON report and pytest's JUnit XML into the one closing line CI reads.
import { existsSync, readFileSync } from 'node:fs';

const [vitestPath, junitPath] = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;

if (vitestPath && existsSync(vitestPath)) {
  const report = JSON.parse(readFileSync(vitestPath, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
} else {
  failed += 1;
  console.error('no vitest report found');
}

if (junitPath && existsSync(junitPath)) {
  const xml = readFileSync(junitPath, 'utf8');
  const suite = /<testsuite\b[^>]*>/.exec(xml)?.[0] ?? '';
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(suite)?.[1] ?? 0);
  const pySkipped = attr('skipped');
  const pyFailed = attr('failures') + attr('errors');
  passed += attr('tests') - pySkipped - pyFailed;
  failed += pyFailed;
  skipped += pySkipped;
} else {
  failed += 1;
  console.error('no pytest report found');
}

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
