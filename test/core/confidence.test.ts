import { describe, expect, it } from 'vitest';
import { confidenceBand, topLabels } from '../../src/core/confidence.ts';

describe('confidence', () => {
  it('bands at the report thresholds: green from 80 %, orange from 60 %, red below', () => {
    expect([0.95, 0.8, 0.7999, 0.6, 0.5999, 0].map(confidenceBand)).toEqual([
      'green',
      'green',
      'orange',
      'orange',
      'red',
      'red',
    ]);
  });

  it('orders the top 3 by probability and breaks ties by label order', () => {
    expect(topLabels(['a', 'b', 'c', 'd'], [0.1, 0.4, 0.4, 0.1], 3)).toEqual([
      { label: 'b', confidence: 0.4 },
      { label: 'c', confidence: 0.4 },
      { label: 'a', confidence: 0.1 },
    ]);
  });
});
