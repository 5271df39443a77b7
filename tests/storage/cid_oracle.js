// Independent CIDs for the storage tests, from npm's ipfs-only-hash / ipfs-unixfs-importer.
// stdin: {"entries": [{"path": "d/a", "file": "/abs/path"} | {"path": "d/empty"}],
//         "options": {...importer options}}
// stdout: {"<path>": "<cid>", ...} for every file and directory the importer yields.
const fs = require('fs')
const { importer } = require('ipfs-unixfs-importer')

const block = {
  get: async cid => { throw new Error(`unexpected block get ${cid}`) },
  put: async () => { throw new Error('unexpected block put') }
}

async function main () {
  const spec = JSON.parse(fs.readFileSync(0, 'utf8'))
  const entries = spec.entries.map(e => e.file
    ? { path: e.path, content: fs.readFileSync(e.file) }
    : { path: e.path })
  const options = Object.assign({ onlyHash: true }, spec.options || {})
  const out = {}
  for await (const { path, cid } of importer(entries, block, options)) {
    out[path] = cid.toString()
  }
  process.stdout.write(JSON.stringify(out))
}
main().catch(err => { console.error(err); process.exit(1) })
