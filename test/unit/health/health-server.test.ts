import * as http from 'node:http';
import { startHealthServer, type HealthServer } from '../../../sip-gateway/src/health/health-server';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('Function: startHealthServer', () => {
  let server: HealthServer | undefined;
  let ready = true;

  beforeEach(async () => {
    ready = true;
    server = await startHealthServer({ host: '127.0.0.1', port: 0, status: () => ({ ready, details: { mode: 1 } }) });
  });

  afterEach(async () => {
    await server?.close();
  });

  it('CFG-4: GET /health answers 200 with the status details while ready', async () => {
    // Act
    const response = await get(server!.port, '/health');

    // Assess
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'ok', mode: 1 });
  });

  it('CFG-4: GET /health answers 503 while draining', async () => {
    // Prepare
    ready = false;

    // Act
    const response = await get(server!.port, '/health');

    // Assess
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ status: 'draining' });
  });

  it('answers 404 to other paths and methods', async () => {
    // Act
    const other = await get(server!.port, '/metrics');
    const post = await get(server!.port, '/health', 'POST');

    // Assess
    expect([other.status, post.status]).toEqual([404, 404]);
  });
});
