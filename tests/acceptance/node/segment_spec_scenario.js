// The scenario of tests/acceptance/segment_spec_scenario.py, sent with the
// official @segment/analytics-node SDK pointed at SEGMENTS_URL (its default
// path, /v1/batch). Exits non-zero on any delivery error; prints how many
// batch requests were sent.
'use strict';
const { Analytics } = require('@segment/analytics-node');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const analytics = new Analytics({
    writeKey: env('SEGMENTS_WRITE_KEY'),
    host: env('SEGMENTS_URL'),
    flushAt: 20,
    flushInterval: 60000,
    maxRetries: 0,
  });
  const failures = [];
  let batches = 0;
  analytics.on('error', (error) => failures.push(error));
  analytics.on('http_request', () => { batches += 1; });

  analytics.track({ anonymousId: 'anon-7', event: 'Viewed Offer', properties: { offer: 7 } });
  analytics.identify({
    userId: 'u1',
    anonymousId: 'anon-7',
    traits: { email: 'u1@example.com', plan: 'pro' },
    context: { device: { id: 'dev-u1', type: 'ios', model: 'iPhone15,2' } },
  });
  for (let i = 0; i < 2; i += 1) {
    analytics.track({ userId: 'u1', event: 'Order Completed', properties: { total: 42 }, messageId: 'order-1' });
  }
  analytics.page({ userId: 'u1', name: 'Offer', properties: { url: 'https://shop.example/offers/7' } });
  analytics.screen({ userId: 'u1', name: 'Home', properties: { tab: 'feed' } });
  analytics.alias({ userId: 'u1', previousId: 'anon-8' });
  analytics.group({ userId: 'u1', groupId: 'acme', traits: { name: 'Acme' } });
  await analytics.closeAndFlush({ timeout: 20000 });
  if (failures.length) {
    throw new Error(failures.map((f) => JSON.stringify(f.reason ?? f)).join('\n'));
  }
  console.log(`batches: ${batches}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
