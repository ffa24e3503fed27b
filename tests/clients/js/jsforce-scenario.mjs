// jsforce, unchanged, given an instance URL and a token: the scenario every client runs.
// Prints one JSON object of what each step saw; tests/clients/test_jsforce.py judges it.
// Environment: INSTANCE_URL, ACCESS_TOKEN, PREFIX (names of this run's rows),
// KNOBS_URL (the emulator's own address, only for POST /_emulator/expire), and
// NODE_EXTRA_CA_CERTS (the TLS front's CA).
import jsforce from 'jsforce';

const { INSTANCE_URL, ACCESS_TOKEN, PREFIX, KNOBS_URL } = process.env;
const VERSION = '62.0';
const ROWS = 250;
const PAGE = { 'Sforce-Query-Options': 'batchSize=200' };
const POLL = { pollInterval: 100, pollTimeout: 30000 };

const conn = new jsforce.Connection({
  instanceUrl: INSTANCE_URL,
  accessToken: ACCESS_TOKEN,
  version: VERSION,
});
const seen = {};

async function bulk() {
  const rows = Array.from({ length: ROWS }, (_, n) => ({
    Name: `${PREFIX}${String(n).padStart(3, '0')}`,
    Industry: 'Energy',
  }));
  const loaded = await conn.bulk2.loadAndWaitForResults({
    object: 'Account',
    operation: 'insert',
    input: rows,
    ...POLL,
  });
  seen.bulkInserted = loaded.successfulResults.length;
  seen.bulkFailed = loaded.failedResults.length;
  const stream = await conn.bulk2.query(
    `SELECT Id, Name FROM Account WHERE Name LIKE '${PREFIX}%'`,
    POLL,
  );
  const found = [];
  await new Promise((resolve, reject) => {
    stream.on('record', (record) => found.push(record.Name));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  seen.bulkQueried = found.sort();
}

async function bulkApi1() {
  // Bulk API 1.0: XML jobs and CSV batches, the session in X-SFDC-Session.
  conn.bulk.pollInterval = 100;
  const lastName = `${PREFIX}bulk1`;
  const rows = [0, 1, 2].map((n) => ({ LastName: lastName, Email: `b${n}@example.com` }));
  const loaded = await conn.bulk.load('Contact', 'insert', rows);
  seen.bulk1Inserted = loaded.map((r) => r.success);
  const stream = await conn.bulk.query(
    `SELECT Id, Email FROM Contact WHERE LastName = '${lastName}'`,
  );
  const emails = [];
  await new Promise((resolve, reject) => {
    stream.on('record', (record) => emails.push(record.Email));
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  seen.bulk1Queried = emails.sort();
}

async function paging() {
  const soql = `SELECT Id, Name FROM Account WHERE Name LIKE '${PREFIX}%' ORDER BY Name`;
  const first = await conn.query(soql, { headers: PAGE });
  seen.firstPage = { totalSize: first.totalSize, done: first.done, size: first.records.length };
  const second = await conn.queryMore(first.nextRecordsUrl, { headers: PAGE });
  seen.pagedNames = first.records.concat(second.records).map((r) => r.Name);
  seen.secondDone = second.done;
  const all = await conn.query(soql).run({ autoFetch: true, maxFetch: 10000, headers: PAGE });
  seen.autoFetched = all.records.length;
}

async function describe() {
  const global = await conn.describeGlobal();
  seen.sobjects = global.sobjects.map((s) => s.name);
  const account = await conn.sobject('Account').describe();
  seen.externalIds = account.fields.filter((f) => f.externalId).map((f) => f.name);
}

async function crud() {
  const contacts = conn.sobject('Contact');
  const created = await contacts.create({ LastName: `${PREFIX}crud`, Email: 'c@example.com' });
  seen.created = created.success;
  await contacts.update({ Id: created.id, Email: 'd@example.com' });
  seen.updatedEmail = (await contacts.retrieve(created.id)).Email;
  seen.deleted = (await contacts.destroy(created.id)).success;
  const soql = `SELECT Id, IsDeleted FROM Contact WHERE Id = '${created.id}'`;
  seen.queryAfterDelete = (await conn.query(soql)).totalSize;
  seen.queryAllAfterDelete = (await conn.query(soql, { scanAll: true })).records.map((r) => r.IsDeleted);
}

async function upsert() {
  const accounts = conn.sobject('Account');
  const externalId = `${PREFIX}ext-1`;
  const first = await accounts.upsert({ Name: 'first', External_Id__c: externalId }, 'External_Id__c');
  const second = await accounts.upsert({ Name: 'second', External_Id__c: externalId }, 'External_Id__c');
  seen.upserts = [first.success, second.success];
  const found = await conn.query(`SELECT Name FROM Account WHERE External_Id__c = '${externalId}'`);
  seen.upsertedName = found.records.map((r) => r.Name);
}

async function limits() {
  const limits = await conn.limits();
  seen.dailyApiMax = limits.DailyApiRequests.Max;
  await conn.query('SELECT COUNT() FROM Account');
  seen.limitInfo = conn.limitInfo;
}

async function identity() {
  const id = await conn.identity();
  seen.identity = { username: id.username, userId: id.user_id, rest: id.urls.rest };
  const userinfo = await conn.request('/services/oauth2/userinfo');
  seen.userinfo = { username: userinfo.preferred_username, userId: userinfo.user_id };
}

async function afterSessionEnded() {
  await conn.query('SELECT COUNT() FROM Account');
  const ended = await fetch(`${KNOBS_URL}/_emulator/expire`, { method: 'POST' });
  if (!ended.ok) throw new Error(`expire answered ${ended.status}`);
  try {
    seen.afterExpiry = { totalSize: (await conn.query('SELECT COUNT() FROM User')).totalSize };
  } catch (error) {
    seen.afterExpiry = { error: error.errorCode || error.name };
  }
}

const steps = { bulk, bulkApi1, paging, describe, crud, upsert, limits, identity, afterSessionEnded };
const failures = {};
for (const [name, step] of Object.entries(steps)) {
  try {
    await step();
  } catch (error) {
    failures[name] = `${error.errorCode || error.name}: ${error.message}`;
  }
}
seen.failures = failures;
console.log(JSON.stringify(seen));
