// customerio-node's APIClient (App API) against SEGMENTS_URL: a people export
// with the documented filter grammar, its status, its download link, the CSV
// behind the link, and an unknown export's error. Prints the results as JSON.
'use strict';
const { APIClient } = require('customerio-node');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

async function main() {
  const api = new APIClient(env('SEGMENTS_APP_API_KEY'), { url: `${env('SEGMENTS_URL')}/v1`, retry: { maxRetries: 0 } });
  const filters = JSON.parse(env('SEGMENTS_FILTERS'));
  const created = await api.createCustomersExport(filters);
  const status = await api.getExport(created.export.id);
  const listed = await api.listExports();
  const link = await api.downloadExport(created.export.id);
  const csv = await (await fetch(link.url)).text();
  let missing;
  try {
    await api.getExport('exp_missing');
  } catch (error) {
    missing = { name: error.name, statusCode: error.statusCode, message: error.message };
  }
  console.log(JSON.stringify({ created, status, listed, csv, missing }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
