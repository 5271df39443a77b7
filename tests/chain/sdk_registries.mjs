// iExec's SDK (npm `iexec` 8.24.0, PoCo 6.1.0's ABI) against the kit's registries on a dev node.
// Usage: node sdk_registries.mjs <rpcUrl> <hubAddress> <privateKeyA> <addressB>
// Prints one JSON object of what each SDK call returned; tests/chain/test_sdk_registries.py
// checks it against the chain. Every call goes through the SDK's own code paths:
// app/dataset/workerpool.deployX (predictX + isRegistered + createX + the Transfer event),
// showX (every view of the asset's ABI, registry() included), countUserX (balanceOf),
// showUserX (tokenOfOwnerByIndex), checkDeployedX (isRegistered), transferX (owner() and
// safeTransferFrom(address,address,uint256)).
import { IExec, utils } from 'iexec';

const [rpcUrl, hubAddress, keyA, addressB] = process.argv.slice(2);
// ethers caches identical JSON-RPC reads for 250 ms: on an automining dev node, back-to-back
// transactions would read a stale nonce; ask the node directly each time instead.
let signer;
const freshNonce = (blockTag = 'pending') =>
  signer.provider
    .send('eth_getTransactionCount', [signer.address, blockTag])
    .then((n) => Number(BigInt(n)));
signer = utils.getSignerFromPrivateKey(rpcUrl, keyA, { getTransactionCount: freshNonce });
const iexec = new IExec({ ethProvider: signer }, { hubAddress, isNative: false });
const me = await iexec.wallet.getAddress();
const str = (x) => (x === undefined || x === null ? x : x.toString());
const out = { me };

const app = {
  owner: me,
  name: 'sdk-app',
  type: 'DOCKER',
  multiaddr: 'registry.example/sdk-app:1.0.0',
  checksum: '0x' + '42'.repeat(32),
  mrenclave: '',
};
out.predictedApp = await iexec.app.predictAppAddress(app);
out.deployApp = await iexec.app.deployApp(app);
try {
  await iexec.app.deployApp(app);
  out.deployAgain = 'deployed twice';
} catch (e) {
  out.deployAgain = e.message;
}
out.checkDeployedApp = await iexec.app.checkDeployedApp(out.deployApp.address);
const shown = await iexec.app.showApp(out.deployApp.address);
out.showApp = { objAddress: shown.objAddress, ...shown.app };
out.countUserApps = str(await iexec.app.countUserApps(me));
const first = await iexec.app.showUserApp(0, me);
out.showUserApp0 = { objAddress: first.objAddress, name: first.app.appName };

const dataset = {
  owner: me,
  name: 'sdk-dataset',
  multiaddr: '/ipfs/QmW2WQi7j6c7UgJTarActp7tDNikE4B2qXtFCfLPdsgaTQ',
  checksum: '0x' + '43'.repeat(32),
};
out.deployDataset = await iexec.dataset.deployDataset(dataset);
const ds = await iexec.dataset.showDataset(out.deployDataset.address);
out.showDataset = { objAddress: ds.objAddress, ...ds.dataset };
out.countUserDatasets = str(await iexec.dataset.countUserDatasets(me));

out.deployWorkerpool = await iexec.workerpool.deployWorkerpool({ owner: me, description: 'sdk-pool' });
const wp = await iexec.workerpool.showWorkerpool(out.deployWorkerpool.address);
out.showWorkerpool = {
  objAddress: wp.objAddress,
  owner: wp.workerpool.owner,
  registry: wp.workerpool.registry,
  workerpoolDescription: wp.workerpool.workerpoolDescription,
  workerStakeRatioPolicy: str(wp.workerpool.workerStakeRatioPolicy),
  schedulerRewardRatioPolicy: str(wp.workerpool.schedulerRewardRatioPolicy),
};
out.countUserWorkerpools = str(await iexec.workerpool.countUserWorkerpools(me));

out.transferApp = await iexec.app.transferApp(out.deployApp.address, addressB);
out.ownerAfterTransfer = (await iexec.app.showApp(out.deployApp.address)).app.owner;
out.countUserAppsAfter = str(await iexec.app.countUserApps(me));
out.countUserAppsOfB = str(await iexec.app.countUserApps(addressB));
try {
  await iexec.app.transferApp(out.deployApp.address, me);
  out.transferBack = 'transferred by a non-owner';
} catch (e) {
  out.transferBack = e.message;
}
process.stdout.write(JSON.stringify(out));
