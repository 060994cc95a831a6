// The scenario of tests/acceptance/track_scenario.py, sent with the official
// customerio-node SDK. Configuration comes from the environment; the v2 batch
// operations as JSON in SEGMENTS_BATCH. Exits non-zero with the SDK's error.
'use strict';
const { TrackClient } = require('customerio-node');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const cio = new TrackClient(env('SEGMENTS_SITE_ID'), env('SEGMENTS_TRACK_API_KEY'), {
    url: `${env('SEGMENTS_URL')}/api/v1`,
    retry: { maxRetries: 0 },
  });
  const createdAt = Number(env('SEGMENTS_CREATED_AT'));
  const lastUsed = Number(env('SEGMENTS_LAST_USED'));

  await cio.identify('u1', { email: 'u1@example.com', plan: 'pro', created_at: createdAt });
  await cio.track('u1', { name: 'purchase', data: { amount: 25 }, id: 'evt-1' });
  await cio.track('u1', { name: 'purchase', data: { amount: 25 }, id: 'evt-1' }); // a retry: de-duplicated
  await cio.trackPageView('u1', '/offers/7');
  await cio.addDevice('u1', 'tok-1', 'ios', { last_used: lastUsed, app_version: '2.0' });
  await cio.addDevice('u1', 'tok-2', 'android');
  await cio.deleteDevice('u1', 'tok-2');
  await cio.identify('u2', { email: 'u2@example.com', city: 'Oslo' });
  await cio.track('u2', { name: 'signed_in' });
  await cio.mergeCustomers('id', 'u1', 'email', 'u2@example.com');
  await cio.identify('u3', { plan: 'free' });
  await cio.suppress('u3');
  await cio.identify('u4');
  await cio.destroy('u4');
  await cio.trackAnonymous('anon-1', { name: 'viewed_pricing', data: { source: 'ad' } });
  await cio.batch(JSON.parse(env('SEGMENTS_BATCH')));
}

main().catch((error) => {
  console.error(error.statusCode ? `${error.statusCode} ${error.message} ${JSON.stringify(error.response ?? '')}` : error);
  process.exit(1);
});
