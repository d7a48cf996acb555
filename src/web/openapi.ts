import { HTTP_STATUS, type WebErrorCode } from './errors.ts';

const confidence = { type: 'number', minimum: 0, maximum: 1, description: 'Rounded to 4 decimals.' };
const labelConfidence = {
  type: 'object',
  required: ['label', 'confidence'],
  properties: { label: { type: 'string' }, confidence },
};
const band = { type: ['string', 'null'], enum: ['green', 'orange', 'red', null] };

/** The `analyze --format json` contract (README, "JSON contract"), as the API returns it. */
const reportSchema = {
  type: 'object',
  required: ['file', 'duration_s', 'model', 'segments', 'summary'],
  properties: {
    file: { type: 'string', description: 'The uploaded file name (multipart) or `?name=`, else "upload".' },
    duration_s: { type: 'number' },
    model: {
      type: 'object',
      required: ['id', 'version', 'name', 'fixture'],
      properties: {
        id: { type: 'string' },
        version: { type: 'string' },
        name: { type: 'string' },
        fixture: { type: 'boolean', description: 'True for the test fixture model: not real estimates.' },
      },
    },
    segments: {
      type: 'array',
      description: 'Fixed 5-s windows; silent ones have no emotion.',
      items: {
        type: 'object',
        required: ['start_s', 'end_s', 'silence', 'top', 'probabilities', 'band'],
        properties: {
          start_s: { type: 'number' },
          end_s: { type: 'number' },
          silence: { type: 'boolean' },
          top: { type: 'array', maxItems: 3, items: labelConfidence },
          probabilities: {
            type: ['object', 'null'],
            additionalProperties: confidence,
            description: 'Every label of the model in its output order; null for silence.',
          },
          band: { ...band, description: 'green ≥ 0.8, orange 0.6–0.8, red < 0.6 (top confidence).' },
        },
      },
    },
    summary: {
      type: 'object',
      required: ['dominant', 'distribution', 'speech_segments', 'silent_segments', 'notes'],
      properties: {
        dominant: { oneOf: [labelConfidence, { type: 'null' }] },
        distribution: {
          type: 'array',
          items: {
            type: 'object',
            required: ['label', 'share', 'segments'],
            properties: { label: { type: 'string' }, share: confidence, segments: { type: 'integer' } },
          },
        },
        speech_segments: { type: 'integer' },
        silent_segments: { type: 'integer' },
        notes: { type: 'array', items: { type: 'string' } },
      },
    },
  },
};

/** The error responses of every status in the one status table, each listing its codes. */
function errorResponses(): Record<string, unknown> {
  const byStatus = new Map<number, WebErrorCode[]>();
  for (const [code, status] of Object.entries(HTTP_STATUS) as [WebErrorCode, number][]) {
    if (code === 'request.not_found' || code === 'request.method_not_allowed') continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, codes]) => [
        String(status),
        {
          description: `Refused or failed: ${codes.join(', ')}.`,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['error'],
                properties: {
                  file: {
                    type: 'string',
                    description: "Present when the recording was read and failed: the CLI's failure line.",
                  },
                  error: {
                    type: 'object',
                    required: ['code', 'message'],
                    properties: { code: { type: 'string', enum: codes }, message: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      ]),
  );
}

/** OpenAPI 3.1 description of the API this server really serves (GET /api/v1/openapi.json). */
export function openApiDocument(options: { readonly tokenRequired: boolean }): Record<string, unknown> {
  const security = options.tokenRequired ? [{ bearer: [] }, { basic: [] }] : [];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Annamalai',
      version: '1',
      description:
        'Hears emotions in speech, 5 seconds at a time. Estimates from how the voice sounds, not facts ' +
        'about a person. Audio is analysed in memory and never written to disk.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'WEB_TOKEN' },
        basic: { type: 'http', scheme: 'basic', description: 'Any user name, WEB_TOKEN as the password.' },
      },
      schemas: { Report: reportSchema },
    },
    security,
    paths: {
      '/api/v1/analyze': {
        post: {
          summary: 'Analyse one recording',
          description:
            'The body is the recording (any supported format), or a multipart form with one file. ' +
            'Answers with the JSON contract of `annamalai analyze --format json`. When the server has a ' +
            'database, the result is stored under an anonymous id given in the X-Analysis-Id header.',
          parameters: [
            {
              name: 'name',
              in: 'query',
              required: false,
              schema: { type: 'string' },
              description: 'File name for `file` of a raw body (default "upload").',
            },
          ],
          requestBody: {
            required: true,
            content: {
              'application/octet-stream': { schema: { type: 'string', contentMediaType: 'audio/*' } },
              'audio/*': { schema: { type: 'string', contentMediaType: 'audio/*' } },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', contentMediaType: 'audio/*' } },
                },
              },
            },
          },
          responses: {
            '200': {
              description: 'The analysis.',
              headers: { 'X-Analysis-Id': { schema: { type: 'string' }, description: 'Only when stored.' } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Report' } } },
            },
            ...errorResponses(),
          },
        },
      },
      '/api/v1/about': {
        get: {
          summary: 'The model, the limits and the estimate reminder the page shows',
          responses: { '200': { description: 'About this server.' } },
        },
      },
      '/healthz': {
        get: { summary: 'The process is up', security: [], responses: { '200': { description: 'Up.' } } },
      },
      '/readyz': {
        get: {
          summary: 'The model is loaded and, when configured, the database is writable',
          security: [],
          responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready; says why.' } },
        },
      },
    },
  };
}
