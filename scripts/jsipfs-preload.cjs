// Loaded with `node --require` before js-ipfs (npm ipfs 0.66), which the storage conformance
// suite runs as an independent Kubo RPC API peer (tests/storage/jsipfs_daemon.py).
//
// 1. Promise.withResolvers: the newer it-queue that npm resolves for js-ipfs calls it, and
//    Node 20 lacks it (Node 22 has it). Same contract: {promise, resolve, reject}.
// 2. With IEXEC_KIT_EXIT_WITH_PARENT=1, exit when the process that started us is gone (its pid
//    is no longer our parent): a test run killed with SIGKILL leaves no daemon behind.
'use strict'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve, reject
      const promise = new this((res, rej) => { resolve = res; reject = rej })
      return { promise, resolve, reject }
    }
  })
}

if (process.env.IEXEC_KIT_EXIT_WITH_PARENT === '1') {
  const parent = process.ppid
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0)
  }, 500).unref()
}
