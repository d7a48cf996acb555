/** The report's nine classes, in the order its models (and ours) emit them. */
export const REPORT_LABELS: readonly string[] = [
  'anger',
  'bored',
  'disgust',
  'fear',
  'happy',
  'neutral',
  'question',
  'sad',
  'surprise',
];
