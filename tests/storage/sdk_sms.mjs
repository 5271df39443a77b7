// Drives iExec's SDK (npm `iexec`, pinned in package.json) against the kit's result proxy and SMS.
// Input (stdin, JSON): {rpcUrl, privateKey, hubAddress, smsURL, resultProxyURL, publicKeyPem}.
// Output (stdout, JSON): what each SDK call returned (or the message it threw).
import { IExec, utils } from 'iexec';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cfg = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const iexec = new IExec(
  { ethProvider: utils.getSignerFromPrivateKey(cfg.rpcUrl, cfg.privateKey) },
  { hubAddress: cfg.hubAddress, smsURL: cfg.smsURL, resultProxyURL: cfg.resultProxyURL },
);
const attempt = async (fn) => {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
};

const address = await iexec.wallet.getAddress();
const out = { address };
out.tokenExistsBefore = await iexec.storage.checkStorageTokenExists(address);
out.token = await iexec.storage.defaultStorageLogin();
out.push = await iexec.storage.pushStorageToken(out.token);
out.tokenExistsAfter = await iexec.storage.checkStorageTokenExists(address);
out.pushAgain = await attempt(() => iexec.storage.pushStorageToken(out.token));
out.token2 = await iexec.storage.defaultStorageLogin();
out.forcePush = await iexec.storage.pushStorageToken(out.token2, { forceUpdate: true });
out.keyExistsBefore = await iexec.result.checkResultEncryptionKeyExists(address);
out.keyPush = await iexec.result.pushResultEncryptionKey(cfg.publicKeyPem);
out.keyExistsAfter = await iexec.result.checkResultEncryptionKeyExists(address);
out.otherExists = await iexec.storage.checkStorageTokenExists(
  '0x000000000000000000000000000000000000dEaD',
);
process.stdout.write(JSON.stringify(out));
